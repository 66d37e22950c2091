"""The toy pipeline's configs (Appendix E): data, model, training and the grid. Torch-free: the CLI's help reads them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bm.configs import JsonConfig, setting
from bm.errors import BMError, require_finite, require_range
from bm.labels import LabelConfig

__all__ = ["AUGMENTATIONS", "OPTIMIZERS", "ToyDataConfig", "ToyGridConfig", "ToyModelConfig", "ToyTrainConfig"]

AUGMENTATIONS = ("finite", "online", "iid")
OPTIMIZERS = ("adam", "gd")


@dataclass(frozen=True)
class ToyDataConfig:
    num_classes: int = setting(5, flag="classes", help="True classes C of the mixture.")
    dim: int = setting(16, help="Input dimension d.")
    signal_dim: int = setting(4, help="Coordinates d1 that carry the class.")
    sigma: float = setting(1.0, help="Noise std: Sigma2 = Sigma3 = sigma^2 I = 10 Sigma1.")
    center_scale: float = setting(
        3.0, help="Cluster-centre std in units of the within-class std sigma1: mu_k ~ N(0, (center_scale sigma1)^2 I)."
    )
    task_seed: int = setting(0, help="Seed of the cluster centres mu_k.")
    augment: str = setting(
        "finite", help="finite (B views drawn once), online (fresh views every step) or iid (same-class samples)."
    )
    label_noise: float = setting(1.0, help="Fraction of random training labels: 0 clean, 1 random.")
    random_classes: int | None = setting(None, help="Random classes C' (default: C).")
    probe_train: int = setting(500, help="Clean labelled points the K-NN probe is fitted on.")
    test: int = setting(1000, help="Clean test points.")

    def __post_init__(self) -> None:
        if self.num_classes < 2 or self.dim < 1 or not 1 <= self.signal_dim <= self.dim:
            raise BMError(
                f"need num_classes >= 2 and 1 <= signal_dim <= dim; got C={self.num_classes}, "
                f"d={self.dim}, d1={self.signal_dim}"
            )
        require_finite(sigma=self.sigma, center_scale=self.center_scale, label_noise=self.label_noise)
        require_range(sigma=(self.sigma, 0, ">"), center_scale=(self.center_scale, 0, ">="))
        if self.augment not in AUGMENTATIONS:
            raise BMError(f"augment must be one of {', '.join(AUGMENTATIONS)}; got {self.augment!r}")
        require_range(probe_train=(self.probe_train, 1, ">="), test=(self.test, 1, ">="))
        LabelConfig(self.label_noise, self.random_classes)  # validates both

    @property
    def sigma1(self) -> float:
        return self.sigma / math.sqrt(10.0)


@dataclass(frozen=True)
class ToyModelConfig:
    prototypes: int = setting(32, help="Prototypes K of the projector.")
    init_scale: float = setting(1.0, help="Encoder init: W ~ N(0, init_scale^2 / d).")

    def __post_init__(self) -> None:
        require_finite(init_scale=self.init_scale)
        require_range(prototypes=(self.prototypes, 1, ">="), init_scale=(self.init_scale, 0, ">"))


@dataclass(frozen=True)
class ToyTrainConfig:
    optimizer: str = setting("adam", help="adam or gd (plain gradient descent).")
    lr: float = setting(0.01, help="Learning rate.")
    steps: int = setting(2000, help="Training budget t (steps).")
    batch_size: int = setting(256, help="Points per step and model; 0 = full batch.")
    track_every: int = setting(200, help="Steps between Inv/Bias measurements (curves.csv); 0 = end only.")

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise BMError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}")
        require_finite(lr=self.lr)
        require_range(
            lr=(self.lr, 0, ">"),
            steps=(self.steps, 1, ">="),
            batch_size=(self.batch_size, 0, ">="),
            track_every=(self.track_every, 0, ">="),
        )


@dataclass(frozen=True)
class ToyGridConfig(JsonConfig):
    ns: tuple[int, ...] = setting((8, 16, 32, 64, 128, 256), help="Comma-separated sample sizes n.")
    Bs: tuple[int, ...] = setting(
        (1, 2, 4, 8, 16, 32, 64),
        flag="Bs",
        help="Comma-separated views per sample B (view 0 is the sample itself; B = 1: no augmentation).",
    )
    seeds: tuple[int, ...] = setting((0, 1, 2), help="Comma-separated seeds; results are averaged over them.")
    k: int = setting(20, help="K-NN neighbours.")
    knn_normalize: bool = setting(False, help="L2-normalize embeddings before K-NN (the deep protocol does).")
    capacity_repeats: int = setting(3, help="Random labelings R tried per n when estimating C_t.")
    capacity_n_max: int = setting(4096, help="Largest n the capacity search tries.")
    device: str = setting("cpu", help="Torch device: cpu, cuda, cuda:N.")
    data: ToyDataConfig = setting(factory=ToyDataConfig, help="The Gaussian mixture.")
    model: ToyModelConfig = setting(factory=ToyModelConfig, help="The prototype network.")
    train: ToyTrainConfig = setting(factory=ToyTrainConfig, help="Its training.")

    def __post_init__(self) -> None:
        for name, values, low in (("n", self.ns, 1), ("B", self.Bs, 1)):
            if not values or any(not isinstance(v, int) or v < low for v in values):
                raise BMError(f"every {name} must be an integer >= {low}; got {list(values)}")
            if len(set(values)) != len(values):
                raise BMError(f"every {name} must be given once; got {list(values)}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or any(s < 0 for s in self.seeds):
            raise BMError(f"seeds must be distinct non-negative integers; got {list(self.seeds)}")
        if not 1 <= self.k <= self.data.probe_train:
            raise BMError(f"k={self.k} must lie in [1, {self.data.probe_train}] (the probe-train set size)")
        require_range(capacity_repeats=(self.capacity_repeats, 1, ">="), capacity_n_max=(self.capacity_n_max, 1, ">="))
