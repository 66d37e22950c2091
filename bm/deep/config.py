"""The deep pipeline's configs: the model, mixup and a training run (Table 6 defaults), with the data sets' sizes.

Torch-free, so that the CLI's help and checks read them without loading torch; what needs torch (the i.i.d. table,
the memory banks, the augmentation options) is imported where it is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bm.configs import JsonConfig, setting
from bm.deep.catalog import DATASETS, IMAGE_SIZES, MODELS, TRAIN_SIZES
from bm.deep.protocols import PROTOCOLS, protocol_names, randaugment_setting, set_protocol
from bm.errors import BMError, require_finite, require_range
from bm.labels import LabelConfig
from bm.registry import registrar

__all__ = [
    "AugmentGridConfig",
    "CAPACITY_FIXED",
    "CapacitySweepConfig",
    "IMAGE_SIZES",
    "KNN_BANKS",
    "MIXUP_LAMBDAS",
    "NAMED_CONFIGS",
    "PAPER",
    "RUNTIME_FIELDS",
    "SUBSET_ORDERS",
    "TRAIN_SIZES",
    "DeepTrainConfig",
    "MixupOptions",
    "ModelConfig",
    "named_config",
    "register_named_config",
]

# DeepTrainConfig fields that are not part of a run's identity: a run moved to another data path or device, or
# measured at another cadence, is the same run (changes on --resume / --skip-finished are recorded, not refused)
RUNTIME_FIELDS = ("data_dir", "device", "probe_every", "train_acc_every", "checkpoint_every", "gradient_probe")
SUBSET_ORDERS = ("first", "stratified")
KNN_BANKS = ("train", "all")  # K-NN memory banks: the images trained on (Definition 4.1's S), every training image


@dataclass(frozen=True)
class ModelConfig:
    arch: str = setting("resnet18", flag="model", help=f"Encoder: {', '.join(MODELS)} or a registered one.")
    width: int = setting(64, help="Encoder base width (ResNet18 / VGG: 64 as published; smaller for CPU runs).")
    projector_width: int = setting(65536, help="Hidden width w of the projector g_phi (Table 6).")
    num_classes: int = setting(10, help="Outputs C of g_phi, the number of (random) classes (0: from the labels).")
    image_size: int = setting(
        32,
        help="Input side: 32 for CIFAR, 64 for TinyImageNet, 96 for STL-10; smaller "
        "downsamples (deep-train without --config: the data set's own).",
    )
    mlp_depth: int = setting(3, help="Hidden layers of the MLP encoder.")
    mlp_hidden: int = setting(1024, help="Hidden width of the MLP encoder.")

    def __post_init__(self) -> None:
        if self.arch not in MODELS:
            raise BMError(f"unknown model {self.arch!r}; choose one of {', '.join(MODELS)}")
        for name, low, high in (
            ("width", 1, 10**6),
            ("projector_width", 1, 10**10),
            ("mlp_depth", 1, 1000),
            ("mlp_hidden", 1, 10**7),
            ("num_classes", 0, 10**9),
        ):
            if not low <= getattr(self, name) <= high:
                raise BMError(f"{name} must lie in [{low}, {high}]; got {getattr(self, name)}")
        if not 8 <= self.image_size <= 256:
            raise BMError(f"image_size must lie in [8, 256]; got {self.image_size}")


MIXUP_LAMBDAS = ("sample", "batch")


@dataclass(frozen=True)
class MixupOptions:
    """Mixup's choices: the paper gives none beyond "mixup" (ours: alpha 1, p 0.8, one lambda per sample, targets
    mixed); the released code draws one lambda per batch, mixes a batch with probability 0.8 and keeps the first
    image's targets."""

    alpha: float = 1.0  # lambda ~ Beta(alpha, alpha)
    p: float = 0.8  # probability that mixup applies: per sample ("sample") or to the whole batch ("batch")
    lam: str = "sample"  # one lambda per sample, or one per batch
    mix_targets: bool = True  # targets mixed like the images; False: each keeps its own image's targets

    def __post_init__(self) -> None:
        if not self.alpha > 0 or not 0 <= self.p <= 1 or self.lam not in MIXUP_LAMBDAS:
            raise BMError(
                f"mixup needs alpha > 0, p in [0, 1] and lambda per one of {', '.join(MIXUP_LAMBDAS)}; "
                f"got {self.alpha}, {self.p}, {self.lam!r}"
            )


@dataclass(frozen=True)
class DeepTrainConfig(JsonConfig):
    dataset: str = setting("cifar10", help=f"Data set: {', '.join(DATASETS)} or a registered one.")
    data_dir: str = setting("data", help="Folder holding the data set's official folder.")
    subset: int = setting(0, help="Train on N training images (0: all), chosen by subset_order.")
    subset_order: str = setting(
        "first",
        help="Which N images: first (the data set's first N) or stratified (per "
        "class its first N // C, one more for the N mod C lowest classes).",
    )
    label_noise: float = setting(1.0, help="Fraction of random training labels: 0 clean, 1 random.")
    random_classes: int | str | None = setting(None, help="Random classes C': an integer or 'per-sample' (default: C).")
    augment: str = setting(
        "ssl",
        help="Augmentation protocol: none, ssl, ssl+mixup, randaugment, finite (B fixed "
        "views), iid (B same-class images), or a registered one.",
    )
    randaugment_mapping: str = setting(
        "magnitude",
        help="RandAugment setting: strength (the released code: strength s "
        "in [0, 1] gives floor(10 s / 3) + 1 ops at magnitude floor(100 s) of 100 bins) "
        "or magnitude (2 ops at a magnitude of 31 bins).",
    )
    randaugment_strength: float = setting(0.5, help="RandAugment strength s in [0, 1] (mapping strength).")
    randaugment_magnitude: int = setting(9, help="RandAugment magnitude in [0, 30] (mapping magnitude).")
    views: int = setting(1, help="B: fixed views per sample (finite; view 0 is the image) or same-class images (iid).")
    preserve_labels: bool = setting(
        True, help="finite: views keep their sample's label (else each its own random label)."
    )
    iid_subset: int = setting(1000, help="iid: training points s.")
    mix_targets: bool = setting(
        True,
        help="Mixup mixes the targets too (ours; the paper does not say); off: each "
        "keeps its first image's, as the released code.",
    )
    mixup_alpha: float = setting(1.0, help="Mixup's lambda ~ Beta(alpha, alpha) (ours and the released code's).")
    mixup_p: float = setting(
        0.8, help="Probability that mixup applies, per sample or per batch (ours and the released code's)."
    )
    mixup_lambda: str = setting("sample", help="Mixup: one lambda per sample (ours) or per batch (the released code).")
    model: ModelConfig = setting(factory=ModelConfig, help="The network.")
    epochs: int = setting(1000, help="Training epochs.")
    batch_size: int = setting(256, help="Batch size (Table 6).")
    lr: float = setting(4e-3, help="Adam learning rate; betas (0.9, 0.999), no weight decay, no schedule (Table 6).")
    probe_every: int = setting(10, help="Epochs between K-NN / Inv-Bias / invariance probes.")
    train_acc_every: int = setting(
        1,
        help="Epochs between memorization measurements: accuracy on the items trained "
        "on, against their training labels (also at every probe).",
    )
    probe_k: int = setting(20, help="K-NN neighbours of the probe.")
    gradient_probe: bool = setting(
        False,
        help="At every probe also measure the summed gradients of the permuted and of the clean training images "
        "(Stephenson et al. 2021; needs 0 < label_noise < 1 and fresh views). Training is unchanged.",
    )
    knn_bank: str = setting(
        "train",
        help="The bank of the 'knn' metric: train (the images trained on, Definition "
        "4.1) or all (every training image, as the released code); every probe "
        "measures both (knn_banks).",
    )
    decomposition_samples: int = setting(256, help="Fixed training subset for Inv/Bias and the layer invariance.")
    decomposition_views: int = setting(4, help="Views per sample for Inv/Bias and the invariance (>= 3).")
    checkpoint_every: int = setting(10, help="Epochs between checkpoints.")
    snapshots: tuple[int, ...] = setting((), help="Comma-separated epochs whose weights are kept (layer rewinding).")
    seed: int = setting(0, help="Seed of labels, initialization, batches and augmentations.")
    device: str = setting("cpu", help="cpu, cuda or cuda:N.")
    cpu_threads: int = setting(
        1,
        help="CPU threads of the run (device cpu): CPU reductions differ in the last bit "
        "between thread counts, so the count belongs to the run, whatever launches it; "
        "parallel runs are parallel processes.",
    )
    bf16: bool = setting(True, help="bfloat16 autocast on CUDA.")
    compile: bool = setting(False, help="torch.compile the network (CUDA).")

    def __post_init__(self) -> None:
        if self.augment not in protocol_names():
            raise BMError(f"augment must be one of {', '.join(protocol_names())}; got {self.augment!r}")
        require_range(views=(self.views, 1, ">="), iid_subset=(self.iid_subset, 1, ">="))
        if self.views > 1 and "views" not in getattr(set_protocol(self.augment), "options", ()):
            raise BMError(
                f"views (B = {self.views}) applies to augment "
                f"{' or '.join(n for n, p in PROTOCOLS.items() if 'views' in p.options)}; "
                f"{self.augment!r} draws fresh views"
            )
        if any(not 1 <= e <= self.epochs for e in self.snapshots):
            raise BMError(
                f"snapshots must lie in [1, epochs = {self.epochs}]; got {', '.join(map(str, self.snapshots))}"
            )
        LabelConfig(self.label_noise, self.random_classes)
        if self.subset_order not in SUBSET_ORDERS:
            raise BMError(f"subset_order must be one of {', '.join(SUBSET_ORDERS)}; got {self.subset_order!r}")
        for name in (
            "epochs",
            "batch_size",
            "cpu_threads",
            "probe_every",
            "train_acc_every",
            "checkpoint_every",
            "probe_k",
            "decomposition_samples",
            "decomposition_views",
        ):
            if getattr(self, name) < 1:
                raise BMError(f"{name} must be >= 1, got {getattr(self, name)}")
        require_finite(lr=self.lr, label_noise=self.label_noise)
        if self.subset < 0:
            raise BMError(f"subset must be >= 0; got {self.subset}")
        if self.lr <= 0:
            raise BMError(f"lr must be > 0; got {self.lr}")
        if self.knn_bank not in KNN_BANKS:
            raise BMError(f"knn_bank must be 'train' or 'all'; got {self.knn_bank!r}")
        self.mixup_options()
        randaugment_setting(self.randaugment_mapping, self.randaugment_strength, self.randaugment_magnitude)
        if self.gradient_probe and (not 0 < self.label_noise < 1 or set_protocol(self.augment) is not None):
            raise BMError(
                "gradient_probe compares permuted and clean training images: it needs 0 < label_noise < 1 and a "
                f"protocol of fresh views; got label_noise {self.label_noise:g}, augment {self.augment!r}"
            )
        if self.decomposition_views < 3:
            raise BMError("decomposition_views must be >= 3 (view 0 is the clean image, Inv needs two more)")

    def mixup_options(self) -> MixupOptions:
        return MixupOptions(self.mixup_alpha, self.mixup_p, self.mixup_lambda, self.mix_targets)


# DeepTrainConfig's defaults with the classes read from the labels: Table 6's model, optimizer and batch on CIFAR-10
# with SSL augmentation, no mixup, 1000 epochs (Table 6 in full, mixup and budget, is the full scale's recipe table6)
PAPER = DeepTrainConfig(model=ModelConfig(num_classes=0))

# `bm deep-train --preset NAME`: name -> a function returning the config (bm.reproduce.plan adds the recipes')
NAMED_CONFIGS: dict[str, Callable[[], DeepTrainConfig]] = {}
register_named_config = registrar(NAMED_CONFIGS, "named config")


@register_named_config("paper")
def _paper() -> DeepTrainConfig:
    return PAPER


@register_named_config("smoke")
def _smoke() -> DeepTrainConfig:
    """A tiny model and subset: under a minute on a CPU."""
    model = replace(PAPER.model, width=8, projector_width=512)
    return replace(PAPER, model=model, subset=1024, epochs=3, batch_size=128, probe_every=3, checkpoint_every=1)


def named_config(name: str) -> DeepTrainConfig:
    """The registered config `name` (NAMED_CONFIGS)."""
    if name not in NAMED_CONFIGS:
        raise BMError(f"unknown preset {name!r}; choose one of {', '.join(NAMED_CONFIGS)}")
    return NAMED_CONFIGS[name]()


def _small_model() -> DeepTrainConfig:
    return DeepTrainConfig(model=ModelConfig(width=8, projector_width=1024, num_classes=0), batch_size=128, lr=1e-3)


@dataclass(frozen=True)
class CapacitySweepConfig(JsonConfig):
    """Fig. 5: C_t of a model for a budget of t optimizer steps (Definition D.1: random labels, no augmentation, the
    largest n whose every tried labeling is memorized), then memorization and K-NN against B at fixed n (finite view
    sets, labels preserved or each view its own). `train` gives the runs' data set, model, batch size, learning rate,
    seed and device; their epochs, labels and augmentation are the experiment's."""

    train: DeepTrainConfig = setting(factory=_small_model, help="The runs.")
    steps: int = setting(100, help="Budget t in optimizer steps of every run.")
    n: int = setting(128, help="Images n of the B sweep.")
    Bs: tuple[int, ...] = setting((1, 2, 4, 8), flag="Bs", help="Comma-separated B of the sweep.")
    n_max: int = setting(1024, help="Largest n the C_t search tries.")
    repeats: int = setting(2, flag="capacity-repeats", help="Random labelings per n for C_t.")

    def __post_init__(self) -> None:
        if not self.Bs:
            raise BMError("Bs must list at least one B")
        require_range(
            n=(self.n, 2, ">="),
            n_max=(self.n_max, 2, ">="),
            steps=(self.steps, 1, ">="),
            capacity_repeats=(self.repeats, 1, ">="),
            smallest_B=(min(self.Bs), 1, ">="),
        )


CAPACITY_FIXED = (
    "train.epochs",
    "train.label_noise",
    "train.random_classes",
    "train.augment",
    "train.views",
    "train.preserve_labels",
    "train.iid_subset",
    "train.subset",
    "train.snapshots",
    "train.checkpoint_every",
    "train.probe_every",
    "train.train_acc_every",
    "train.randaugment_mapping",
    "train.randaugment_strength",
    "train.randaugment_magnitude",
    "train.mix_targets",
    "train.mixup_alpha",
    "train.mixup_p",
    "train.mixup_lambda",
    "train.knn_bank",
)  # set by the experiment


MAX_PANELS = 64  # a rows x cols figure of 64 x 64 panels is already 83 x 93 inches


@dataclass(frozen=True)
class AugmentGridConfig:
    """`bm augment-grid`: real images (the first row) and rows - 1 of their SSL views (a finite set of `seed`)."""

    dataset: str = setting(DeepTrainConfig.dataset, help=f"Data set: {', '.join(DATASETS)} or a registered one.")
    data_dir: str = setting(DeepTrainConfig.data_dir, help="Folder holding the data set's official folder.")
    rows: int = setting(4, help=f"Rows: the originals, then rows - 1 views (at most {MAX_PANELS}).")
    cols: int = setting(8, help=f"Images, one column each (at most {MAX_PANELS}).")
    seed: int = setting(0, help="Seed of the finite augmentation set.")

    def __post_init__(self) -> None:
        if not (1 <= self.rows <= MAX_PANELS and 1 <= self.cols <= MAX_PANELS):
            raise BMError(
                f"--rows and --cols must lie in [1, {MAX_PANELS}] (one figure panel each); got {self.rows}, {self.cols}"
            )
