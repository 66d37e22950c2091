"""Figure 3: per-layer K-NN of the random-label DA run, fitted on clean and on random labels, at its stages."""

from __future__ import annotations

from pathlib import Path

from bm.figures.presets import (
    plot_stages,
)
from bm.figures.probe import plot_probe
from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset
from bm.reproduce.presets.common import layer_probes


def _fig3_runs(plan: Plan) -> list[Run]:
    """The random+DA run with the scale's snapshots kept: the same training as the shared run, probed at stages."""
    return [plan.augmented(label_noise=1.0, snapshots=plan.scale.snapshots)]


def _fig3(plan: Plan, runs: list[Run], folder: Path) -> Result:
    """Per-layer K-NN fitted on the clean and on the random labels, at init, at every snapshot and at the end."""
    record = layer_probes(plan, runs[0], ("clean", "random"))
    plot_probe(record, folder / "figure")
    stages = (
        {0: record["results"]["init"]}
        | {
            e: layer_probes(plan, runs[0], ("clean", "random"), f"snapshot_{e}.pt", init=False)["results"]["trained"]
            for e in plan.scale.snapshots
        }
        | {runs[0].config.epochs: record["results"]["trained"]}
    )
    rows = [{"epoch": e, "layer": layer, **values} for e, per in stages.items() for layer, values in per.items()]
    names = record["layers"]
    plot_stages(stages, names, folder / "stages")
    t, i = record["results"]["trained"], record["results"]["init"]
    summary = [
        f"embedding K-NN (clean fit) {t['embedding']['knn_clean_test']:.3f} trained vs "
        f"{i['embedding']['knn_clean_test']:.3f} init; O (random fit, train) {t['O']['knn_random_train']:.3f} "
        f"vs embedding {t['embedding']['knn_random_train']:.3f}"
    ] + [
        f"epoch {e}: random fit "
        + ", ".join(f"{n} {per[n]['knn_random_train']:.3f}" for n in names)
        + "; clean fit "
        + ", ".join(f"{n} {per[n]['knn_clean_test']:.3f}" for n in names)
        for e, per in stages.items()
    ]
    return Result(
        rows,
        ["epoch", "layer", "knn_clean_test", "knn_random_train"],
        summary,
        ["figure", "stages"],
        extra={"flatten": record["flatten"]},
    )


register_preset(
    Preset(
        "fig3",
        "figure",
        "Figure 3",
        "per-layer K-NN of the random+DA ResNet18 (CIFAR-10), fitted on clean vs "
        "random labels, incl. projector P and O, at init, at the scale's snapshots and at the end",
        _fig3_runs,
        _fig3,
    )
)
