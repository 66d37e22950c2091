"""Table 4: i.i.d. augmentations (s anchors, B same-class images each) against the data set with DA."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bm.reproduce.outputs import Result, markdown_table
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset, scale_settings
from bm.reproduce.presets.common import definition_probes_of
from bm.reproduce.readout import RECORD, final


@dataclass(frozen=True)
class Table4:
    s: int  # anchors
    B: int  # same-class images per anchor (the anchor itself first)


SETTINGS = {"full": Table4(1000, 50), "mini": Table4(90, 50)}  # Table 4: s = 1000, B = 50


def _iid(plan: Plan) -> tuple[int, int]:
    t = scale_settings(SETTINGS, "table4", plan)
    return t.s, t.B


TABLE4_KEYS = ("iid/clean", "iid/random", "DA/clean", "DA/random")  # the runs' keys in the probe records


def _table4_runs(plan: Plan) -> list[Run]:
    s, B = _iid(plan)
    iid = [plan.run(label_noise=noise, augment="iid", views=B, iid_subset=s) for noise in (0.0, 1.0)]
    return iid + [plan.augmented(label_noise=noise) for noise in (0.0, 1.0)]


def _table4(plan: Plan, runs: list[Run], folder: Path) -> Result:
    s, B = _iid(plan)
    names = [f"i.i.d. augmentations (s = {s}, B = {B})"] * 2 + [f"{plan.scale.base.subset or 'all'} images + DA"] * 2
    rows = [
        {"protocol": name, "labels": labels, **final(plan, run)}
        for name, labels, run in zip(names, ("clean", "random") * 2, runs)
    ]
    header = [
        "protocol",
        "labels",
        "K-NN (bank: trained images, Def. 4.1)",
        "K-NN (bank: all, released code)",
        "K-NN init (trained / all)",
        "memorized (trained items)",
        "first step memorized (accuracy 1)",
        "steps",
    ]
    wide = [
        [
            r["protocol"],
            r["labels"],
            r["knn_train"],
            r["knn_all"],
            f"{r['knn_init_train']:.3f} / {r['knn_init_all']:.3f}",
            r["train_acc"],
            r["steps_to_memorize"],
            r["steps"],
        ]
        for r in rows
    ]
    summary = [
        f"{r['protocol']}, {r['labels']} labels: K-NN {r['knn_train']:.3f} (bank all {r['knn_all']:.3f}; init "
        f"{r['knn_init_train']:.3f} / {r['knn_init_all']:.3f}), memorized {r['train_acc']:.3f} after "
        f"{r['steps']} steps"
        for r in rows
    ]
    probed = {key: definition_probes_of(plan, run) for key, run in zip(TABLE4_KEYS, runs)}
    return Result(
        rows, ["protocol", "labels", *RECORD], summary, table=markdown_table(header, wide), extra={"probed": probed}
    )


register_preset(
    Preset(
        "table4",
        "table",
        "Table 4",
        "i.i.d. augmentations (same-class images) under clean and random labels vs the full data set with DA",
        _table4_runs,
        _table4,
    )
)
