"""The LP judge of manifold capacity (bm.theory.separability) against Cover's function-counting theorem, and the
label conventions it offers."""

import numpy as np
import pytest
from scipy.special import comb

from bm.errors import BMError
from bm.theory.separability import LABELS, separable_fraction


def cover(P: int, n: int) -> int:
    """C(P, n): dichotomies of P points in general position in R^n separable through the origin."""
    return int(2 * sum(comb(P - 1, k, exact=True) for k in range(n)))


def points(P: int, N: int = 30, seed: int = 0) -> list[np.ndarray]:
    return list(np.random.default_rng(seed).standard_normal((P, 1, N)))


@pytest.mark.slow
@pytest.mark.parametrize("labels, bias", [("iid", False), ("both", False), ("iid", True)])
def test_points_follow_covers_count(labels, bias):
    """P = 8 Gaussian points minus their mean (which keeps every n of them independent for n < P, so Cover's count
    holds; the two constant dichotomies are then never separable through the origin): the separable fraction is
    C(P, n) / 2^P for iid labels, C(P, n) / (2^P - 2) with both labels present, C(P, n + 1) / 2^P with a bias;
    within 4.5 binomial standard errors."""
    P, trials, ns = 8, 600, [1, 2, 3, 4, 5, 6]
    f = separable_fraction(points(P), ns, trials, seed=1, labels=labels, bias=bias)
    exact = np.array([cover(P, n + bias) / (2.0**P - 2 * (labels == "both")) for n in ns])
    assert np.all(np.abs(f - exact) <= 4.5 * np.sqrt(exact * (1 - exact) / trials) + 1e-12), (f, exact)


@pytest.mark.parametrize("P", [4, 6])
def test_balanced_dichotomies_on_a_line(P):
    """Balanced labels with a bias (the reference simulation's convention) in n = 1: P points on a line, half of
    them +1; a threshold separates only the two splits with the positives all at one end: 2 / binom(P, P / 2)."""
    trials = 600
    f = separable_fraction(points(P), [1], trials, seed=3, labels="balanced", bias=True)[0]
    exact = 2 / comb(P, P // 2)
    assert abs(f - exact) <= 4.5 * np.sqrt(exact * (1 - exact) / trials)


def test_an_unknown_convention_and_no_trials_are_refused():
    assert LABELS == ("iid", "both", "balanced")
    with pytest.raises(BMError, match="unknown label convention"):
        separable_fraction(points(4), [2], 1, labels="sparse")
    with pytest.raises(BMError, match="at least one dichotomy"):
        separable_fraction(points(4), [2], 0)
