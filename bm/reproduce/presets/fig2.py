"""Figure 2: training curves (loss, memorization) of clean / random labels with and without augmentation."""

from __future__ import annotations

from pathlib import Path

from bm.deep.config import TRAIN_SIZES
from bm.figures.presets import (
    plot_training_curves,
)
from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run, steps_per_epoch
from bm.reproduce.presets.base import Preset, register_preset
from bm.reproduce.presets.common import CONDITIONS, condition
from bm.reproduce.readout import final, metrics_of


def _fig2(plan: Plan, runs: list[Run], folder: Path) -> Result:
    """Training curves of clean / random labels with and without augmentation: loss and memorization."""
    rows, curves = [], []
    for cond, run in zip((c for c, _, _ in CONDITIONS), runs):
        history = metrics_of(plan, run)
        per_epoch = steps_per_epoch(run.config, TRAIN_SIZES[run.config.dataset])
        measured = [r for r in history if "train_acc" in r]
        curves.append(
            (
                cond,
                [(r["epoch"] * per_epoch, r["loss"]) for r in history if "loss" in r],
                [(r["epoch"] * per_epoch, r["train_acc"]) for r in measured],
            )
        )
        rows += [
            {"condition": cond, "step": r["epoch"] * per_epoch, "loss": r.get("loss"), "train_acc": r["train_acc"]}
            for r in measured
        ]
    plot_training_curves(curves, folder / "figure")
    finals = {c: final(plan, r) for (c, _, _), r in zip(CONDITIONS, runs)}
    summary = [
        f"{c}: accuracy on the trained items {f['train_acc']:.3f} after {f['steps']} steps (1 from step "
        f"{f['steps_to_memorize']})"
        for c, f in finals.items()
    ]
    memorized = {c: {k: f[k] for k in ("train_acc", "steps_to_memorize", "steps")} for c, f in finals.items()}
    every = rows[1]["step"] - rows[0]["step"]  # steps between memorization measurements (the first two rows)
    return Result(
        rows,
        ["condition", "step", "loss", "train_acc"],
        summary,
        ["figure"],
        extra={"memorized": memorized, "measured_every": every},
    )


register_preset(
    Preset(
        "fig2",
        "figure",
        "Figure 2",
        "training curves (loss, memorization) of clean / random labels with and without augmentation",
        lambda p: [condition(p, "cifar10", "resnet18", n, da) for _, n, da in CONDITIONS],
        _fig2,
    )
)
