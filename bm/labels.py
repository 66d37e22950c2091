"""Label protocols shared by the toy and deep pipelines (Zhang et al.'s randomization test).

clean (noise 0), random (noise 1: every label a uniform draw), a noise fraction p (exactly
round(p n) indices, chosen at random, get a uniform draw; which ones is recorded), and a number of
random classes C' independent of the true C, up to "per-sample": one class per training sample.
Everything is fixed by the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bm.errors import BMError

if TYPE_CHECKING:
    import torch

__all__ = ["PER_SAMPLE", "LabelConfig", "Labels", "assign_labels"]

PER_SAMPLE = "per-sample"


@dataclass(frozen=True)
class LabelConfig:
    noise: float = 1.0  # fraction of training labels replaced by random ones: 0 clean, 1 random
    classes: int | str | None = None  # random classes C': None = the true C; "per-sample" = one per sample

    def __post_init__(self) -> None:
        if not 0.0 <= self.noise <= 1.0:
            raise BMError(f"label noise must lie in [0, 1], got {self.noise}")
        if self.classes is not None and self.classes != PER_SAMPLE:
            if not isinstance(self.classes, int) or self.classes < 1:
                raise BMError(f"random classes must be a positive integer or {PER_SAMPLE!r}, got {self.classes!r}")


@dataclass(frozen=True)
class Labels:
    """labels (n,) long; randomized (n,) bool; num_classes: size of the output layer."""

    labels: torch.Tensor
    randomized: torch.Tensor
    num_classes: int


def assign_labels(true_labels: torch.Tensor, num_classes: int, config: LabelConfig, seed: int) -> Labels:
    """Training labels for true labels (n,) in [0, num_classes) under `config`, fixed by `seed`."""
    import torch

    true_labels = torch.as_tensor(true_labels).long().cpu()
    n = true_labels.shape[0]
    gen = torch.Generator().manual_seed(seed)
    if config.classes == PER_SAMPLE:
        random_classes = n
    else:
        random_classes = config.classes or num_classes
    randomized = torch.zeros(n, dtype=torch.bool)
    randomized[torch.randperm(n, generator=gen)[: round(config.noise * n)]] = True
    if config.classes == PER_SAMPLE:
        draws = torch.randperm(n, generator=gen)  # a class of its own for every sample
    else:
        draws = torch.randint(0, random_classes, (n,), generator=gen)
    labels = torch.where(randomized, draws, true_labels)
    out_classes = max(num_classes, random_classes) if config.noise < 1 else random_classes
    return Labels(labels=labels, randomized=randomized, num_classes=out_classes)
