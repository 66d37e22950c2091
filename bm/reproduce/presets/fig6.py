"""Figure 6: normalized invariance per layer over training and the K-NN error of the random-label DA run."""

from __future__ import annotations

from pathlib import Path

from bm.figures.presets import (
    plot_invariance,
)
from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset
from bm.reproduce.presets.common import definition_probes_of, random_da
from bm.reproduce.readout import banks, metrics_of

FIG6_MODELS = ("ResNet18", "MLP")  # the runs' keys in the table and the probe records


def _fig6_runs(plan: Plan) -> list[Run]:
    """The random+DA ResNet18 and the same protocol with an MLP encoder (Fig. 6 sets them side by side)."""
    return random_da(plan) + [plan.augmented(model="mlp", label_noise=1.0)]


def _fig6(plan: Plan, runs: list[Run], folder: Path) -> Result:
    rows, summary = [], []
    for run, arch in zip(runs, FIG6_MODELS):
        probes = [r for r in metrics_of(plan, run) if "invariance" in r]
        layers = list(probes[0]["invariance"])
        mine = [
            {
                "model": arch,
                "epoch": r["epoch"],
                "knn_error": 1 - banks(r, run.config).get("train", r["knn"]),
                **r["invariance"],
            }
            for r in probes
        ]
        first, last = mine[0], mine[-1]
        summary += [
            f"{arch}, epoch {first['epoch']} -> {last['epoch']}: "
            + ", ".join(f"{n} {first[n]:.3f}->{last[n]:.3f}" for n in layers)
            + f"; K-NN error (bank: trained images) "
            f"{first['knn_error']:.3f} -> {last['knn_error']:.3f}"
        ]
        rows += mine
    plot_invariance(rows, folder / "figure")
    columns = ["model", "epoch", "knn_error"] + list(
        dict.fromkeys(k for r in rows for k in r if k not in ("model", "epoch", "knn_error"))
    )
    probed = {arch: definition_probes_of(plan, run) for run, arch in zip(runs, FIG6_MODELS)}
    return Result(rows, columns, summary, ["figure"], extra={"probed": probed})


register_preset(
    Preset(
        "fig6",
        "figure",
        "Figure 6",
        "normalized invariance per layer over epochs and the K-NN error of the "
        "random+DA run, ResNet18 beside an MLP encoder",
        _fig6_runs,
        _fig6,
    )
)
