"""Stephenson et al. 2021, Sec. 5: "close to initialization, the gradient contribution from permuted examples are
small". The seed-003 run (half of the labels permuted, the scale's augmentation) trained with the gradient probe
(`gradient_probe`: the permuted and the clean images' summed gradients at every probe, bm.deep.measure) at a finer
probe cadence, and with snapshots at the early epochs that cadence misses; the figure draws the permuted / clean
ratio over training beside the permuted images' fit (bm.figures.rewind.plot_gradients); docs/findings.md tests the
claim over seeds (bm.findings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bm.analyses.gradients import gradients_of_run
from bm.figures.rewind import write_gradients
from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset, scale_settings

__all__ = ["GradientProbe", "SETTINGS"]


@dataclass(frozen=True)
class GradientProbe:
    """The measurement at one scale (ours: the papers give no cadence)."""

    label_noise: float  # fraction of the labels permuted (seed 003's)
    probe_steps: int  # optimizer steps between probes
    snapshots: tuple[int, ...]  # early epochs measured from saved weights


SETTINGS = {  # by scale name; a registered scale adds its own
    "full": GradientProbe(label_noise=0.5, probe_steps=10 * 196, snapshots=(1, 2, 3, 5)),
    "mini": GradientProbe(label_noise=0.5, probe_steps=100, snapshots=(1, 3, 10)),
}


def _run(plan: Plan) -> Run:
    g = scale_settings(SETTINGS, "gradients", plan)
    return plan.augmented(
        label_noise=g.label_noise, gradient_probe=True, probe_steps=g.probe_steps, snapshots=g.snapshots
    )


def _finish(plan: Plan, runs: list[Run], folder: Path) -> Result:
    run = _run(plan)
    record = gradients_of_run(plan.folder(run), list(run.config.snapshots))
    write_gradients(record, folder / "gradients")
    rows = [
        {
            "epoch": int(e),
            "ratio": r["total"]["ratio"],
            "label_ratio": r["label_total"]["ratio"],
            "cos_permuted_full": r["label_total"]["cos_permuted_full"],
            "permuted_fit": r["permuted_fit"],
        }
        for e, r in record["epochs"].items()
    ]
    fitted = next((r["epoch"] for r in rows if r["permuted_fit"] >= 0.5), None)
    summary = [
        f"label term |g permuted| / |g clean|: {rows[0]['label_ratio']:.3f} at epoch {rows[0]['epoch']}, "
        + (f"half of the permuted images fitted first at epoch {fitted}" if fitted is not None else "never half fitted")
    ]
    columns = ["epoch", "ratio", "label_ratio", "cos_permuted_full", "permuted_fit"]
    return Result(rows, columns, summary, ["gradients"], extra={"gradients": record, "half_fitted": fitted})


register_preset(
    Preset(
        "gradients",
        "figure",
        "Stephenson et al. Sec. 5",
        "the summed gradient of the permuted against the clean examples over training (50% permuted labels, DA), "
        "beside the epoch at which the permuted examples start being fitted",
        lambda plan: [_run(plan)],
        _finish,
    )
)
