"""The deep pipeline's configs: the model, mixup and a training run (Table 6 defaults), with the data sets' sizes.

Torch-free, so that the CLI's help and checks read them without loading torch; what needs torch (the i.i.d. table,
the memory banks, the augmentation options) is imported where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from bm.configs import JsonConfig
from bm.deep.protocols import protocol_names, randaugment_setting
from bm.errors import BMError, require_finite
from bm.labels import LabelConfig

__all__ = ["ARCHITECTURES", "IMAGE_SIZES", "KNN_BANKS", "MIXUP_LAMBDAS", "RUNTIME_FIELDS", "TRAIN_SIZES", "DeepTrainConfig",
           "MixupOptions", "ModelConfig"]

ARCHITECTURES = ("resnet18", "vgg11", "vgg16", "mlp")
IMAGE_SIZES = {"cifar10": 32, "cifar100": 32, "stl10": 96, "tinyimagenet": 64}  # side of the square images
TRAIN_SIZES = {"cifar10": 50000, "cifar100": 50000, "tinyimagenet": 100000, "stl10": 5000}  # official training sets
# DeepTrainConfig fields that are not part of a run's identity: a run moved to another data path or device, or
# measured at another cadence, is the same run (changes on --resume / --skip-finished are recorded, not refused)
RUNTIME_FIELDS = ("data_dir", "device", "probe_every", "train_acc_every", "checkpoint_every")
KNN_BANKS = ("train", "all")  # K-NN memory banks: the images trained on (Definition 4.1's S), every training image


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "resnet18"
    width: int = 64  # base channels (ResNet18 / VGG: 64 as published; smaller for CPU runs)
    projector_width: int = 65536  # hidden width w of g_phi (Table 6)
    num_classes: int = 10  # outputs C of g_phi: the number of (random) classes (0: from the labels)
    image_size: int = 32  # input side: 32 for CIFAR, 64 for TinyImageNet, 96 for STL-10; smaller to downsample
    mlp_depth: int = 3  # hidden layers of the MLP encoder
    mlp_hidden: int = 1024

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise BMError(f"unknown model {self.arch!r}; choose one of {', '.join(ARCHITECTURES)}")
        if min(self.width, self.projector_width, self.mlp_depth, self.mlp_hidden) < 1 or self.num_classes < 0:
            raise BMError("width, projector_width, mlp_depth and mlp_hidden must be >= 1, num_classes >= 0")
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
            raise BMError(f"mixup needs alpha > 0, p in [0, 1] and lambda per one of {', '.join(MIXUP_LAMBDAS)}; "
                          f"got {self.alpha}, {self.p}, {self.lam!r}")


@dataclass(frozen=True)
class DeepTrainConfig(JsonConfig):
    dataset: str = "cifar10"
    data_dir: str = "data"
    subset: int = 0  # train on the first `subset` training images (0: all)
    label_noise: float = 1.0  # fraction of random labels: 0 clean, 1 random
    random_classes: int | str | None = None  # C' random classes (None: C; "per-sample")
    augment: str = "ssl"  # none | ssl | ssl+mixup | randaugment | finite | iid
    randaugment_mapping: str = "magnitude"  # "strength": the released code's s in [0, 1]; "magnitude": 2 ops, 31 bins
    randaugment_strength: float = 0.5  # randaugment_mapping "strength": num_ops floor(10 s / 3) + 1, magnitude 100 s
    randaugment_magnitude: int = 9  # randaugment_mapping "magnitude": torchvision's magnitude in [0, 30]
    views: int = 1  # finite: B fixed views per sample (view 0 = the image); iid: B same-class images
    preserve_labels: bool = True  # finite: every view keeps its sample's label (else its own random label)
    iid_subset: int = 1000  # iid: training points s
    mix_targets: bool = True  # mixup mixes targets too (ours; the paper does not say); False: the released code
    mixup_alpha: float = 1.0  # mixup's lambda ~ Beta(alpha, alpha) (ours and the released code's)
    mixup_p: float = 0.8  # probability that mixup applies, per sample or per batch (ours and the released code's)
    mixup_lambda: str = "sample"  # one lambda per sample (ours) or one per batch (the released code)
    model: ModelConfig = field(default_factory=ModelConfig)
    epochs: int = 1000
    batch_size: int = 256
    lr: float = 4e-3  # Adam, betas (0.9, 0.999), no weight decay, no schedule (Table 6)
    probe_every: int = 10  # epochs between K-NN / Inv-Bias / invariance measurements
    train_acc_every: int = 1  # epochs between eval-mode accuracies on the clean training images (and at probes)
    probe_k: int = 20
    knn_bank: str = "train"  # the bank of `knn`: "train" the images trained on (Def. 4.1), "all" every training image
    # (the released code); every probe measures both (knn_banks)
    decomposition_samples: int = 256  # fixed subset for Inv/Bias and layer invariance
    decomposition_views: int = 4  # B views per sample for Inv/Bias and invariance
    checkpoint_every: int = 10
    snapshots: tuple[int, ...] = ()  # epochs whose weights are kept (layer rewinding)
    seed: int = 0
    device: str = "cpu"
    bf16: bool = True  # autocast to bfloat16 on CUDA
    compile: bool = False  # torch.compile the network (CUDA)

    def __post_init__(self) -> None:
        if self.augment not in protocol_names():
            raise BMError(f"augment must be one of {', '.join(protocol_names())}; got {self.augment!r}")
        if self.views < 1 or self.iid_subset < 1:
            raise BMError("views and iid_subset must be >= 1")
        if self.views > 1 and self.augment not in ("finite", "iid"):
            raise BMError(f"views (B = {self.views}) applies to augment finite or iid; {self.augment!r} draws fresh views")
        if any(not 1 <= e <= self.epochs for e in self.snapshots):
            raise BMError(f"snapshots must lie in [1, epochs = {self.epochs}]; got {', '.join(map(str, self.snapshots))}")
        LabelConfig(self.label_noise, self.random_classes)
        for name in ("epochs", "batch_size", "probe_every", "train_acc_every", "checkpoint_every", "probe_k",
                     "decomposition_samples", "decomposition_views"):
            if getattr(self, name) < 1:
                raise BMError(f"{name} must be >= 1, got {getattr(self, name)}")
        require_finite(lr=self.lr, label_noise=self.label_noise)
        if self.subset < 0 or self.lr <= 0:
            raise BMError("subset must be >= 0 and lr > 0")
        if self.knn_bank not in KNN_BANKS:
            raise BMError(f"knn_bank must be 'train' or 'all'; got {self.knn_bank!r}")
        self.mixup_options()
        randaugment_setting(self.randaugment_mapping, self.randaugment_strength, self.randaugment_magnitude)
        if self.decomposition_views < 3:
            raise BMError("decomposition_views must be >= 3 (view 0 is the clean image, Inv needs two more)")

    def mixup_options(self) -> MixupOptions:
        return MixupOptions(self.mixup_alpha, self.mixup_p, self.mixup_lambda, self.mix_targets)
