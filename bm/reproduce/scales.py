"""The two scales of `bm reproduce`, the paper's (Table 6, a GPU) and a CPU-sized one, and the full-scale recipes.

A scale fixes everything a preset does not vary: the encoder width, the projector width, epochs,
batch size, learning rate, how many training images, the image side, which augmentation "DA"
means, and the values each sweep visits. The full-scale sweep values and the Fig. 5 budget are
ours where the paper gives no number; the README lists them.

Random-label runs with augmentation train for `long_epochs`: the paper (Sec. 4) sees neither the
loss nor the probe move for about 3000 epochs before a rapid improvement, so they get more than
that; every other run (clean labels, or no augmentation, which memorize early) trains `epochs`.

A recipe is a named set of changes to the full scale (`RECIPES`): `table6` is the paper's Table 6
(the default), `released` the authors' released code as its README runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bm.errors import BMError

__all__ = ["RECIPES", "Recipe", "SCALES", "Scale", "scale_for"]


@dataclass(frozen=True)
class Scale:
    name: str
    width: int  # encoder base width (ResNet18 / VGG: 64 as published)
    projector_width: int  # hidden width w of the projector
    epochs: int  # clean-label runs and runs without augmentation
    long_epochs: int  # random-label runs with augmentation (label noise > 0, augment != none)
    batch_size: int
    lr: float
    subset: int  # training images (0: all)
    image_size: int  # images resized to this side (0: the data set's own)
    da: str  # the augmentation protocol "DA" stands for in the presets
    mix_targets: bool  # mixup mixes the targets too (the paper) or keeps the first image's (the released code)
    probe_every: int
    train_acc_every: int  # epochs between accuracies on the clean training images
    knn_bank: str  # K-NN memory bank: the images trained on ("train") or every training image ("all")
    checkpoint_every: int
    probe_pool: bool  # per-layer probes (Fig. 3): average-pool convolutional maps (memory at full scale)
    noise_levels: tuple[float, ...]  # Fig. 12
    projector_widths: tuple[int, ...]  # Fig. 7
    random_classes: tuple[int | str, ...]  # Fig. 8
    randaugment_magnitudes: tuple[int, ...]  # Fig. 11
    iid: tuple[int, int]  # Table 4: (s, B)
    fig5: dict  # capacity_and_sweep arguments and the small model it uses
    benign_seeds: tuple[int, ...]  # the headline preset: seeds of the random-label DA run and its twin
    toy_seeds: tuple[int, ...]  # Fig. 13
    snapshots: tuple[int, ...]  # seed-003 line: epochs kept for geometry and rewinding
    geometry: dict  # run_geometry options of the seed-003 line
    images_per_second: float  # training throughput at 32 x 32 for the --list time estimates
    rate_note: str  # where that figure comes from


SCALES = {
    "full": Scale(
        name="full", width=64, projector_width=65536, epochs=1000, long_epochs=5000, batch_size=256, lr=4e-3, subset=0,
        image_size=0, da="ssl+mixup", mix_targets=True, probe_every=10, train_acc_every=1, knn_bank="train",
        checkpoint_every=10, probe_pool=True,
        noise_levels=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0), projector_widths=(256, 1024, 4096, 16384, 65536),
        random_classes=(2, 10, 100, 1000, 10000, "per-sample"), randaugment_magnitudes=(0, 5, 10, 15, 20, 25, 30),
        iid=(1000, 50),
        fig5={"width": 16, "projector_width": 4096, "steps": 2000, "n": 500, "Bs": (1, 2, 4, 8, 16, 32, 64),
              "n_max": 20000, "repeats": 2, "batch_size": 256, "lr": 1e-3},
        benign_seeds=(0,), toy_seeds=(0, 1, 2, 3, 4), snapshots=(10, 50, 100, 250, 500),
        geometry={"per_class": 50, "n_t": 200, "n_reps": 10, "max_rank": None},
        images_per_second=20000.0, rate_note="H100, assumed (bf16 ResNet18; not measured here)",
    ),
    "mini": Scale(
        name="mini", width=4, projector_width=4096, epochs=150, long_epochs=1800, batch_size=32, lr=1e-3, subset=128,
        image_size=0, da="ssl", mix_targets=True, probe_every=300, train_acc_every=30, knn_bank="all",
        checkpoint_every=100, probe_pool=False, noise_levels=(0.0, 0.5, 1.0), projector_widths=(256, 1024, 4096),
        random_classes=(2, 10, 100, "per-sample"), randaugment_magnitudes=(0, 10, 20, 30), iid=(32, 2),
        fig5={"width": 4, "projector_width": 512, "steps": 100, "n": 64, "Bs": (1, 2, 4, 8, 16), "n_max": 1024,
              "repeats": 2, "batch_size": 128, "lr": 1e-3},
        benign_seeds=(0, 1, 2), toy_seeds=(0, 1, 2), snapshots=(100, 400, 800),
        geometry={"per_class": 10, "n_t": 50, "n_reps": 2, "max_rank": 2},
        images_per_second=768.0, rate_note="this 2-core CPU, measured (the benign run alone: 1800 x 128 images in 300 s, "
                                           "width 4, probes included)",
    ),
}


@dataclass(frozen=True)
class Recipe:
    """A named protocol for the full scale: the Scale fields it changes and where they come from."""

    name: str
    source: str
    changes: dict = field(default_factory=dict)


RECIPES = {
    "table6": Recipe("table6", "the paper's Table 6: Adam lr 4e-3, betas (0.9, 0.999), no weight decay, no schedule, "
                     "batch 256, SSL augmentations + mixup (targets mixed); random labels + DA for 5000 epochs "
                     "(Sec. 4: no progress before ~3000)"),
    "released": Recipe("released", "the authors' released code as its README runs it: Adam lr 3e-4 (its weight-decay "
                       "default 1e-6 reaches only SGD/LARS, not Adam), SSL augmentations without mixup, batch 256, "
                       "random labels + DA for 10000 epochs, K-NN every 50 epochs",
                       {"lr": 3e-4, "da": "ssl", "mix_targets": False, "long_epochs": 10000, "probe_every": 50}),
}


def scale_for(scale: str, recipe: str | None = None) -> Scale:
    """The named scale with a recipe's changes (recipes are full-scale protocols; None: the scale as it is)."""
    if scale not in SCALES:
        raise BMError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if recipe is None:
        return SCALES[scale]
    if recipe not in RECIPES:
        raise BMError(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
    if scale != "full":
        raise BMError(f"--recipe chooses a full-scale protocol; the {scale} scale has its own (see bm reproduce --list)")
    return replace(SCALES[scale], **RECIPES[recipe].changes)
