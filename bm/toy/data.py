r"""The Gaussian-mixture data of Appendix E and its augmentations.

x in R^d, true class z uniform over C. The first d1 coordinates carry the class, the rest is noise:
    x[:d1] | z = k ~ N(mu_k, Sigma1),   x[d1:] ~ N(0, Sigma2),   Sigma2 = Sigma3 = 10 Sigma1 = sigma^2 I.
Cluster centres mu_k ~ N(0, (center_scale * sigma1)^2 I_{d1}), sigma1 = sigma / sqrt(10), drawn once
from `task_seed`: center_scale (in units of the within-class spread sigma1) sets how separable the
classes are, sigma only the overall scale. Augmentation: T(x) = x + a, a[:d1] = 0, a[d1:] ~ N(0, Sigma3),
so augmentations move only the noise coordinates and keep the class.

A finite augmentation set holds B views per sample: view 0 is the sample itself (B = 1 means no
augmentation), views 1..B-1 are drawn once. The i.i.d. variant of Sec. 5 replaces views 1..B-1 by
fresh independent samples of the same true class.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bm.labels import LabelConfig, assign_labels
from bm.toy.config import AUGMENTATIONS, ToyDataConfig

__all__ = ["AUGMENTATIONS", "ToyDataConfig", "ToyMixture", "ToySplit"]


@dataclass(frozen=True)
class ToySplit:
    """One seed's data. views (n, B, d) with views[:, 0] the clean samples; true (n,) classes;
    labels (n,) training labels; probe_x/probe_y and test_x/test_y clean labelled sets."""

    views: torch.Tensor
    true: torch.Tensor
    labels: torch.Tensor
    num_labels: int
    probe_x: torch.Tensor
    probe_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor


class ToyMixture:
    """The mixture of Appendix E with fixed centres; every draw takes an explicit generator."""

    def __init__(self, config: ToyDataConfig, dtype: torch.dtype = torch.float32) -> None:
        self.config = config
        self.dtype = dtype
        gen = torch.Generator().manual_seed(config.task_seed)
        self.centres = (
            config.center_scale
            * config.sigma1
            * torch.randn(config.num_classes, config.signal_dim, generator=gen, dtype=dtype)
        )  # (C, d1)

    def sample_given(self, classes: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Points (*classes.shape, d) of the given true classes."""
        c = self.config
        signal = self.centres[classes] + c.sigma1 * torch.randn(
            *classes.shape, c.signal_dim, generator=gen, dtype=self.dtype
        )
        noise = c.sigma * torch.randn(*classes.shape, c.dim - c.signal_dim, generator=gen, dtype=self.dtype)
        return torch.cat([signal, noise], -1)

    def sample(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n points (n, d) and their true classes (n,)."""
        z = torch.randint(0, self.config.num_classes, (n,), generator=gen)
        return self.sample_given(z, gen), z

    def augmentation_noise(self, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
        """a (*shape, d) with a[..., :d1] = 0 and a[..., d1:] ~ N(0, sigma^2 I)."""
        c = self.config
        noise = c.sigma * torch.randn(*shape, c.dim - c.signal_dim, generator=gen, dtype=self.dtype)
        return torch.cat([torch.zeros(*shape, c.signal_dim, dtype=self.dtype), noise], -1)

    def split(self, n: int, B: int, seed: int) -> ToySplit:
        """Training set of n samples with B views each (nested: the first n' < n samples and
        first B' < B views are the split for (n', B')), labels and the clean probe sets."""
        c = self.config
        gen = torch.Generator().manual_seed(seed)
        x, z = self.sample(n, gen)
        if c.augment == "iid":
            extra = self.sample_given(z[:, None].expand(n, B - 1), gen)  # (n, B-1, d)
        else:
            extra = x[:, None] + self.augmentation_noise((n, B - 1), gen)
        views = torch.cat([x[:, None], extra], 1)  # (n, B, d)
        labels = assign_labels(z, c.num_classes, LabelConfig(c.label_noise, c.random_classes), seed)
        probe_x, probe_y = self.sample(c.probe_train, gen)
        test_x, test_y = self.sample(c.test, gen)
        return ToySplit(views, z, labels.labels, labels.num_classes, probe_x, probe_y, test_x, test_y)
