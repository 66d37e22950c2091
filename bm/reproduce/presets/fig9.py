"""Figure 9: transfer of the CIFAR-10 random-label embeddings (with and without DA) to CIFAR-100 and STL-10."""

from __future__ import annotations

from pathlib import Path

from bm.figures.presets import (
    plot_transfer,
)
from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset
from bm.reproduce.presets.common import embedding_probe_of, random_da, random_no_da

TRANSFER = ("cifar100", "stl10")


def _fig9_runs(plan: Plan) -> list[Run]:
    return random_da(plan) + random_no_da(plan)


def _fig9(plan: Plan, runs: list[Run], folder: Path) -> Result:
    (da,), (no_da,) = random_da(plan), random_no_da(plan)  # the runs by what they are
    weights = (
        ("random + DA", da, "checkpoint"),
        ("random, no DA", no_da, "checkpoint"),
        ("init", da, "init"),
    )
    rows = [
        {"target": target or "cifar10", "weights": w, "knn": embedding_probe_of(plan, run, f"{file}.pt", target=target)}
        for target in (None, *TRANSFER)
        for w, run, file in weights
    ]
    targets = ["cifar10", *TRANSFER]
    plot_transfer(rows, targets, [w for w, _, _ in weights], folder / "figure")
    by = {(r["target"], r["weights"]): r["knn"] for r in rows}
    summary = [
        f"{t}: K-NN {by[t, 'random + DA']:.3f} random + DA vs {by[t, 'random, no DA']:.3f} without DA vs "
        f"{by[t, 'init']:.3f} init"
        for t in targets
    ]
    return Result(rows, ["target", "weights", "knn"], summary, ["figure"])


register_preset(
    Preset(
        "fig9",
        "figure",
        "Figure 9",
        "transfer: K-NN of the CIFAR-10 random-label embeddings, with and without DA, on CIFAR-100 and STL-10",
        _fig9_runs,
        _fig9,
        extra_datasets=TRANSFER,
    )
)
