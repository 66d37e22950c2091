"""Manifold capacity by direct simulation: the judge of MFTMA (bm.theory.geometry) where theory is in doubt.

alpha_c = P / n* for P point clouds, where n* is the dimension at which half of the random dichotomies of the
clouds (every point of a cloud gets its cloud's label +-1) are linearly separable through the origin (Gardner's
definition, which MFTMA estimates; Chung et al. PRX 2018 Fig. 2 compare the two the same way). The clouds, minus
their global mean, are projected onto n random Gaussian directions; separability of one dichotomy is an LP
feasibility problem (find w with y_i w . x_i >= 1), solved by HiGHS.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linprog

from bm.errors import BMError

__all__ = ["low_dimensional_clouds", "separable", "separable_fraction", "simulated_capacity"]


def low_dimensional_clouds(P: int, N: int = 200, M: int = 40, D: int = 5, radius: float = 0.5,
                           seed: int = 0) -> list[np.ndarray]:
    """P clouds (M, N): a random unit centre plus `radius` times Gaussian points (E|.|^2 = 1) in D random
    orthonormal directions of its own."""
    rng = np.random.default_rng(seed)
    clouds = []
    for _ in range(P):
        centre = rng.standard_normal(N)
        directions = np.linalg.qr(rng.standard_normal((N, D)))[0]  # (N, D)
        clouds.append(centre / np.linalg.norm(centre) + radius * rng.standard_normal((M, D)) / np.sqrt(D) @ directions.T)
    return clouds


def separable(x: np.ndarray, y: np.ndarray) -> bool:
    """Is there a w with y_i w . x_i >= 1 for all rows x_i (x: (m, n), y: (m,))?"""
    result = linprog(np.zeros(x.shape[1]), A_ub=-(y[:, None] * x), b_ub=-np.ones(len(x)), bounds=(None, None),
                     method="highs")
    return result.status == 0


def separable_fraction(clouds: Sequence[np.ndarray], ns: Sequence[int], trials: int, seed: int = 0) -> np.ndarray:
    """(len(ns),) fraction of `trials` random dichotomies (both labels present) separable after a random
    projection of the mean-subtracted clouds onto n dimensions, for each n in ns."""
    x = np.concatenate(clouds)
    x = x - x.mean(0)
    P, sizes = len(clouds), [len(c) for c in clouds]
    rng = np.random.default_rng(seed)
    fractions = []
    for n in ns:
        hits = 0
        for _ in range(trials):
            labels = rng.choice([-1.0, 1.0], P)
            while abs(labels.sum()) == P:
                labels = rng.choice([-1.0, 1.0], P)
            hits += separable(x @ rng.standard_normal((x.shape[1], n)), np.repeat(labels, sizes))
        fractions.append(hits / trials)
    return np.array(fractions)


def simulated_capacity(clouds: Sequence[np.ndarray], ns: Sequence[int], trials: int, seed: int = 0) -> float:
    """alpha_c = P / n*, n* where the separable fraction crosses 1/2: the least-squares line through the points
    (n, fraction) with fraction in [0.1, 0.9] (near 1/2 the curve is close to linear; using every such n
    averages out more of the sampling noise than interpolating between two)."""
    ns = np.array(sorted(ns), dtype=float)
    f = separable_fraction(clouds, ns.astype(int).tolist(), trials, seed)
    near = (f >= 0.1) & (f <= 0.9)
    if near.sum() < 2 or not (f.min() < 0.5 < f.max()):
        raise BMError(f"the separable fraction {np.round(f, 3).tolist()} must cross 1/2 with two points in "
                      f"[0.1, 0.9] within n = {ns.astype(int).tolist()}")
    slope, intercept = np.polyfit(ns[near], f[near], 1)
    return len(clouds) * slope / (0.5 - intercept)
