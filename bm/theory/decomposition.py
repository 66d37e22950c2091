r"""The exact split of the augmented MSE loss into invariance and bias (App. B of the paper).

Notation: ``preds`` F has shape (n, B, C) with F[i, a] = f(T_a(x_i)); ``targets`` Y has shape
(n, C) (one-hot, soft, mixup-mixed or any real vectors); Fbar_i = (1/B) sum_a F[i, a].

Lemma B.1   (1/B) sum_i ||x_i - a||^2 = (1/(2B^2)) sum_{i,j} ||x_i - x_j||^2 + ||a - xbar||^2.
Theorem B.2 L = (1/(nB)) sum_{i,a} ||F[i,a] - Y[i]||^2 = Inv + Bias,
            Inv  = (1/(2nB^2)) sum_i sum_{a,b} ||F[i,a] - F[i,b]||^2
                 = (1/(nB))    sum_i sum_a   ||F[i,a] - Fbar_i||^2      (variance form, O(nBC)),
            Bias = (1/n) sum_i ||Y[i] - Fbar_i||^2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from bm.arrays import as_tensor, output, require_ndim
from bm.errors import ShapeError

__all__ = [
    "Decomposition",
    "DecompositionAccumulator",
    "OnlineEstimate",
    "lemma_b1",
    "inv_pairwise",
    "mse_decomposition",
    "online_estimates",
]


@dataclass(frozen=True)
class Decomposition:
    """loss = inv + bias (Theorem B.2); floats for numpy input, 0-d tensors for torch input."""

    loss: Any
    inv: Any
    bias: Any


def _check_pair(preds: Any, targets: Any) -> tuple[torch.Tensor, torch.Tensor, bool]:
    F, from_numpy = as_tensor(preds, "preds")
    Y, _ = as_tensor(targets, "targets")
    require_ndim(F, 3, "preds", "(n, B, C)")
    require_ndim(Y, 2, "targets", "(n, C)")
    if Y.shape[0] != F.shape[0] or Y.shape[1] != F.shape[2]:
        raise ShapeError(
            f"targets {tuple(Y.shape)} do not match preds {tuple(F.shape)}: expected preds (n, B, C) and targets (n, C)"
        )
    if F.shape[0] == 0 or F.shape[1] == 0:
        raise ShapeError(f"preds {tuple(F.shape)} is empty: need n >= 1 and B >= 1")
    return F, Y.to(device=F.device, dtype=F.dtype), from_numpy


def _per_sample_terms(F: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Per-sample (loss, inv, bias), each of shape (n,)."""
    mean = F.mean(dim=1)  # (n, C)
    inv = (F - mean[:, None]).square().sum(-1).mean(1)  # (n,)
    bias = (Y - mean).square().sum(-1)  # (n,)
    loss = (F - Y[:, None]).square().sum(-1).mean(1)  # (n,)
    return loss, inv, bias


def mse_decomposition(preds: Any, targets: Any) -> Decomposition:
    """Theorem B.2: the augmented MSE loss of preds (n, B, C) against targets (n, C) as Inv + Bias.

    Inv is computed through the variance identity in O(nBC); `inv_pairwise` is the literal
    double sum. Works on numpy arrays and torch tensors (any device, float32/float64).
    """
    F, Y, from_numpy = _check_pair(preds, targets)
    loss, inv, bias = (t.mean() for t in _per_sample_terms(F, Y))
    return Decomposition(output(loss, from_numpy), output(inv, from_numpy), output(bias, from_numpy))


def inv_pairwise(preds: Any) -> Any:
    """Inv by its definition, (1/(2nB^2)) sum_i sum_{a,b} ||F[i,a] - F[i,b]||^2; O(nB^2C), for tests."""
    F, from_numpy = as_tensor(preds, "preds")
    require_ndim(F, 3, "preds", "(n, B, C)")
    n, B, _ = F.shape
    diffs = F[:, :, None, :] - F[:, None, :, :]  # (n, B, B, C)
    return output(diffs.square().sum() / (2 * n * B * B), from_numpy)


def lemma_b1(points: Any, anchor: Any) -> tuple[Any, Any, Any]:
    """Lemma B.1 for points (B, d) and an anchor (d,): returns (lhs, spread, offset) with

    lhs = (1/B) sum_i ||x_i - a||^2, spread = (1/(2B^2)) sum_{i,j} ||x_i - x_j||^2 (literal double
    sum), offset = ||a - xbar||^2, so that lhs == spread + offset.
    """
    X, from_numpy = as_tensor(points, "points")
    a, _ = as_tensor(anchor, "anchor")
    require_ndim(X, 2, "points", "(B, d)")
    if a.shape != X.shape[1:]:
        raise ShapeError(f"anchor {tuple(a.shape)} does not match points {tuple(X.shape)}")
    a = a.to(X)
    B = X.shape[0]
    lhs = (X - a).square().sum(-1).mean()
    spread = (X[:, None] - X[None]).square().sum() / (2 * B * B)
    offset = (a - X.mean(0)).square().sum()
    return tuple(output(v, from_numpy) for v in (lhs, spread, offset))


class DecompositionAccumulator:
    """Streams Theorem B.2 over minibatches: `update(preds_batch, targets_batch)`, then `result()`.

    Sums are kept in float64 on the first batch's device, so the result equals the one-shot
    decomposition of the concatenated batches (up to float64 rounding). Batches may differ in B;
    every term is then the average over samples of its per-sample value.
    """

    def __init__(self) -> None:
        self._sums: torch.Tensor | None = None  # (3,) loss, inv, bias
        self._count = 0
        self._from_numpy = True

    def update(self, preds: Any, targets: Any) -> None:
        F, Y, self._from_numpy = _check_pair(preds, targets)
        terms = torch.stack([t.to(torch.float64).sum() for t in _per_sample_terms(F, Y)])
        self._sums = terms if self._sums is None else self._sums + terms.to(self._sums.device)
        self._count += F.shape[0]

    @property
    def count(self) -> int:
        return self._count

    def result(self) -> Decomposition:
        if self._sums is None:
            raise ShapeError("no batch was added to the accumulator")
        loss, inv, bias = self._sums / self._count
        return Decomposition(*(output(v, self._from_numpy) for v in (loss, inv, bias)))


@dataclass(frozen=True)
class OnlineEstimate:
    """Unbiased estimates of the population terms for online (infinite) augmentation."""

    loss: Any
    inv: Any
    bias: Any


def online_estimates(preds: Any, targets: Any) -> OnlineEstimate:
    r"""Unbiased Monte-Carlo estimators of the infinite-augmentation terms from B >= 2 draws.

    Population quantities, per sample x with target y (averaged over the n samples):
        Inv  = (1/2) E_{T1,T2} ||f(T1 x) - f(T2 x)||^2 = E ||f(T x) - E f(T x)||^2,
        Bias = ||y - E_T f(T x)||^2,        E ||f(T x) - y||^2 = Inv + Bias.
    With s^2 = (1/B) sum_a ||F[i,a] - Fbar_i||^2 (the finite-B Inv), E[s^2] = (B-1)/B Inv, so
        Inv_hat  = B/(B-1) s^2,
        Bias_hat = ||y - Fbar_i||^2 - Inv_hat / B      (since E||y - Fbar||^2 = Bias + Inv/B),
    and loss_hat = Inv_hat + Bias_hat equals the plain Monte-Carlo loss (1/B) sum_a ||F[i,a]-y||^2.
    """
    F, Y, from_numpy = _check_pair(preds, targets)
    B = F.shape[1]
    if B < 2:
        raise ShapeError(f"online estimates need B >= 2 augmentations per sample, got preds {tuple(F.shape)}")
    loss, inv, bias = _per_sample_terms(F, Y)
    inv_hat = inv * (B / (B - 1))
    bias_hat = bias - inv_hat / B
    return OnlineEstimate(
        output(loss.mean(), from_numpy), output(inv_hat.mean(), from_numpy), output(bias_hat.mean(), from_numpy)
    )
