"""Figures 7 and 8: one-knob sweeps of random-label runs (projector width, random classes); `sweep` builds any such
preset (Fig. 11 uses it too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bm.figures.lines import plot_lines
from bm.figures.presets import (
    plot_decomposition,
)
from bm.reproduce.outputs import Result, markdown_table
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset, scale_settings
from bm.reproduce.presets.common import definition_probes_of
from bm.reproduce.readout import RECORD, final, metrics_of


# ----------------------------------------------------------------------------- sweeps: Fig. 7, 8, 11, 12
def _sweep_table(key: str, rows: list[dict]) -> str:
    return markdown_table(
        [
            key,
            "K-NN (bank: trained images, Def. 4.1)",
            "K-NN init",
            "K-NN (bank: all, released code)",
            "K-NN init (bank all)",
            "memorized",
            "first step memorized (accuracy 1)",
            "steps",
        ],
        [
            [
                r[key],
                r["knn_train"],
                r["knn_init_train"],
                r["knn_all"],
                r["knn_init_all"],
                r["train_acc"],
                r["steps_to_memorize"],
                r["steps"],
            ]
            for r in rows
        ],
    )


def sweep(
    key: str, values: Callable[[Plan], tuple], make: Callable[[Plan, object], Run], xlabel: str, xscale: str = "linear"
) -> tuple[Callable, Callable]:
    """runs and finish of a one-knob sweep of random-label runs: final K-NN (both banks) and memorization against the
    knob, every run at the scale's step budget; each run's Definition 4.1 probes by str(knob value) (extra "probed")."""

    def runs(plan: Plan) -> list[Run]:
        return [make(plan, v) for v in values(plan)]

    def finish(plan: Plan, runs: list[Run], folder: Path) -> Result:
        rows = [{key: v, **final(plan, r)} for v, r in zip(values(plan), runs)]
        xs = [r[key] for r in rows]
        init = rows[0]["knn_init_train"]
        plot_lines(
            folder / "figure",
            {
                "K-NN test accuracy (bank: trained images)": (xs, [r["knn_train"] for r in rows]),
                "K-NN test accuracy (bank: all images)": (xs, [r["knn_all"] for r in rows]),
                "memorized (random labels)": (xs, [r["train_acc"] for r in rows]),
            },
            xlabel,
            "accuracy",
            f"random labels + augmentation: {xlabel}",
            {"K-NN at init (trained images)": init, "K-NN at init (all)": rows[0]["knn_init_all"]},
            xscale,
        )
        summary = [
            f"K-NN (bank: trained images) by {key}: "
            + ", ".join(f"{r[key]}: {r['knn_train']:.3f} (init {r['knn_init_train']:.3f})" for r in rows),
            f"K-NN (bank: all) by {key}: "
            + ", ".join(f"{r[key]}: {r['knn_all']:.3f} (init {r['knn_init_all']:.3f})" for r in rows),
            f"memorized by {key}: "
            + ", ".join(f"{r[key]}: {r['train_acc']:.3f}" for r in rows)
            + f" after {rows[0]['steps']} steps",
        ]
        probed = {str(v): definition_probes_of(plan, r) for v, r in zip(values(plan), runs)}
        return Result(
            rows, [key, *RECORD], summary, ["figure"], table=_sweep_table(key, rows), extra={"probed": probed}
        )

    return runs, finish


@dataclass(frozen=True)
class Sweep:
    values: tuple  # the knob's values, in the figure's order


FIG7 = {"full": Sweep((256, 1024, 4096, 16384, 65536)), "mini": Sweep((256, 1024, 4096))}  # projector widths
FIG8 = {"full": Sweep((2, 10, 100, 1000, 10000, "per-sample")), "mini": Sweep((2, 10, 100, "per-sample"))}  # C'

_fig7 = sweep(
    "projector_width",
    lambda p: scale_settings(FIG7, "fig7", p).values,
    lambda p, w: p.augmented(label_noise=1.0, projector_width=w),
    "projector hidden width",
    "log",
)
_fig8_runs, _fig8_sweep = sweep(
    "random_classes",
    lambda p: scale_settings(FIG8, "fig8", p).values,
    lambda p, c: p.augmented(label_noise=1.0, random_classes=None if c == 10 else c),
    "number of random classes C'",
)


def _fig8(plan: Plan, runs: list[Run], folder: Path) -> Result:
    """The classes sweep, and per C' the unbiased Inv and Bias (online_estimates) and the Bias's between-true-class
    ("bad") part (Eq. B.4) over training (decomposition.png)."""
    result = _fig8_sweep(plan, runs, folder)
    plot_decomposition(
        {
            f"C' = {c}": [r for r in metrics_of(plan, run) if "inv_unbiased" in r]
            for c, run in zip(scale_settings(FIG8, "fig8", plan).values, runs)
        },
        folder / "decomposition",
    )
    return replace(result, figures=result.figures + ["decomposition"])


register_preset(Preset("fig7", "figure", "Figure 7", "projector hidden-width sweep (random labels + DA)", *_fig7))


register_preset(
    Preset(
        "fig8",
        "figure",
        "Figure 8",
        "number of random classes, up to one per sample (random labels + DA); Inv, Bias and the bad bias over training",
        _fig8_runs,
        _fig8,
    )
)
