r"""Normalized invariance of a feature map q (Eq. 2 of the paper):

  (2)  I(x; q, T) = E_{T1,T2} ||q(T1 x) - q(T2 x)||^2 / E_{x' != x} ||q(x) - q(x')||^2.

0 when q is constant over augmentations; unchanged when q is rescaled; about 1 when two
augmentations of x are as far apart as two different samples. Features of any shape are flattened
per sample. Numerator, from B >= 2 views: the mean over ordered pairs a != b, which is the unbiased
2 B/(B-1) (1/B) sum_a ||q_a - qbar||^2. Denominator, over the data set's clean features c_1..c_n:
(1/(n-1)) sum_{j != i} ||c_i - c_j||^2 = n/(n-1) (||c_i - cbar||^2 + V), V = (1/n) sum_j ||c_j - cbar||^2,
so both cost O(nBD).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from bm.arrays import as_tensor, output
from bm.errors import ShapeError

__all__ = ["InvarianceAccumulator", "normalized_invariance"]


def _flatten(views: Any, clean: Any) -> tuple[torch.Tensor, torch.Tensor, bool]:
    Q, from_numpy = as_tensor(views, "views")
    if Q.ndim < 3:
        raise ShapeError(f"views must have shape (n, B, *feature_shape), got {tuple(Q.shape)}")
    n, B = Q.shape[:2]
    if B < 2:
        raise ShapeError(f"normalized invariance needs B >= 2 views per sample, got views {tuple(Q.shape)}")
    Q = Q.reshape(n, B, -1)
    if clean is None:
        c = Q[:, 0]
    else:
        c, _ = as_tensor(clean, "clean")
        if c.shape[0] != n or c[0].numel() != Q.shape[2]:
            raise ShapeError(f"clean features {tuple(c.shape)} do not match views {tuple(Q.shape)}")
        c = c.reshape(n, -1).to(Q)
    return Q, c, from_numpy


def _pair_numerators(Q: torch.Tensor) -> torch.Tensor:
    """(n,) mean over ordered pairs a != b of ||q_a - q_b||^2 for views Q (n, B, D)."""
    B = Q.shape[1]
    spread = (Q - Q.mean(1, keepdim=True)).square().sum(-1).mean(1)  # (n,)
    return 2.0 * B / (B - 1) * spread


def normalized_invariance(views: Any, clean: Any = None, reduction: str = "mean") -> Any:
    """Eq. (2) for views (n, B, *f) of q(T_a x_i) and clean features (n, *f) of q(x_i), n >= 2.

    `clean=None` uses the first view of each sample. `reduction="mean"` averages the per-sample
    ratios (a float for numpy input, a 0-d tensor for torch input); `"none"` returns all n of them.
    """
    Q, c, from_numpy = _flatten(views, clean)
    n = Q.shape[0]
    if n < 2:
        raise ShapeError("normalized invariance needs n >= 2 samples (the denominator compares samples)")
    centred = (c - c.mean(0)).square().sum(-1)  # (n,)
    denom = n / (n - 1) * (centred + centred.mean())
    ratio = _pair_numerators(Q) / denom.clamp(min=torch.finfo(Q.dtype).tiny)
    if reduction == "none":
        return ratio.cpu().numpy() if from_numpy else ratio
    if reduction != "mean":
        raise ShapeError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    return output(ratio.mean(), from_numpy)


class InvarianceAccumulator:
    """Streams Eq. (2) over batches as a ratio of data-set means:

        E_x E_{T1,T2} ||q(T1 x) - q(T2 x)||^2 / E_{x != x'} ||q(x) - q(x')||^2.

    The per-sample ratio averaged over samples needs every clean feature at once (use
    `normalized_invariance`); this form needs only O(D) state, so any layer of any size streams. A layer that maps
    every sample to one point (dead ReLUs) has no denominator: its result is NaN, not an error.
    """

    def __init__(self) -> None:
        self._num = 0.0
        self._sum: torch.Tensor | None = None  # (D,) float64
        self._sq = 0.0
        self._n = 0

    def update(self, views: Any, clean: Any = None) -> None:
        Q, c, _ = _flatten(views, clean)
        c64 = c.to(torch.float64)
        self._num += float(_pair_numerators(Q).to(torch.float64).sum())
        s = c64.sum(0)
        self._sum = s if self._sum is None else self._sum + s.to(self._sum.device)
        self._sq += float(c64.square().sum())
        self._n += Q.shape[0]

    def result(self) -> float:
        if self._n < 2 or self._sum is None:
            raise ShapeError("the invariance accumulator needs at least 2 samples")
        n = self._n
        var = self._sq / n - float((self._sum / n).square().sum())  # V = (1/n) sum ||c - cbar||^2
        if var <= 1e-12 * (self._sq / n):  # every sample maps to one point (a collapsed layer): Eq. 2 is undefined
            return math.nan
        denom = 2.0 * n / (n - 1) * var
        return self._num / n / denom
