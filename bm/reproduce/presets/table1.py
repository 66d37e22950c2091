"""Table 1: per-layer K-NN (clean labels) of the random-label network trained without augmentation, against init."""

from __future__ import annotations

from pathlib import Path

from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset
from bm.reproduce.presets.common import layer_probes, random_no_da


def _table1(plan: Plan, runs: list[Run], folder: Path) -> Result:
    """Per-layer K-NN (clean labels, test accuracy) of the random-label network trained without augmentation."""
    record = layer_probes(plan, runs[0], ("clean",))["results"]
    rows = [
        {
            "layer": n,
            "knn_trained": record["trained"][n]["knn_clean_test"],
            "knn_init": record["init"][n]["knn_clean_test"],
        }
        for n in record["trained"]
    ]
    for r in rows:
        r["change"] = r["knn_trained"] - r["knn_init"]
    summary = [
        "clean K-NN by layer, trained (random labels, no augmentation) / init: "
        + ", ".join(f"{r['layer']} {r['knn_trained']:.3f}/{r['knn_init']:.3f}" for r in rows)
    ]
    return Result(rows, ["layer", "knn_trained", "knn_init", "change"], summary)


register_preset(
    Preset(
        "table1",
        "table",
        "Table 1",
        "per-layer K-NN (clean labels) of the random-label network trained without augmentation, against init",
        random_no_da,
        _table1,
    )
)
