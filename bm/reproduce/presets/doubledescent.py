"""Stephenson et al. 2021, Sec. 5 / Nakkiran et al. 2019: model-wise double descent and the geometry under it. A width
sweep of Nakkiran et al.'s 4-layer CNN (`cnn4`, widths k, 2k, 4k, 8k, the projector 8k wide) on random labels for a
fraction of the training images, no augmentation, one optimizer-step budget for every width; per width the fit of the
permuted and of the kept examples, the test accuracy, the parameter count (bm.analyses.doubledescent) and each
layer's MFTMA capacity, radius and dimension of the permuted and of the kept examples' manifolds at the final weights
(bm.analyses.geometry); the interpolation threshold (the smallest width that fits every training label)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bm.analyses.doubledescent import fit_by_group_of_run, interpolation_threshold
from bm.analyses.geometry import run_geometry
from bm.figures.doubledescent import plot_double_descent
from bm.reproduce.outputs import Result, markdown_table
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset, scale_settings

__all__ = ["DoubleDescent", "SETTINGS"]


@dataclass(frozen=True)
class DoubleDescent:
    """The sweep at one scale (ours where the papers differ: Nakkiran et al. train 4000 epochs with Adam 1e-4 and
    15-20% noise; Stephenson et al. permute a fraction of the labels)."""

    widths: tuple[int, ...]  # k of cnn4
    n: int  # training images (0: every one)
    label_noise: float  # fraction of the labels permuted (uniformly random)
    steps: int  # optimizer steps of every width


SETTINGS = {  # by scale name; a registered scale adds its own
    "full": DoubleDescent(widths=(1, 2, 4, 8, 16, 32, 64), n=0, label_noise=0.2, steps=4000 * 196),
    "mini": DoubleDescent(widths=(1, 2, 4, 8, 16), n=1000, label_noise=0.2, steps=6000),
}


def _settings(plan: Plan) -> DoubleDescent:
    return scale_settings(SETTINGS, "doubledescent", plan)


def _width_run(plan: Plan, width: int) -> Run:
    d = _settings(plan)
    return plan.run(
        model="cnn4",
        width=width,
        projector_width=8 * width,
        label_noise=d.label_noise,
        augment="none",
        subset=d.n,
        steps=d.steps,
    )


def _runs(plan: Plan) -> list[Run]:
    return [_width_run(plan, w) for w in _settings(plan).widths]


def _finish(plan: Plan, runs: list[Run], folder: Path) -> Result:
    d = _settings(plan)
    rows, geometry = [], {}
    for width in d.widths:
        run = _width_run(plan, width)  # by what it is
        fit = fit_by_group_of_run(plan.folder(run), plan.data[run.config.dataset], plan.device)
        geo = run_geometry(plan.folder(run), epochs=[run.config.epochs], device=plan.device, m=plan.scale.geometry)
        geometry[width] = geo["results"][str(run.config.epochs)]
        rows.append({"width": width, **fit})
    threshold = interpolation_threshold([r["width"] for r in rows], [r["train_fit"] for r in rows])
    plot_double_descent(rows, geometry, threshold, folder / "figure")
    columns = ["width", "params", "train_fit", "permuted_fit", "kept_fit", "test_acc", "permuted", "kept"]
    summary = [f"interpolation threshold: {'width ' + str(threshold) if threshold else 'none fits'}"] + [
        f"width {r['width']} ({r['params']} parameters): train fit {r['train_fit']:.3f} (permuted "
        f"{r['permuted_fit'] if r['permuted_fit'] is None else round(r['permuted_fit'], 3)}), test accuracy "
        f"{r['test_acc']:.3f}"
        for r in rows
    ]
    table = markdown_table(columns, [[r[c] for c in columns] for r in rows])
    return Result(rows, columns, summary, ["figure"], table=table, extra={"threshold": threshold, "geometry": geometry})


register_preset(
    Preset(
        "doubledescent",
        "figure",
        "Stephenson et al. Sec. 5",
        "model-wise double descent of a 4-layer CNN under permuted labels, and the MFTMA geometry of the permuted and "
        "kept examples against width",
        _runs,
        _finish,
    )
)
