"""Manifold capacity by direct simulation: the judge of MFTMA (bm.theory.mftma) where theory is in doubt.

alpha_c = P / n* for P point clouds, where n* is the dimension at which half of the random dichotomies of the
clouds (every point of a cloud gets its cloud's label +-1) are linearly separable (Gardner's definition, which
MFTMA estimates; Chung et al. PRX 2018 Fig. 2 compare the two the same way). The clouds, minus their global mean,
are projected onto n random Gaussian directions; separability of one dichotomy is an LP feasibility problem (find
w with y_i w . x_i >= 1, or y_i (w . x_i + b) >= 1 with a bias), solved by HiGHS.

Which dichotomies are "random" is a convention that the theory (P -> infinity) does not see but a small P does:
- "iid": labels +-1 independent (the ensemble of Gardner's and MFTMA's replica calculation). After the global
  mean is subtracted a constant dichotomy is never separable through the origin, so the separable fraction tops
  out at 1 - 2^(1-P) (0.75 at P = 3).
- "both": iid labels conditioned on both labels being present (the default here).
- "balanced": exactly P // 2 clouds labelled +1 (the public reference simulation, Chung's `manifold_simcap`,
  which also fits a bias: `bias=True`).
For points in general position the iid fraction is Cover's count C(P, n) / 2^P, C(P, n) = 2 sum_{k<n} binom(P-1, k)
(with a bias: C(P, n + 1) / 2^P); tests check the simulation against it. For low-dimensional clouds the
conventions give alpha = 0.49 (iid), 0.60 (both) and 0.87 (balanced + bias) at P = 3; iid and both agree within
1% from P = 7 on, while balanced + bias stays 9-25% higher up to P = 20 (docs/mftma-small-p.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linprog

from bm.errors import BMError

__all__ = ["LABELS", "low_dimensional_clouds", "separable", "separable_fraction", "simulated_capacity"]

LABELS = ("iid", "both", "balanced")


def low_dimensional_clouds(
    P: int, N: int = 200, M: int = 40, D: int = 5, radius: float = 0.5, seed: int = 0
) -> list[np.ndarray]:
    """P clouds (M, N): a random unit centre plus `radius` times Gaussian points (E|.|^2 = 1) in D random
    orthonormal directions of its own."""
    rng = np.random.default_rng(seed)
    clouds = []
    for _ in range(P):
        centre = rng.standard_normal(N)
        directions = np.linalg.qr(rng.standard_normal((N, D)))[0]  # (N, D)
        clouds.append(
            centre / np.linalg.norm(centre) + radius * rng.standard_normal((M, D)) / np.sqrt(D) @ directions.T
        )
    return clouds


def separable(x: np.ndarray, y: np.ndarray, bias: bool = False) -> bool:
    """Is there a w with y_i w . x_i >= 1 for all rows x_i (x: (m, n), y: (m,)); with `bias`, a (w, b) with
    y_i (w . x_i + b) >= 1?"""
    if bias:
        x = np.hstack([x, np.ones((len(x), 1))])
    result = linprog(
        np.zeros(x.shape[1]),
        A_ub=-(y[:, None] * x),
        b_ub=-np.ones(len(x)),
        bounds=(None, None),
        method="highs",
        options={"presolve": False},  # a small dense feasibility problem: presolve costs ~30% and removes nothing
    )
    return result.status == 0


def _dichotomy(rng: np.random.Generator, P: int, labels: str) -> np.ndarray:
    """(P,) one random dichotomy of the given convention (module docstring)."""
    if labels == "balanced":
        y = -np.ones(P)
        y[rng.choice(P, P // 2, replace=False)] = 1.0
        return y
    y = rng.choice([-1.0, 1.0], P)
    while labels == "both" and abs(y.sum()) == P:
        y = rng.choice([-1.0, 1.0], P)
    return y


def separable_fraction(
    clouds: Sequence[np.ndarray],
    ns: Sequence[int],
    trials: int,
    seed: int = 0,
    labels: str = "both",
    bias: bool = False,
) -> np.ndarray:
    """(len(ns),) fraction of `trials` random dichotomies (`labels`: iid, both or balanced) separable after a random
    projection of the mean-subtracted clouds onto n dimensions, for each n in ns (with a bias term if `bias`)."""
    if labels not in LABELS:
        raise BMError(f"unknown label convention {labels!r}; choose one of {', '.join(LABELS)}")
    if trials < 1:
        raise BMError(f"need at least one dichotomy per n; got trials = {trials}")
    x = np.concatenate(clouds)
    x = x - x.mean(0)
    P, sizes = len(clouds), [len(c) for c in clouds]
    rng = np.random.default_rng(seed)
    fractions = []
    for n in ns:
        hits = 0
        for _ in range(trials):
            y = _dichotomy(rng, P, labels)
            hits += separable(x @ rng.standard_normal((x.shape[1], n)), np.repeat(y, sizes), bias)
        fractions.append(hits / trials)
    return np.array(fractions)


def simulated_capacity(
    clouds: Sequence[np.ndarray],
    ns: Sequence[int],
    trials: int,
    seed: int = 0,
    labels: str = "both",
    bias: bool = False,
) -> float:
    """alpha_c = P / n*, n* where the separable fraction crosses 1/2: the least-squares line through the points
    (n, fraction) with fraction in [0.1, 0.9], up to the first n whose fraction reaches 0.9 of the largest (near
    1/2 the curve is close to linear, and the iid fraction levels off at 1 - 2^(1-P) below 1; using every such n
    averages out more of the sampling noise than interpolating between two)."""
    sizes = np.array(sorted(ns), dtype=float)
    f = separable_fraction(clouds, sizes.astype(int).tolist(), trials, seed, labels, bias)
    rising = np.arange(len(f)) <= np.argmax(f >= 0.9 * f.max())
    near = (f >= 0.1) & (f <= 0.9) & rising
    if near.sum() < 2 or not (f.min() < 0.5 < f.max()):
        raise BMError(
            f"the separable fraction {np.round(f, 3).tolist()} must cross 1/2 with two points in "
            f"[0.1, 0.9] within n = {sizes.astype(int).tolist()}"
        )
    slope, intercept = np.polyfit(sizes[near], f[near], 1)
    return len(clouds) * slope / (0.5 - intercept)
