"""The two scales of `bm reproduce`, the paper's (Table 6, a GPU) and a CPU-sized one, and the full-scale recipes.

A scale fixes what every preset shares: the encoder width, the projector width, epochs, batch size, learning rate,
how many training images, the image side, which augmentation "DA" means, the snapshots and geometry options (fig3,
seed003, doubledescent) and the toy grid (fig13, phase). What one preset alone varies (the values a sweep visits,
Table 4's s and B, Fig. 5's sweep, the phase grid, the headline's seeds) is that preset's own SETTINGS, by scale name,
in its module. The full-scale values are ours where the paper gives no number; the README lists them.

Every run of a scale trains the same number of optimizer steps, `steps`, so that the cells of one
comparison are never confounded by their budgets (a run's epochs are steps / steps per epoch, and
its probe, train-accuracy and checkpoint cadences are given in steps too). The budget is set by the
slowest cell, random labels with augmentation: the paper (Sec. 4) sees neither the loss nor the
probe move for about 3000 epochs before a rapid improvement, so the full scale trains 5000 epochs'
worth of steps (196 per epoch of CIFAR-10 at batch 256).

A recipe is a named set of changes to the full scale (`RECIPES`): `table6` is the paper's Table 6
(the default), `released` the authors' released code as its README runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bm.analyses.config import MftmaConfig
from bm.analyses.transition import FLOOR_EPOCHS, Extrapolation
from bm.configs import with_changes
from bm.deep.config import DeepTrainConfig, ModelConfig
from bm.errors import BMError
from bm.registry import register
from bm.reproduce.measured import TRANSITION_FULL
from bm.toy.config import ToyGridConfig

__all__ = ["RECIPES", "Recipe", "SCALES", "Scale", "register_scale", "scale_for"]

ONLINE = 0  # PhaseGrid.Bs: fresh augmented views every step (B = infinity)


@dataclass(frozen=True)
class Scale:
    name: str
    base: DeepTrainConfig  # every run before a preset's changes: model, batch size, lr, subset, mixup, K-NN bank
    steps: int  # optimizer steps of every run (Definition D.1's budget t; the same in every cell of a comparison)
    image_size: int  # images resized to this side (0: the data set's own)
    da: str  # the augmentation protocol "DA" stands for in the presets
    probe_steps: int  # optimizer steps between K-NN / Inv-Bias / invariance probes (rounded to whole epochs)
    train_acc_steps: int  # steps between memorization measurements (accuracy on the trained items)
    checkpoint_steps: int
    probe_pool: bool  # per-layer probes (Fig. 3): average-pool convolutional maps
    probe_sketch: int  # per-layer probes: flattened maps wider than this go through a fixed Gaussian sketch (0: none)
    toy: ToyGridConfig  # Fig. 13 and the toy diagram beside the phase preset's
    snapshots: tuple[int, ...]  # seed-003 line: epochs kept for geometry and rewinding
    geometry: MftmaConfig  # the MFTMA options of the seed-003 line and the double-descent geometry
    transition: Extrapolation | None  # the measured transition at this scale (None: not measured / not needed)
    images_per_second: float  # training throughput at 32 x 32 for the --list time estimates
    rate_note: str  # where that figure comes from


def _base(width: int, projector_width: int, **fields) -> DeepTrainConfig:
    """A scale's run before a preset's changes (ours where the paper is silent: mixup one lambda per sample, targets
    mixed; the K-NN bank of `knn` Definition 4.1's)."""
    return DeepTrainConfig(
        model=ModelConfig(width=width, projector_width=projector_width, num_classes=0),
        mix_targets=True,
        mixup_lambda="sample",
        knn_bank="train",
        **fields,
    )


# mini: 3000 epochs of 128 images at batch 32 (12,000 steps). 1800 epochs (7200 steps) left seeds of the benign run
# at 0.984 - 0.998 of the random labels; Definition 4.1 asks for a perfect fit, so the budget is the one that gets
# every benign seed there (measured: results/mini/benign, the step each reached 1 in its table)
MINI_EPOCHS = 3000

SCALES = {
    "full": Scale(
        name="full",
        base=_base(64, 65536, batch_size=256, lr=4e-3, subset=0),
        steps=(TRANSITION_FULL.budget_epochs() if TRANSITION_FULL else FLOOR_EPOCHS) * 196,  # Extrapolation.budget
        image_size=0,
        da="ssl+mixup",
        probe_steps=10 * 196,
        train_acc_steps=196,
        checkpoint_steps=10 * 196,
        probe_pool=False,
        probe_sketch=4096,
        toy=ToyGridConfig(seeds=(0, 1, 2, 3, 4)),
        snapshots=(10, 50, 100, 250, 500),
        geometry=MftmaConfig(per_class=50, n_t=200, n_reps=10, max_rank=None),
        transition=TRANSITION_FULL,  # generated from results/mini/phase (bm findings write); None: the floor
        images_per_second=11928.0,
        rate_note="H200, measured by benchmarks/gpu_check.py (the mean of 12649 and 11207 in two sessions: bf16 eager "
        "ResNet18 width 64 + projector 65536, batch 256, SSL augmentation on the GPU; results/gpu/gpu_check-h200*.json)",
    ),
    "mini": Scale(
        name="mini",
        base=_base(4, 4096, batch_size=32, lr=1e-3, subset=128, subset_order="stratified"),
        steps=MINI_EPOCHS * 4,
        image_size=0,
        da="ssl",
        probe_steps=300 * 4,
        train_acc_steps=30 * 4,
        checkpoint_steps=100 * 4,
        probe_pool=False,
        probe_sketch=0,
        toy=ToyGridConfig(seeds=(0, 1, 2, 3, 4)),
        snapshots=(100, 400, 800),
        geometry=MftmaConfig(per_class=10, n_t=50, n_reps=2, max_rank=2),
        transition=None,
        images_per_second=840.0,
        rate_note="this 2-core CPU at --max-parallel 2: twice the median rate of the benign preset's 10 committed "
        "runs (results/mini/benign: training images over wall time, probes included, two runs at a time)",
    ),
}


@dataclass(frozen=True)
class Recipe:
    """A named protocol for the full scale: the Scale fields it changes (dotted paths into the base run: base.lr) and
    where they come from."""

    name: str
    source: str
    changes: dict = field(default_factory=dict)


RECIPES = {
    "table6": Recipe(
        "table6",
        "the paper's Table 6: Adam lr 4e-3, betas (0.9, 0.999), no weight decay, no schedule, "
        "batch 256, SSL augmentations + mixup (targets mixed); every run for 5000 epochs' steps "
        "(Sec. 4: random labels + DA show no progress before ~3000)",
    ),
    "released": Recipe(
        "released",
        "the authors' released code as its README runs it: Adam lr 3e-4 (its weight-decay "
        "default 1e-6 reaches only SGD/LARS, not Adam), SSL augmentations without mixup, batch 256, "
        "every run for 10000 epochs' steps, K-NN every 50 epochs; mixup, where asked for, as its code: "
        "one lambda per batch, targets not mixed",
        {
            "base.lr": 3e-4,
            "da": "ssl",
            "base.mix_targets": False,
            "base.mixup_lambda": "batch",
            "steps": 10000 * 196,
            "probe_steps": 50 * 196,
        },
    ),
}


def register_scale(scale: Scale) -> Scale:
    """Add a scale under its own new name (a taken one is one BMError)."""
    return register(SCALES, "scale", scale.name, scale)


def scale_for(scale: str, recipe: str | None = None) -> Scale:
    """The named scale with a recipe's changes (recipes are full-scale protocols; None: the scale as it is)."""
    if scale not in SCALES:
        raise BMError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if recipe is None:
        return SCALES[scale]
    if recipe not in RECIPES:
        raise BMError(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
    if scale != "full":
        raise BMError(
            f"--recipe chooses a full-scale protocol; the {scale} scale has its own (see bm reproduce --list)"
        )
    return with_changes(SCALES[scale], RECIPES[recipe].changes)
