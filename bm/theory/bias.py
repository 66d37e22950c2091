r"""The Bias term of Theorem B.2 grouped by random class, and what makes it hard to drive to zero.

With random labels r_i in {0..C-1}, targets Y[i] = e_{r_i} and N_c = {i : r_i = c},

  (B.3)  Bias = (1/n) sum_c sum_{i in N_c} ||e_c - Fbar_i||^2.

Let m_c be the mean of Fbar_i over N_c and m_{c,k} the mean over N_{c,k} = {i in N_c : z_i = k}
(z_i the true class). Applying Lemma B.1 twice (law of total variance) splits each class's sum
exactly into three parts:

  (B.4)  Bias = (1/n) sum_c |N_c| ||e_c - m_c||^2                          (centroid)
              + (1/n) sum_c sum_k |N_{c,k}| ||m_{c,k} - m_c||^2             (between true classes)
              + (1/n) sum_c sum_k sum_{i in N_{c,k}} ||Fbar_i - m_{c,k}||^2  (within).

The between-true-classes part is the "bad bias": it vanishes only if samples of *different* true
classes that share a random label are mapped to the same output, which destroys class structure
that an invariant encoder would otherwise keep. Centroid and within parts are the rest.

Per-sample limit (C >> n, one random class per sample): at zero loss Fbar_i = e_{r_i} with distinct
r_i, so ||Fbar_i - Fbar_j||^2 = 2 for every pair i != j; `mean_separation` measures that quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from bm.arrays import as_tensor, output, require_ndim
from bm.errors import ShapeError

__all__ = ["BiasSplit", "class_grouped_bias", "mean_separation"]


@dataclass(frozen=True)
class BiasSplit:
    """Eq. (B.4): total = centroid + between_true + within; per_class[c] is class c's share of total."""

    total: Any
    centroid: Any
    between_true: Any
    within: Any
    per_class: Any


def _group_means(values: torch.Tensor, groups: torch.Tensor, num_groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Means (G, C) and counts (G,) of the rows of values (n, C) per group id in [0, G)."""
    counts = torch.bincount(groups, minlength=num_groups).to(values.dtype)
    sums = torch.zeros(num_groups, values.shape[1], dtype=values.dtype, device=values.device)
    sums.index_add_(0, groups, values)
    return sums / counts.clamp(min=1)[:, None], counts


def class_grouped_bias(preds: Any, random_labels: Any, true_labels: Any) -> BiasSplit:
    """Eq. (B.3)-(B.4) for preds (n, B, C) (or mean predictions (n, C)), random labels (n,) in [0, C)
    and true labels (n,) (any non-negative integers). Returns a `BiasSplit`."""
    F, from_numpy = as_tensor(preds, "preds")
    if F.ndim == 3:
        F = F.mean(1)
    require_ndim(F, 2, "preds", "(n, B, C) or (n, C)")
    n, C = F.shape
    r = torch.as_tensor(random_labels, device=F.device).long().reshape(-1)
    z = torch.as_tensor(true_labels, device=F.device).long().reshape(-1)
    if r.shape[0] != n or z.shape[0] != n:
        raise ShapeError(f"labels of lengths {r.shape[0]} and {z.shape[0]} do not match preds {tuple(F.shape)}")
    if n == 0 or r.min() < 0 or r.max() >= C or z.min() < 0:
        raise ShapeError(f"need n >= 1, random labels in [0, {C}) and true labels >= 0")
    K = int(z.max()) + 1
    cell = r * K + z  # joint id of (random class, true class)
    m_c, n_c = _group_means(F, r, C)  # (C, C), (C,)
    m_ck, n_ck = _group_means(F, cell, C * K)  # (C*K, C), (C*K,)
    eye = torch.eye(C, dtype=F.dtype, device=F.device)
    centroid_c = n_c * (eye - m_c).square().sum(-1)  # (C,)
    between_ck = n_ck * (m_ck - m_c.repeat_interleave(K, 0)).square().sum(-1)  # (C*K,)
    within_i = (F - m_ck[cell]).square().sum(-1)  # (n,)
    between_c = between_ck.view(C, K).sum(1)
    within_c = torch.zeros(C, dtype=F.dtype, device=F.device).index_add_(0, r, within_i)
    per_class = (centroid_c + between_c + within_c) / n
    parts = (per_class.sum(), centroid_c.sum() / n, between_c.sum() / n, within_c.sum() / n)
    per_class_out = per_class.cpu().numpy() if from_numpy else per_class
    total, centroid, between_true, within = (output(p, from_numpy) for p in parts)
    return BiasSplit(total, centroid, between_true, within, per_class=per_class_out)


def mean_separation(preds: Any) -> Any:
    """Mean over ordered pairs i != j of ||Fbar_i - Fbar_j||^2 for preds (n, B, C) or (n, C), n >= 2.

    Computed in O(nC) as 2/(n-1) sum_i ||Fbar_i - mean(Fbar)||^2. Equals 2 at zero loss in the
    per-sample limit (distinct one-hot targets).
    """
    F, from_numpy = as_tensor(preds, "preds")
    if F.ndim == 3:
        F = F.mean(1)
    require_ndim(F, 2, "preds", "(n, B, C) or (n, C)")
    n = F.shape[0]
    if n < 2:
        raise ShapeError(f"mean_separation needs n >= 2 samples, got preds {tuple(F.shape)}")
    return output(2.0 / (n - 1) * (F - F.mean(0)).square().sum(), from_numpy)
