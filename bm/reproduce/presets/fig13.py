"""Figure 13: the toy model's n x B heatmap (its own runner, bm toy-grid)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from bm.figures.heatmap import grid_heatmap
from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset
from bm.reproduce.presets.common import no_runs
from bm.runs import read_json


def _fig13(plan: Plan, runs: list[Run], folder: Path) -> Result:
    from bm.toy.grid import run_grid
    from bm.toy.summary import headline, read_grid, summarize

    run_grid(plan.scale.toy, folder, progress=plan.progress)
    grid_heatmap(folder)
    grid = read_grid(folder / "grid.csv")
    capacity = read_json(folder / "capacity.json", {"capacity": (int, float)})["capacity"]
    h = headline(grid, capacity)
    rows = [{"n": n, "B": B, **means} for (n, B), means in sorted(summarize(grid).items())]
    summary = [
        f"C_t = {capacity}; n = {h['n']}: K-NN {h['knn_B_max']:.3f} with B = {h['B_max']}, "
        f"{h['knn_B_min']:.3f} without augmentation, {h['knn_init']:.3f} at init",
        f"lowest memorization of the augmented set below C_t: {h['min_mem_aug_below_capacity']:.3f}",
    ]
    seeds = sorted({int(r["seed"]) for r in grid})  # the toy grid's own seeds (its config's)
    return Result(rows, list(rows[0]), summary, ["heatmap"], extra={"seeds": seeds, "capacity": capacity})


def _fig13_command(plan: Plan, folder: Path) -> str:
    config = json.dumps(plan.scale.toy.to_json(), sort_keys=True, separators=(",", ":"))
    return f"bm toy-grid --config {shlex.quote(config)} --out {shlex.quote(str(folder))}"


register_preset(
    Preset(
        "fig13",
        "figure",
        "Figure 13",
        "the toy model's n x B heatmap (bm toy-grid)",
        no_runs,
        _fig13,
        command=_fig13_command,
        extra_seconds=lambda p: {"full": 90.0, "mini": 90.0}.get(p.scale.name, 0.0),  # measured; others: unknown
        seeds="none",
    )
)
