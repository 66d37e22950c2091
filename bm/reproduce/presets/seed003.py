"""Stephenson et al. 2021: MFTMA geometry across layers and epochs of a 50%-noise DA run, and layer rewinding."""

from __future__ import annotations

from pathlib import Path

from bm.analyses.geometry import run_geometry
from bm.analyses.rewind import rewind
from bm.figures.geometry import write_geometry
from bm.figures.rewind import write_rewind
from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset


# ----------------------------------------------------------------------------- seed-003: geometry and rewinding
def _seed003_runs(plan: Plan) -> list[Run]:
    return [plan.augmented(label_noise=0.5, snapshots=plan.scale.snapshots)]


def _seed003(plan: Plan, runs: list[Run], folder: Path) -> Result:
    run = plan.folder(runs[0])
    geo = run_geometry(run, device=plan.device, m=plan.scale.geometry)
    rew = rewind(run, [0, *plan.scale.snapshots], [0, 1, 2, 3], device=plan.device)  # 0: nothing rewound
    write_geometry(geo, folder / "geometry", f"{run.name}: MFTMA per layer (epochs by colour)")
    write_rewind(rew, folder / "rewind")
    rows = [
        {"epoch": e, "layer": layer, "group": g, **{k: v[k] for k in ("capacity", "radius", "dimension")}}
        for e, per in geo["results"].items()
        for layer, groups in per.items()
        for g, v in groups.items()
    ]
    first, last = geo["epochs"][0], geo["epochs"][-1]
    cap = {
        e: {layer: geo["results"][e][layer]["randomized"]["capacity"] for layer in geo["layers"]} for e in (first, last)
    }
    summary = [
        f"capacity of the randomized-label manifolds, epoch {first} -> {last}: "
        + ", ".join(f"{layer} {cap[first][layer]:.3f}->{cap[last][layer]:.3f}" for layer in geo["layers"])
    ] + [
        f"rewind last {r['layers']} to epoch {r['epoch']}: K-NN {r['knn_clean_test']:.3f}, randomized train acc "
        f"{r['randomized_train_acc']:.3f}"
        for r in rew["rows"]
        if r["epoch"] == 0
    ]
    columns = ["epoch", "layer", "group", "capacity", "radius", "dimension"]
    return Result(rows, columns, summary, ["geometry", "rewind"], extra={"rewind": rew["rows"]})


register_preset(
    Preset(
        "seed003",
        "figure",
        "Stephenson et al. line",
        "MFTMA geometry across layers and epochs of a 50%-noise DA run, and layer rewinding",
        _seed003_runs,
        _seed003,
        extra_seconds=lambda p: {"full": 1800.0, "mini": 120.0}.get(p.scale.name, 0.0),  # measured; others: unknown
    )
)
