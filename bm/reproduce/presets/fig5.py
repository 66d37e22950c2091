"""Figure 5: capacity C_t, then finite augmentation sets against B (its own runner, bm capacity deep)."""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import replace
from pathlib import Path

from bm.analyses.capacity import capacity_and_sweep
from bm.deep.config import CapacitySweepConfig
from bm.figures.sweep import plot_sweep
from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset
from bm.reproduce.presets.common import no_runs


# ----------------------------------------------------------------------------- Fig. 5 and Fig. 13: own runners
def _fig5_config(plan: Plan) -> CapacitySweepConfig:
    f = plan.scale.fig5
    return replace(f, train=replace(f.train, data_dir=str(plan.data_dir), device=plan.device))


def _fig5(plan: Plan, runs: list[Run], folder: Path) -> Result:
    config = _fig5_config(plan)
    record = capacity_and_sweep(config, plan.data["cifar10"], folder)
    plot_sweep(record, folder / "sweep")
    rows = [
        {
            **r,
            "capacity": record["capacity"],
            "knn_init": record["knn_init"],
            "knn_init_train": record["knn_init_train"],
        }
        for r in record["rows"]
    ]
    summary = [
        f"C_t = {record['capacity']} (t = {config.steps} steps), n = {record['n']}, K-NN at init "
        f"{record['knn_init']:.3f} (bank all) / {record['knn_init_train']:.3f} (bank: the n images)"
    ] + [
        f"labels {'preserved' if p else 'own'}: "
        + ", ".join(
            f"B={r['B']} mem {r['memorization']:.2f} knn {r['knn']:.3f} / {r['knn_train']:.3f}"
            for r in rows
            if r["preserve_labels"] == p
        )
        for p in (False, True)
    ]
    return Result(
        rows,
        ["B", "preserve_labels", "nB", "memorization", "knn", "knn_train", "capacity", "knn_init", "knn_init_train"],
        summary,
        ["sweep"],
    )


def _fig5_seconds(plan: Plan) -> float:
    """Fig. 5's work: 2 |Bs| sweep runs and about 2 repeats log2(n_max) capacity runs, t steps of a batch each."""
    f = plan.scale.fig5
    runs = 2 * len(f.Bs) + 2 * f.repeats * math.log2(f.n_max)
    return runs * f.steps * f.train.batch_size / plan.scale.images_per_second


def _fig5_command(plan: Plan, folder: Path) -> str:
    config = json.dumps(_fig5_config(plan).to_json(), sort_keys=True, separators=(",", ":"))
    return f"bm capacity deep --config {shlex.quote(config)} --out {shlex.quote(str(folder))}"


register_preset(
    Preset(
        "fig5",
        "figure",
        "Figure 5",
        "capacity C_t, then finite augmentation sets: memorization (labels not "
        "preserved) and K-NN (preserved) against B",
        no_runs,
        _fig5,
        command=_fig5_command,
        extra_seconds=lambda p: _fig5_seconds(p),
        seeds="none",
    )
)
