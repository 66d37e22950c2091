"""`bm reproduce --list`: every preset with its run counts and expected times at each scale, and the full-scale cost
of the benign transition where a scale carries a measured extrapolation (Scale.transition)."""

from __future__ import annotations

from pathlib import Path

from bm.deep.config import TRAIN_SIZES
from bm.reproduce.presets import PRESETS
from bm.reproduce.runner import estimate_seconds, make_plan
from bm.reproduce.scales import SCALES

__all__ = ["duration", "listing"]

COLUMNS = (("full", "table6"), ("full", "released"), ("mini", None))  # (scale, recipe) of the time columns


def duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{max(1, round(seconds / 60))} min"


def listing(data_dir: Path, out: Path) -> list[str]:
    """The lines of the preset table, the rate each time assumes and the transition estimates."""
    lines = [f"{'preset':8s} {'paper':10s} {'runs full/mini':>14s} {'table6':>8s} {'released':>8s} {'mini':>8s}  what"]
    for preset in PRESETS.values():
        plans = [make_plan(preset.name, s, data_dir, out, recipe=r)[1] for s, r in COLUMNS]
        runs = "/".join(str(len(preset.all_runs(p))) if preset.all_runs(p) else "own" for p in (plans[0], plans[2]))
        lines.append(
            f"{preset.name:8s} {preset.title[:10]:10s} {runs:>14s} "
            + " ".join(f"{duration(estimate_seconds(preset, p)):>8s}" for p in plans)
            + f"  {preset.what}"
        )
    lines.append(
        "times: "
        + "; ".join(
            f"{s.name}: {s.images_per_second:.0f} training images/s at 32 x 32, {s.rate_note}" for s in SCALES.values()
        )
        + ". Every model and width is timed at its scale's rate, measured for the scale's ResNet18 alone: the "
        "doubledescent CNN and the phase's other widths are estimates (width 16 takes ~3.6x the step time of width 4 "
        "on this CPU: benchmarks/train_step.py); the phase's time includes each seed's C_t search at its most runs. "
        "Runs shared between presets train once. table6 / released: the full-scale recipes (--recipe)."
    )
    n = TRAIN_SIZES["cifar10"]
    for s in SCALES.values():
        t, per_epoch = s.transition, n * (s.image_size or 32) ** 2 / 32**2 / s.images_per_second
        epochs = s.steps / -(-n // s.base.batch_size)
        if t is not None:
            budget, why = t.budget()
            rule = f" ({why})" if epochs == budget else ""
            lines.append(
                f"{s.name}: the benign transition ({t.crossing}) is extrapolated at {t.epochs[0]:.3g} epochs "
                f"(95% {t.epochs[1]:.3g} .. {t.epochs[2]:.3g}; {duration(t.epochs[0] * per_epoch)} at the "
                f"rate above) from {t.source}; every {s.name}-scale run trains {epochs:.0f} epochs' steps{rule}"
            )
        elif s.name == "full":
            lines.append(
                f"full: every full-scale run trains {epochs:.0f} epochs' steps, the floor (Sec. 4's ~3000 epochs "
                "without progress, plus 2000): no committed measurement of the benign transition sets it yet "
                "(bm reproduce phase --scale mini measures it)"
            )
    return lines
