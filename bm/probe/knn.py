"""K-nearest-neighbour probe (K = 20 in the paper), in chunks on the features' device.

Protocol of the paper's released code: features L2-normalized (`normalize=True`), Euclidean
neighbours (on normalized features the same order as cosine similarity), uniform majority vote.
Options: 1/distance votes (as scikit-learn's weights="distance": exact matches take all the weight)
and DINO-style temperature votes exp(cos / T).

Ties are broken deterministically: among train points at the same distance the lower train index
is the nearer one (a stable order), and among classes with the same vote the lowest label wins.
Memory: one (chunk, n_train) score block at a time, never n_test x n_train.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from bm.errors import BMError, ShapeError

__all__ = ["KNNPrediction", "knn_accuracy", "knn_predict", "knn_scores", "WEIGHTINGS"]

WEIGHTINGS = ("uniform", "distance", "temperature")
_BLOCK_ELEMENTS = 1 << 24  # score-block size: 64 MiB of float32


@dataclass(frozen=True)
class KNNPrediction:
    """labels: predicted class per test point (n_test,); accuracy: None unless test_y was given."""

    labels: Any
    accuracy: float | None


def _features(x: Any, name: str, device: torch.device | None = None) -> torch.Tensor:
    t = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    if t.ndim < 2:
        raise ShapeError(f"{name} must have shape (n, *features), got {tuple(t.shape)}")
    t = t.reshape(t.shape[0], -1)
    if not torch.is_floating_point(t):
        t = t.float()
    return t if device is None else t.to(device)


def _labels(y: Any, n: int, name: str, device: torch.device) -> torch.Tensor:
    t = (y if isinstance(y, torch.Tensor) else torch.from_numpy(np.asarray(y))).reshape(-1).long().to(device)
    if t.shape[0] != n:
        raise ShapeError(f"{name} has {t.shape[0]} labels for {n} feature rows")
    if n and int(t.min()) < 0:
        raise ShapeError(f"{name} must be non-negative class indices")
    return t


def _neighbours(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (chunk, k) of the k largest scores per row; ties go to the lower index."""
    n = scores.shape[1]
    top, idx = scores.topk(min(k + 1, n), dim=1)
    idx = idx[:, :k]
    if k < n:
        tied = top[:, k - 1] == top[:, k]  # the k-th place is shared with a point left out
        if bool(tied.any()):
            rows = tied.nonzero().squeeze(1)
            order = torch.sort(scores[rows], dim=1, descending=True, stable=True).indices
            idx[rows] = order[:, :k]
    return idx


def _nearest_first(scores: torch.Tensor, k: int) -> torch.Tensor:
    """`_neighbours` ordered nearest first, ties by lower index: every prefix of length k' is the k' nearest."""
    idx = _neighbours(scores, k).sort(1).values  # ascending index
    order = torch.sort(scores.gather(1, idx), dim=1, descending=True, stable=True).indices
    return idx.gather(1, order)


def _votes(
    train_x: Any,
    train_y: Any,
    test_x: Any,
    ks: tuple[int, ...],
    weighting: str,
    temperature: float,
    normalize: bool,
    num_classes: int | None,
    exclude_self: bool,
):
    """(X, C, iterator over test chunks of {k: votes (chunk, C)}): one neighbour search for the largest k."""
    if weighting not in WEIGHTINGS:
        raise BMError(f"weighting must be one of {', '.join(WEIGHTINGS)}; got {weighting!r}")
    X = _features(train_x, "train_x")
    T = _features(test_x, "test_x", X.device).to(X.dtype)
    if X.shape[1] != T.shape[1]:
        raise ShapeError(f"train features have {X.shape[1]} dims but test features {T.shape[1]}")
    n_train = X.shape[0]
    if exclude_self and T.shape[0] != n_train:
        raise ShapeError(f"exclude_self needs test_x to be train_x; got {T.shape[0]} and {n_train} rows")
    for k in ks:
        if not 1 <= k <= n_train - exclude_self:
            raise BMError(f"k must lie in [1, {n_train}] (the number of train points), got k={k}")
    Y = _labels(train_y, n_train, "train_y", X.device)
    C = num_classes or int(Y.max()) + 1
    if normalize or weighting == "temperature":
        Xn, Tn = torch.nn.functional.normalize(X, dim=1), torch.nn.functional.normalize(T, dim=1)
    if normalize:
        X, T = Xn, Tn
    neg_sq_norms = -X.square().sum(1)  # (n_train,)
    chunk = max(1, _BLOCK_ELEMENTS // n_train)

    def blocks():
        for s in range(0, T.shape[0], chunk):
            t = T[s : s + chunk]
            scores = torch.addmm(neg_sq_norms, t, X.T, alpha=2)  # (chunk, n_train): ||t||^2 - ||t - x||^2
            if exclude_self:
                rows = torch.arange(t.shape[0], device=X.device)
                scores[rows, s + rows] = -torch.inf
            idx = _nearest_first(scores, max(ks))  # (chunk, k_max)
            if weighting == "distance":
                d = (t.square().sum(1, keepdim=True) - scores.gather(1, idx)).clamp(min=0).sqrt()
            elif weighting == "temperature":
                w = ((Tn[s : s + chunk, None, :] * Xn[idx]).sum(-1) / temperature).exp()
            out = {}
            for k in ks:
                if weighting == "uniform":
                    wk = torch.ones((idx.shape[0], k), dtype=X.dtype, device=X.device)
                elif weighting == "distance":
                    exact = d[:, :k] == 0
                    wk = torch.where(
                        exact.any(1, keepdim=True), exact.to(X.dtype), 1 / d[:, :k].clamp(min=torch.finfo(X.dtype).tiny)
                    )
                else:
                    wk = w[:, :k]
                out[k] = torch.zeros(t.shape[0], C, dtype=X.dtype, device=X.device).scatter_add_(1, Y[idx[:, :k]], wk)
            yield out

    return X, T.shape[0], blocks()


def knn_predict(
    train_x: Any,
    train_y: Any,
    test_x: Any,
    test_y: Any = None,
    k: int = 20,
    weighting: str = "uniform",
    temperature: float = 0.07,
    normalize: bool = True,
    num_classes: int | None = None,
    exclude_self: bool = False,
) -> KNNPrediction:
    """Predict test labels by K-NN on train features (n_train, *f) and labels (n_train,).

    Features of any trailing shape are flattened. Returns a `KNNPrediction` whose labels are a
    numpy array for numpy inputs and a tensor on train_x's device otherwise; accuracy is filled in
    when test_y is given. `exclude_self=True` (test_x row i is train_x row i) leaves each point out
    of its own neighbours: leave-one-out accuracy on the training set.
    """
    X, n_test, blocks = _votes(
        train_x, train_y, test_x, (k,), weighting, temperature, normalize, num_classes, exclude_self
    )
    preds = [votes[k].argmax(1) for votes in blocks]  # first maximum: the lowest label wins a tie
    labels = torch.cat(preds) if preds else torch.zeros(0, dtype=torch.long, device=X.device)
    accuracy = None
    if test_y is not None:
        truth = _labels(test_y, n_test, "test_y", X.device)
        accuracy = float((labels == truth).double().mean()) if n_test else float("nan")
    from_numpy = not isinstance(train_x, torch.Tensor)
    return KNNPrediction(labels.cpu().numpy() if from_numpy else labels, accuracy)


def knn_accuracy(train_x: Any, train_y: Any, test_x: Any, test_y: Any, k: int = 20, **options: Any) -> float:
    """Accuracy of `knn_predict` on (test_x, test_y); options as for `knn_predict`."""
    return knn_predict(train_x, train_y, test_x, test_y, k=k, **options).accuracy


def knn_scores(
    train_x: Any,
    train_y: Any,
    test_x: Any,
    test_y: Any,
    ks: tuple[int, ...] = (10, 20, 200),
    tops: tuple[int, ...] = (1, 5),
    weighting: str = "uniform",
    temperature: float = 0.07,
    normalize: bool = True,
    num_classes: int | None = None,
    exclude_self: bool = False,
) -> dict[str, float]:
    """Top-t accuracies for several k from one neighbour search (the max(k) nearest, as DINO's evaluation):
    {"k20_top1": ..., "k20_top5": ...}. A point is top-t correct when its label is among the t classes with most
    votes (ties: the lower label first); top-1 equals `knn_accuracy` with that k."""
    X, n_test, blocks = _votes(
        train_x, train_y, test_x, tuple(ks), weighting, temperature, normalize, num_classes, exclude_self
    )
    truth = _labels(test_y, n_test, "test_y", X.device)
    hits = {(k, t): 0 for k in ks for t in tops}
    start = 0
    for votes in blocks:
        for k, v in votes.items():
            ranked = torch.sort(v, dim=1, descending=True, stable=True).indices  # ties: lower label first
            y = truth[start : start + v.shape[0], None]
            for t in tops:
                hits[k, t] += int((ranked[:, :t] == y).any(1).sum())
        start += next(iter(votes.values())).shape[0]
    return {f"k{k}_top{t}": hits[k, t] / n_test if n_test else float("nan") for k, t in hits}
