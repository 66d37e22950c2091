"""Linear probe: multinomial logistic regression on standardized features, on their device.

Objective: mean cross-entropy + (l2 / 2) ||W||^2 (bias unpenalized), minimized full-batch with
L-BFGS and a strong-Wolfe line search. This is scikit-learn's LogisticRegression with
C = 1 / (l2 * n_train) on the same standardized features.
"""

from __future__ import annotations

from typing import Any

import torch

from bm.errors import BMError, ShapeError
from bm.probe.knn import _features, _labels

__all__ = ["L2_GRID", "linear_probe_accuracy", "linear_probe_correct", "linear_probe_cv"]

L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # the l2 values cross-validation chooses among


def linear_probe_accuracy(
    train_x: Any,
    train_y: Any,
    test_x: Any,
    test_y: Any,
    l2: float = 1e-4,
    max_iter: int = 500,
    num_classes: int | None = None,
) -> float:
    """Test accuracy of a multinomial logistic regression fitted on (train_x (n, *f), train_y (n,))."""
    return float(linear_probe_correct(train_x, train_y, test_x, test_y, l2, max_iter, num_classes).double().mean())


def linear_probe_cv(
    train_x: Any,
    train_y: Any,
    test_x: Any,
    test_y: Any,
    l2s: tuple[float, ...] = L2_GRID,
    folds: int = 5,
    max_iter: int = 500,
    num_classes: int | None = None,
) -> tuple[torch.Tensor, float]:
    """(per-test-point correctness (m,) bool, the chosen l2) of `linear_probe_correct` at the l2 of `l2s` with the
    best mean accuracy over `folds` class-stratified folds of the training set (ties: the larger l2; a set of one
    image per class has no fold with points on both sides, so every l2 ties and the largest is taken)."""
    X = _features(train_x, "train_x")
    Y = _labels(train_y, X.shape[0], "train_y", X.device)
    C = num_classes or int(Y.max()) + 1
    order = torch.argsort(Y, stable=True)  # within each class, every folds-th point goes to one fold
    fold = torch.empty_like(Y)
    rank = torch.arange(len(Y), device=Y.device) - torch.searchsorted(Y[order], Y[order])
    fold[order] = rank % folds
    usable = [f for f in range(folds) if bool((fold == f).any()) and bool((fold != f).any())]
    scores = {}
    for l2 in l2s:
        hits = [
            linear_probe_correct(X[fold != f], Y[fold != f], X[fold == f], Y[fold == f], l2, max_iter, C)
            for f in usable
        ]
        scores[l2] = float(torch.cat(hits).double().mean()) if hits else 0.0
    best = max(l2s, key=lambda l2: (scores[l2], l2))
    return linear_probe_correct(X, Y, test_x, test_y, best, max_iter, C), best


def linear_probe_correct(
    train_x: Any,
    train_y: Any,
    test_x: Any,
    test_y: Any,
    l2: float = 1e-4,
    max_iter: int = 500,
    num_classes: int | None = None,
) -> torch.Tensor:
    """Per-test-point correctness (m,) bool of a multinomial logistic regression fitted on (train_x (n, *f),
    train_y (n,))."""
    if l2 < 0 or max_iter < 1:
        raise BMError(f"need l2 >= 0 and max_iter >= 1, got l2={l2}, max_iter={max_iter}")
    X = _features(train_x, "train_x")
    X = X.double() if X.dtype == torch.float64 else X.float()
    T = _features(test_x, "test_x", X.device).to(X.dtype)
    if X.shape[1] != T.shape[1]:
        raise ShapeError(f"train features have {X.shape[1]} dims but test features {T.shape[1]}")
    Y = _labels(train_y, X.shape[0], "train_y", X.device)
    truth = _labels(test_y, T.shape[0], "test_y", X.device)
    C = num_classes or int(Y.max()) + 1
    mean, std = X.mean(0), X.std(0, unbiased=False).clamp(min=1e-8)
    X, T = (X - mean) / std, (T - mean) / std
    W = torch.zeros(X.shape[1], C, dtype=X.dtype, device=X.device, requires_grad=True)
    b = torch.zeros(C, dtype=X.dtype, device=X.device, requires_grad=True)
    opt = torch.optim.LBFGS(
        [W, b],
        lr=1,
        max_iter=max_iter,
        tolerance_grad=1e-7,
        tolerance_change=1e-10,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(X @ W + b, Y) + 0.5 * l2 * W.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (T @ W + b).argmax(1) == truth
