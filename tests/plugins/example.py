"""A user's plugin, outside the bm package: one model, one data set, two augmentation protocols (online; a fixed set
of views with its own option), one probe, one scale and one preset, each registered in a few lines (BM_PLUGINS=tests.plugins.example)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bm.analyses.probing import probe_layers, register_probe
from bm.configs import with_changes
from bm.deep.catalog import DatasetEntry, ModelEntry, register_dataset, register_model
from bm.deep.datasets import DatasetError, ImageSet
from bm.deep.protocols import register_protocol
from bm.reproduce.outputs import Result
from bm.reproduce.presets import Preset, register_preset
from bm.reproduce.readout import final
from bm.reproduce.scales import SCALES, register_scale
from tests.plugins.functions import centroid, hflip, shifts

SIDE, CLASSES = 16, 4


def read_stripes(root: Path, split: str) -> ImageSet:
    """stripes/{train,test}_x.npy (uint8 N x 3 x 16 x 16) and _y.npy (integers in [0, 4)), read without pickles."""
    try:
        x, y = (np.load(root / f"{split}_{part}.npy", allow_pickle=False) for part in ("x", "y"))
    except (OSError, ValueError) as e:
        raise DatasetError(f"cannot read {root / split}_*.npy: {e}") from None
    if (
        x.dtype != np.uint8
        or x.shape[1:] != (3, SIDE, SIDE)
        or y.shape != (len(x),)
        or not np.isin(y, range(CLASSES)).all()
    ):
        raise DatasetError(
            f"{root}: {split}_x.npy must be uint8 (N, 3, {SIDE}, {SIDE}), {split}_y.npy N labels in [0, {CLASSES})"
        )
    return ImageSet(
        torch.from_numpy(x), torch.from_numpy(y.astype(np.int64)), tuple(map(str, range(CLASSES))), "stripes"
    )


def write_stripes(folder: Path, n_train: int = 32, n_test: int = 16, seed: int = 0) -> None:
    """Images whose class sets which rows are bright: an easy set for the tests."""
    rng = np.random.default_rng(seed)
    (folder / "stripes").mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        y = rng.integers(0, CLASSES, n)
        x = rng.integers(0, 60, (n, 3, SIDE, SIDE))
        for i, c in enumerate(y):
            x[i, :, c::CLASSES] += 150
        np.save(folder / "stripes" / f"{split}_x.npy", x.astype(np.uint8))
        np.save(folder / "stripes" / f"{split}_y.npy", y)


def tiny_cnn(cfg) -> tuple[list[tuple[str, nn.Module]], int]:
    return [
        ("conv", nn.Sequential(nn.Conv2d(3, cfg.width, 3, padding=1), nn.ReLU())),
        ("embedding", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())),
    ], cfg.width


register_dataset("stripes", DatasetEntry("stripes", "stripes/{train,test}_{x,y}.npy", SIDE, 32, read_stripes))
register_model("tiny-cnn", ModelEntry(tiny_cnn))


register_protocol("hflip")(hflip)
register_protocol(
    "shifts", options=("views",), items=lambda cfg, n: n * cfg.views, parts=lambda cfg: [f"B{cfg.views}"]
)(shifts)
register_probe("centroid")(centroid)


register_scale(
    replace(
        with_changes(
            SCALES["mini"],
            {
                "base.model.width": 8,
                "base.model.projector_width": 16,
                "base.batch_size": 8,
                "base.subset": 32,
                "base.subset_order": "first",
            },
        ),
        name="example",
        steps=8,
        image_size=0,
        probe_steps=8,
        train_acc_steps=4,
        checkpoint_steps=4,
    )
)


def _runs(plan):
    return [plan.run(dataset="stripes", model="tiny-cnn", augment="hflip", label_noise=1.0, probe_k=3)]


def _finish(plan, runs, folder):
    end = final(plan, runs[0])
    probed = probe_layers(plan.folder(runs[0]), ["embedding"], ("clean", "centroid"), k=3)["results"]["trained"]
    row = {"knn_train": end["knn_train"], "memorized": end["train_acc"], **probed["embedding"]}
    return Result(
        [row], list(row), [f"stripes: K-NN {row['knn_train']:.3f}, centroid {row['centroid_clean_test']:.3f}"]
    )


register_preset(
    Preset(
        "example",
        "table",
        "a user's preset",
        "random labels on stripes with a plugin model, protocol and probe",
        _runs,
        _finish,
    )
)
