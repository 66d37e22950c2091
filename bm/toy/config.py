"""The toy pipeline's configs (Appendix E): data, model, training and the grid. Torch-free: the CLI's help reads them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bm.configs import JsonConfig
from bm.errors import BMError, require_finite
from bm.labels import LabelConfig

__all__ = ["AUGMENTATIONS", "OPTIMIZERS", "ToyDataConfig", "ToyGridConfig", "ToyModelConfig", "ToyTrainConfig"]

AUGMENTATIONS = ("finite", "online", "iid")
OPTIMIZERS = ("adam", "gd")


@dataclass(frozen=True)
class ToyDataConfig:
    num_classes: int = 5  # C, true classes
    dim: int = 16  # d, input dimension
    signal_dim: int = 4  # d1, coordinates that carry the class
    sigma: float = 1.0  # noise std: Sigma2 = Sigma3 = sigma^2 I, Sigma1 = sigma^2 / 10 I
    center_scale: float = 3.0  # mu_k ~ N(0, (center_scale * sigma1)^2 I)
    task_seed: int = 0  # draws the centres mu_k
    augment: str = "finite"  # finite | online (fresh views every step) | iid (same-class samples)
    label_noise: float = 1.0  # fraction of random training labels (0 clean, 1 random)
    random_classes: int | None = None  # C' random classes (None = C)
    probe_train: int = 500  # clean labelled points the K-NN probe is fitted on
    test: int = 1000  # clean test points

    def __post_init__(self) -> None:
        if self.num_classes < 2 or self.dim < 1 or not 1 <= self.signal_dim <= self.dim:
            raise BMError(
                f"need num_classes >= 2 and 1 <= signal_dim <= dim; got C={self.num_classes}, "
                f"d={self.dim}, d1={self.signal_dim}"
            )
        require_finite(sigma=self.sigma, center_scale=self.center_scale, label_noise=self.label_noise)
        if self.sigma <= 0 or self.center_scale < 0:
            raise BMError(f"need sigma > 0 and center_scale >= 0; got {self.sigma}, {self.center_scale}")
        if self.augment not in AUGMENTATIONS:
            raise BMError(f"augment must be one of {', '.join(AUGMENTATIONS)}; got {self.augment!r}")
        if self.probe_train < 1 or self.test < 1:
            raise BMError(f"probe_train and test must be >= 1; got {self.probe_train}, {self.test}")
        LabelConfig(self.label_noise, self.random_classes)  # validates both

    @property
    def sigma1(self) -> float:
        return self.sigma / math.sqrt(10.0)


@dataclass(frozen=True)
class ToyModelConfig:
    prototypes: int = 32  # K
    init_scale: float = 1.0  # W ~ N(0, init_scale^2 / d)

    def __post_init__(self) -> None:
        require_finite(init_scale=self.init_scale)
        if self.prototypes < 1 or self.init_scale <= 0:
            raise BMError(f"need prototypes >= 1 and init_scale > 0; got {self.prototypes}, {self.init_scale}")


@dataclass(frozen=True)
class ToyTrainConfig:
    optimizer: str = "adam"  # adam | gd (plain gradient descent)
    lr: float = 0.01
    steps: int = 2000  # budget t
    batch_size: int = 256  # points per step and model; 0 = full batch
    track_every: int = 200  # steps between Inv/Bias measurements (0: only at the end)

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise BMError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}")
        require_finite(lr=self.lr)
        if self.lr <= 0 or self.steps < 1 or self.batch_size < 0 or self.track_every < 0:
            raise BMError("need lr > 0, steps >= 1, batch_size >= 0 and track_every >= 0")


@dataclass(frozen=True)
class ToyGridConfig(JsonConfig):
    ns: tuple[int, ...] = (8, 16, 32, 64, 128, 256)  # samples n
    Bs: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)  # views per sample B (view 0 is the sample itself)
    seeds: tuple[int, ...] = (0, 1, 2)
    k: int = 20  # K-NN neighbours
    knn_normalize: bool = False  # L2-normalize embeddings before K-NN (the deep protocol does)
    capacity_repeats: int = 3  # random labelings R tried per n when estimating C_t
    capacity_n_max: int = 4096
    device: str = "cpu"
    data: ToyDataConfig = field(default_factory=ToyDataConfig)
    model: ToyModelConfig = field(default_factory=ToyModelConfig)
    train: ToyTrainConfig = field(default_factory=ToyTrainConfig)

    def __post_init__(self) -> None:
        for name, values, low in (("n", self.ns, 1), ("B", self.Bs, 1)):
            if not values or any(not isinstance(v, int) or v < low for v in values):
                raise BMError(f"every {name} must be an integer >= {low}; got {list(values)}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or any(s < 0 for s in self.seeds):
            raise BMError(f"seeds must be distinct non-negative integers; got {list(self.seeds)}")
        if not 1 <= self.k <= self.data.probe_train:
            raise BMError(f"k={self.k} must lie in [1, {self.data.probe_train}] (the probe-train set size)")
        if self.capacity_repeats < 1 or self.capacity_n_max < 1:
            raise BMError("capacity_repeats and capacity_n_max must be >= 1")
