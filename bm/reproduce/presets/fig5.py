"""Figure 5: capacity C_t, then finite augmentation sets against B (its own runner, bm capacity deep), once per seed
(the seed of the labels, initialization and views of every run of the search and the sweep)."""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import replace
from pathlib import Path

from bm.analyses.capacity import capacity_and_sweep
from bm.deep.config import CapacitySweepConfig, DeepTrainConfig, ModelConfig
from bm.figures.sweep import plot_sweep
from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset, scale_settings
from bm.reproduce.presets.common import no_runs


def _sweep(width: int, projector_width: int, batch_size: int, lr: float, **sweep) -> CapacitySweepConfig:
    model = ModelConfig(width=width, projector_width=projector_width, num_classes=0)
    return CapacitySweepConfig(DeepTrainConfig(model=model, batch_size=batch_size, lr=lr), **sweep)


SETTINGS = {  # Fig. 5's model, budget and sweep at each scale (data_dir and device: the plan's)
    # "the same setup as in Sec. 4" (ResNet18, CIFAR-10, Table 6) for t = 5000 x 196 steps
    "full": _sweep(
        64, 65536, 256, 4e-3, steps=5000 * 196, n=50000, Bs=(1, 2, 4, 8, 16, 32, 64), n_max=50000, repeats=2
    ),
    "mini": _sweep(4, 512, 128, 1e-3, steps=100, n=64, Bs=(1, 2, 4, 8, 16), n_max=1024, repeats=2),
}


# ----------------------------------------------------------------------------- Fig. 5: its own runner
def _fig5_config(plan: Plan) -> CapacitySweepConfig:
    f = scale_settings(SETTINGS, "fig5", plan)
    return replace(f, train=replace(f.train, data_dir=str(plan.data_dir), device=plan.device, seed=plan.seed))


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
    f = scale_settings(SETTINGS, "fig5", plan)
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
    )
)
