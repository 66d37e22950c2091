"""Figure 12: the fraction of random labels, with and without DA; findings by bm.stats over seeds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bm.figures.lines import plot_lines
from bm.reproduce.outputs import Result, markdown_table
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset, scale_settings
from bm.reproduce.presets.common import condition, definition_probes_of
from bm.reproduce.readout import RECORD, final

FIG12_AUGMENTATIONS = ("none", "DA")  # the table's labels: none, the scale's augmentation


@dataclass(frozen=True)
class Fig12:
    noise_levels: tuple[float, ...]  # fractions of random labels


SETTINGS = {"full": Fig12((0.0, 0.2, 0.4, 0.6, 0.8, 1.0)), "mini": Fig12((0.0, 0.5, 1.0))}


def _levels(plan: Plan) -> tuple[float, ...]:
    return scale_settings(SETTINGS, "fig12", plan).noise_levels


def _fig12_runs(plan: Plan) -> list[Run]:
    return [
        condition(plan, "cifar10", "resnet18", noise, aug == "DA")
        for aug in FIG12_AUGMENTATIONS
        for noise in _levels(plan)
    ]


def _fig12(plan: Plan, runs: list[Run], folder: Path) -> Result:
    levels = _levels(plan)
    rows = [
        {"augmentation": aug, "label_noise": noise, **final(plan, r)}
        for (aug, noise), r in zip([(a, x) for a in FIG12_AUGMENTATIONS for x in levels], runs)
    ]
    init = rows[0]["knn_init_train"]
    series = {
        f"K-NN, {'no augmentation' if aug == 'none' else 'DA'}": (
            list(levels),
            [r["knn_train"] for r in rows if r["augmentation"] == aug],
        )
        for aug in FIG12_AUGMENTATIONS
    }
    plot_lines(
        folder / "figure",
        series,
        "fraction of random labels",
        "K-NN test accuracy (bank: trained images)",
        f"label noise with and without augmentation ({rows[0]['steps']} steps each)",
        {"K-NN at init": init},
    )
    summary = [
        f"{'no aug' if aug == 'none' else 'DA'}: K-NN "
        + ", ".join(f"{r['label_noise']:g}: {r['knn_train']:.3f}" for r in rows if r["augmentation"] == aug)
        + f" (init {init:.3f});"
        " bank all "
        + ", ".join(f"{r['label_noise']:g}: {r['knn_all']:.3f}" for r in rows if r["augmentation"] == aug)
        + "; memorized "
        + ", ".join(f"{r['label_noise']:g}: {r['train_acc']:.3f}" for r in rows if r["augmentation"] == aug)
        for aug in FIG12_AUGMENTATIONS
    ]
    table = markdown_table(
        [
            "augmentation",
            "label noise",
            "K-NN (bank: trained images, Def. 4.1)",
            "K-NN (bank: all, released code)",
            "memorized",
            "first step memorized (accuracy 1)",
            "steps",
        ],
        [
            [
                r["augmentation"],
                r["label_noise"],
                r["knn_train"],
                r["knn_all"],
                r["memorized"],
                r["steps_to_memorize"],
                r["steps"],
            ]
            for r in rows
        ],
    )
    probed = {
        f"{aug}/{noise:g}": definition_probes_of(plan, r)
        for (aug, noise), r in zip([(a, x) for a in FIG12_AUGMENTATIONS for x in levels], runs)
    }
    return Result(
        rows, ["augmentation", "label_noise", *RECORD], summary, ["figure"], table=table, extra={"probed": probed}
    )


register_preset(
    Preset("fig12", "figure", "Figure 12", "fraction of random labels, with and without DA", _fig12_runs, _fig12)
)
