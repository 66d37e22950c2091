import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bm.errors import BMError
from bm.theory import estimate_capacity, memorizes, prototype_capacity_bound, prototype_labelings_log_bound


def threshold_fit(capacity, calls=None):
    """A stand-in model that memorizes every labeling of n points iff n <= capacity."""

    def fit(ns, seeds):
        if calls is not None:
            calls.append(list(ns))
        return np.array([[1.0 if n <= capacity else 0.9] * len(seeds) for n in ns])

    return fit


@given(st.integers(0, 300), st.integers(1, 400), st.integers(1, 6))
def test_search_finds_the_true_capacity(capacity, n_max, per_round):
    est = estimate_capacity(threshold_fit(capacity), n_max=n_max, repeats=2, points_per_round=per_round)
    assert est.capacity == min(capacity, n_max)
    assert est.censored == (capacity >= n_max)
    assert est.violations == []


@given(st.integers(1, 3000), st.floats(0.05, 2.0), st.integers(1, 4))
def test_a_resolution_brackets_the_capacity_within_its_factor(capacity, resolution, per_round):
    calls = []
    est = estimate_capacity(
        threshold_fit(capacity, calls), n_max=4096, repeats=1, points_per_round=per_round, resolution=resolution
    )
    exact = estimate_capacity(threshold_fit(capacity), n_max=4096, repeats=1, points_per_round=per_round)
    assert est.capacity <= capacity < est.failed_at <= max(est.capacity + 1, (1 + resolution) * est.capacity)
    assert len(est.curve) <= len(exact.curve) and exact.failed_at == capacity + 1


def test_search_is_logarithmic():
    calls = []
    estimate_capacity(threshold_fit(1000, calls), n_max=100_000)
    assert len(calls) <= 2 * math.ceil(math.log2(100_000)) + 2


def test_violations_of_monotonicity_are_reported():
    def fit(ns, seeds):  # fails at n = 2 but memorizes 1, 3 and 4
        return np.array([[0.5 if n == 2 or n > 20 else 1.0] * len(seeds) for n in ns])

    est = estimate_capacity(fit, n_max=64, points_per_round=3)
    assert (2, 4) in est.violations
    assert est.to_dict()["monotone"] is False


def test_memorizes_needs_every_labeling():
    assert memorizes([1.0, 1.0])
    assert not memorizes([1.0, 0.99])
    assert memorizes([0.96, 0.97], threshold=0.95)


def test_argument_errors():
    with pytest.raises(BMError):
        estimate_capacity(threshold_fit(3), n_max=0)
    with pytest.raises(BMError):
        prototype_capacity_bound(5, 3, 1)


def _regions_direct(m, D):
    return 2 * sum(math.comb(m - 1, k) for k in range(D))


@pytest.mark.parametrize("K,d", [(2, 1), (2, 4), (3, 2), (4, 3)])
def test_log_bound_is_the_region_count(K, d):
    for n in (1, 2, 5, 11):
        m, D = n * K * (K - 1) // 2, (K - 1) * (d + 1)
        assert prototype_labelings_log_bound(n, K, d) == pytest.approx(math.log(_regions_direct(m, D)), rel=1e-10)


@pytest.mark.parametrize("d", [1, 2, 5, 10, 30])
def test_two_prototypes_give_the_halfspace_capacity(d):
    assert prototype_capacity_bound(2, d, 2) == d + 1


def test_bound_grows_with_prototypes_and_dimension_and_needs_every_class():
    assert prototype_capacity_bound(10, 5, 3) < prototype_capacity_bound(20, 5, 3) < prototype_capacity_bound(20, 9, 3)
    assert prototype_capacity_bound(10, 5, 3) > prototype_capacity_bound(10, 5, 10)
    assert prototype_capacity_bound(4, 5, 10) == 0
    assert prototype_capacity_bound(20, 5, 10, prototype_classes=9) == 0


def _separable_on_line(x, labels):
    order = np.argsort(x)
    return int(np.abs(np.diff(labels[order])).sum()) <= 1


def test_exhaustive_stand_in_never_exceeds_the_bound():
    """Two hard prototypes on the real line are a threshold; trying *every* labeling, the
    estimated capacity is exactly the bound d + 1 = 2."""
    x = np.random.default_rng(0).standard_normal(12)

    def fit(ns, seeds):
        out = []
        for n in ns:
            labelings = [np.array(bits) for bits in itertools.product([0, 1], repeat=n)]
            out.append([1.0 if all(_separable_on_line(x[:n], y) for y in labelings) else 0.5] * len(seeds))
        return np.array(out)

    est = estimate_capacity(fit, n_max=12, repeats=1)
    assert est.capacity == prototype_capacity_bound(2, 1, 2) == 2


def test_search_sizes_bounds_every_search_and_is_reached():
    """deep_capacity's search, replayed for every C_t from n_min - 1 to n_max (mini phase: from 512 by doubling,
    2 sizes a round, bracket within 1.5, up to cifar-10-mini's 5085), fits at most search_sizes sizes, and some C_t
    needs all of them. By hand, C_t in 1024 .. 2047 fits 512, 1024 | 2048, 4096 | 1365, 1707: 6."""
    from bm.analyses.capacity import search_sizes

    counts = [
        len(estimate_capacity(threshold_fit(c), 5085, 1, n_min=512, points_per_round=2, resolution=0.5).curve)
        for c in range(511, 5086)
    ]
    assert search_sizes(5085, 512, 2, 0.5) == max(counts) == 6
    assert counts[1500 - 511] == 6 and counts[5085 - 511] == 5  # all fitted: 512, 1024, 2048, 4096, 5085
