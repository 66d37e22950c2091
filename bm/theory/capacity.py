r"""Capacity C_t (Definition D.1) and an upper bound for the nearest-prototype model.

Definition D.1: C_t is the largest n such that gradient descent with budget t memorizes every
random labeling of n points in general position. Every estimator here is generic over a batched
"fit" callable, so the toy and deep models share it:

    fit(ns: Sequence[int], seeds: Sequence[int]) -> array (len(ns), len(seeds))

returns the train accuracy on random labels after training one model per (n, seed); a seed fixes
the points, the labeling and the initialisation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln, logsumexp

from bm.errors import BMError

__all__ = [
    "CapacityEstimate",
    "estimate_capacity",
    "memorizes",
    "prototype_capacity_bound",
    "prototype_labelings_log_bound",
]

FitFn = Callable[[Sequence[int], Sequence[int]], np.ndarray]


def memorizes(accuracies: Sequence[float], threshold: float = 1.0) -> bool:
    """Whether every tried labeling was memorized: all train accuracies >= threshold."""
    return bool(np.all(np.asarray(accuracies) >= threshold))


@dataclass
class CapacityEstimate:
    """Result of `estimate_capacity`.

    capacity: largest n found memorized (n_min - 1 when even n_min fails); censored: True when
    n_max itself was memorized, so C_t >= n_max. curve: n -> the accuracies of the R labelings.
    violations: pairs (n_small, n_large) where n_large was memorized but n_small was not, i.e.
    where the measured curve contradicts the monotonicity the search assumes.
    """

    capacity: int
    censored: bool
    threshold: float
    curve: dict[int, list[float]] = field(default_factory=dict)
    violations: list[tuple[int, int]] = field(default_factory=list)
    failed_at: int | None = None  # the smallest n that failed (None: censored): C_t lies in [capacity, failed_at)

    @property
    def rate(self) -> dict[int, float]:
        """Memorization rate per n: the mean train accuracy over labelings."""
        return {n: float(np.mean(a)) for n, a in sorted(self.curve.items())}

    def to_dict(self) -> dict:
        return {
            "capacity": self.capacity,
            "censored": self.censored,
            "threshold": self.threshold,
            "curve": {str(n): a for n, a in sorted(self.curve.items())},
            "violations": [list(v) for v in self.violations],
            "monotone": not self.violations,
            "failed_at": self.failed_at,
        }


def estimate_capacity(
    fit: FitFn,
    n_max: int,
    repeats: int = 3,
    seed: int = 0,
    threshold: float = 1.0,
    n_min: int = 1,
    points_per_round: int = 1,
    resolution: float = 0.0,
) -> CapacityEstimate:
    """Estimate C_t: exponential search from n_min (doubling), then bisection, up to n_max.

    Assumes memorization is monotone in n (fewer points are never harder); the measured curve is
    checked afterwards and any contradiction is listed in `violations`. Each round asks `fit` for
    `points_per_round` values of n at once (1 gives plain doubling and bisection; more trades
    compute for fewer sequential rounds when `fit` trains models in parallel). R = `repeats`
    labelings per n, seeds seed .. seed + R - 1. `resolution` r > 0 stops the bisection once the smallest failure is
    at most (1 + r) times the largest success (C_t bracketed within a factor 1 + r, `failed_at` its upper end):
    for models whose every fit costs a training run; 0 searches to the exact n.
    """
    if not 1 <= n_min <= n_max:
        raise BMError(f"need 1 <= n_min <= n_max, got n_min={n_min}, n_max={n_max}")
    if not resolution >= 0:
        raise BMError(f"resolution must be >= 0, got {resolution}")
    if repeats < 1 or points_per_round < 1:
        raise BMError(f"repeats and points_per_round must be >= 1, got {repeats} and {points_per_round}")
    seeds = list(range(seed, seed + repeats))
    curve: dict[int, list[float]] = {}

    def scan(batch: list[int], lo: int, hi: int | None) -> tuple[int, int | None]:
        """Fit the increasing n of `batch` at once; raise lo through them up to the first failure."""
        new = [n for n in batch if n not in curve]
        if new:
            acc = np.asarray(fit(new, seeds), dtype=float).reshape(len(new), len(seeds))
            curve.update({n: row.tolist() for n, row in zip(new, acc)})
        for m in batch:
            if not memorizes(curve[m], threshold):
                return lo, m
            lo = m
        return lo, hi

    lo, hi = n_min - 1, None  # lo: largest memorized so far; hi: smallest failure
    n = n_min
    while hi is None and lo < n_max:
        batch: list[int] = []
        while len(batch) < points_per_round and n <= n_max:
            batch.append(n)
            n = n_max if n < n_max < 2 * n else 2 * n
        lo, hi = scan(batch, lo, hi)
    while hi is not None and hi - lo > 1 and hi > (1 + resolution) * lo:
        k = min(points_per_round, hi - lo - 1)
        batch = sorted({lo + max(1, round((hi - lo) * (j + 1) / (k + 1))) for j in range(k)} - {hi})
        lo, hi = scan(batch, lo, hi)
    memorized = {m: memorizes(a, threshold) for m, a in curve.items()}
    violations = [(a, b) for a in sorted(curve) for b in sorted(curve) if a < b and memorized[b] and not memorized[a]]
    return CapacityEstimate(
        capacity=lo, censored=hi is None, threshold=threshold, curve=curve, violations=violations, failed_at=hi
    )


def _log_regions(m: np.ndarray, dim: int) -> np.ndarray:
    """log of R(m, D) = 2 sum_{k<D} binom(m-1, k), the most regions m central hyperplanes cut R^D into."""
    m = np.asarray(m, dtype=float)[..., None]
    k = np.arange(dim, dtype=float)
    log_binom = np.where(k <= m - 1, gammaln(m) - gammaln(k + 1) - gammaln(np.maximum(m - k, 1)), -np.inf)
    return math.log(2) + logsumexp(log_binom, axis=-1)


def prototype_labelings_log_bound(n: np.ndarray | int, num_prototypes: int, dim: int) -> np.ndarray:
    r"""log of an upper bound on the labelings of n points by x -> l_{argmin_i ||W x - v_i||}.

    Derivation. ||W x - v_i||^2 < ||W x - v_j||^2  <=>  u_{ij}^T (x, 1) > 0 with
    u_{ij} = (2 W^T (v_i - v_j), ||v_j||^2 - ||v_i||^2) = w_i - w_j, w_i = (2 W^T v_i, -||v_i||^2).
    So the prototype index is argmax_i w_i^T (x, 1): a K-class affine classifier, whose output is fixed
    by the signs of the n K(K-1)/2 forms (w_i - w_j)^T (x_m, 1). These are linear in the parameter
    vector (w_1, ..., w_K) in R^{K(d+1)}, and all vanish on the (d+1)-dimensional subspace
    w_1 = ... = w_K, so they form a central arrangement of m = n K(K-1)/2 hyperplanes of essential
    dimension D = (K-1)(d+1), which has at most R(m, D) = 2 sum_{k<D} binom(m-1, k) regions (Cover
    1965; Zaslavsky 1975). Parameters on a hyperplane (ties, broken towards the lower index) give
    the labeling of a nearby open region: add eps (K - i) to the offset of w_i. Hence at most R(m, D)
    prototype-index patterns, and at most that many labelings for any fixed one-hot l_i, for any
    encoder W and prototypes v_i. For K = 2 it is Cover's count binom(n, d+1) of affine dichotomies,
    so with C = 2 the capacity bound is n <= d + 1, which affine halfspaces attain.
    """
    K = num_prototypes
    n = np.asarray(n, dtype=float)
    if K < 2:
        return np.zeros_like(n)  # one prototype: one labeling
    return _log_regions(n * K * (K - 1) / 2, (K - 1) * (dim + 1))


def prototype_capacity_bound(
    num_prototypes: int, dim: int, num_classes: int, prototype_classes: int | None = None
) -> int:
    """Largest n for which C^n <= the labeling bound of `prototype_labelings_log_bound`.

    No linear encoder in R^{d x d} with K hard nearest prototypes (any labels l_i) can memorize
    every C-class labeling of more points, whatever the optimizer: C_t <= this for every t. When the
    prototypes' labels cover fewer than C classes (`prototype_classes`), some labeling of a single
    point is unreachable and the bound is 0.
    """
    K, C = num_prototypes, num_classes
    if K < 1 or dim < 1 or C < 2:
        raise BMError(f"need K >= 1 prototypes, dim >= 1 and C >= 2 classes; got K={K}, dim={dim}, C={C}")
    covered = min(K, C) if prototype_classes is None else prototype_classes
    if covered < C:
        return 0
    D = (K - 1) * (dim + 1)

    # For m >= D, R(m, D) <= 2 (e m / D)^D, concave in log: once it is below n log C and falling
    # slower than n log C rises (D / n < log C), no larger n can satisfy the bound.
    def past_crossing(n: int) -> bool:
        m = n * K * (K - 1) / 2
        envelope = D * math.log(math.e * m / D) + math.log(2)
        return m >= D and D / n < math.log(C) and envelope < n * math.log(C)

    n_hi = 16
    while not past_crossing(n_hi):
        n_hi *= 2

    # log R(m, D) is concave in m, so {n : bound holds} is an interval [1, n*]: bisect for n*
    def holds(n: int) -> bool:
        return bool(prototype_labelings_log_bound(n, K, dim) >= n * math.log(C) * (1 - 1e-9))

    lo, hi = 0, n_hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if holds(mid) else (lo, mid)
    n_float = lo
    # floats cannot resolve R = 2 (2^31 - 1) against 2^32, say: settle the crossing in integers
    exact = [n for n in range(max(1, n_float - 2), n_float + 3) if _regions_exact(n * K * (K - 1) // 2, D) >= C**n]
    return max(exact, default=0)


def _regions_exact(m: int, dim: int) -> int:
    """R(m, D) = 2 sum_{k<D} binom(m-1, k) in exact integers."""
    total, term = 0, 1
    for k in range(min(dim, m)):
        total += term
        term = term * (m - 1 - k) // (k + 1)
    return 2 * total
