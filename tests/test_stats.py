"""bm.stats against scipy and statsmodels on known cases, and the bootstrap's coverage by simulation."""

import math

import numpy as np
import pytest
from scipy import stats as st

from bm.errors import BMError
from bm.stats import Finding, crossed_bootstrap, holm, judge, paired_t, tost

statsmodels = pytest.importorskip("statsmodels.stats.weightstats")
multitest = pytest.importorskip("statsmodels.stats.multitest")


@pytest.mark.parametrize("seed", range(5))
def test_paired_t_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.2, 0.05, 5), rng.normal(0.17, 0.05, 5)
    ours = paired_t(a, b)
    ref = st.ttest_rel(a, b)
    ci = ref.confidence_interval(0.95)
    assert math.isclose(ours.p, ref.pvalue, rel_tol=1e-10)
    assert math.isclose(ours.t, ref.statistic, rel_tol=1e-10)
    assert math.isclose(ours.low, ci.low, rel_tol=1e-10) and math.isclose(ours.high, ci.high, rel_tol=1e-10)
    assert math.isclose(ours.sd, np.std(a - b, ddof=1), rel_tol=1e-12)


def test_paired_t_known_case():
    # d = (1, 2, 3): mean 2, sd 1, se 1/sqrt(3), t = 2 sqrt(3); 95% half-width t_{0.975, 2} / sqrt(3) = 4.303 / 1.732
    ours = paired_t([1.0, 2.0, 3.0])
    assert math.isclose(ours.t, 2 * math.sqrt(3), rel_tol=1e-12)
    assert math.isclose(ours.high - ours.effect, 4.302652729911275 / math.sqrt(3), rel_tol=1e-9)


@pytest.mark.parametrize("seed,margin", [(0, 0.02), (1, 0.05), (2, 0.01), (3, 0.1)])
def test_tost_matches_statsmodels(seed, margin):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.2, 0.02, 6), rng.normal(0.2, 0.02, 6)
    p_ref = statsmodels.ttost_paired(a, b, -margin, margin)[0]
    assert math.isclose(tost(a, b, margin), p_ref, rel_tol=1e-10)


def test_holm_matches_statsmodels():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = rng.uniform(0, 0.2, 8)
        assert np.allclose(holm(p), multitest.multipletests(p, method="holm")[1], rtol=0, atol=1e-14)


def test_holm_known_case():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_bootstrap_identical_arms_is_zero():
    a = np.random.default_rng(0).integers(0, 2, (4, 50))
    assert crossed_bootstrap(a, a, draws=200) == (0.0, 0.0)


def test_bootstrap_reduces_to_the_seed_bootstrap_without_item_noise():
    # rows constant over items: the interval is the percentile bootstrap of the row means, which covers their mean
    d = np.repeat(np.array([[0.1], [0.2], [0.15], [0.3], [0.05]]), 20, axis=1)
    low, high = crossed_bootstrap(d, np.zeros_like(d), draws=4000)
    assert 0.05 <= low < d.mean() < high <= 0.3


def test_bootstrap_covers_at_nominal_rate():
    """Simulated crossed design (seed effect + item noise): the 90% interval covers the true gain near 90% of the
    time (200 repetitions: the binomial 99.9% band around 0.9 is about [0.83, 0.96])."""
    rng = np.random.default_rng(1)
    S, T, gain, hits = 6, 300, 0.05, 0
    for _ in range(200):
        base = rng.uniform(0.2, 0.3, T)  # each test image's own difficulty
        seed_shift = rng.normal(0, 0.02, (S, 1))
        pa = np.clip(base + gain + seed_shift, 0, 1)
        a = rng.random((S, T)) < pa
        b = rng.random((S, T)) < base
        low, high = crossed_bootstrap(a, b, draws=500, seed=int(rng.integers(1 << 30)), level=0.9)
        hits += low <= gain <= high  # no clipping binds: the population gain is `gain`
    assert 0.8 <= hits / 200 <= 0.99


def test_judge_verdicts():
    strong = Finding("gain", "greater", (0.3, 0.31, 0.29, 0.32, 0.30), (0.2, 0.2, 0.21, 0.19, 0.2), 0.02)
    wrong = Finding("loss", "greater", (0.1, 0.11, 0.09, 0.1, 0.1), (0.2, 0.2, 0.21, 0.19, 0.2), 0.02)
    noise = Finding("noise", "greater", (0.25, 0.15, 0.22, 0.18, 0.2), (0.2, 0.2, 0.21, 0.19, 0.2), 0.02)
    same = Finding("same", "absent", (0.2, 0.201, 0.199, 0.2, 0.2), (0.2, 0.2, 0.2, 0.2, 0.2), 0.02)
    rows = judge([strong, wrong, noise, same])
    assert [r["verdict"] for r in rows] == ["shown", "not shown", "inconclusive", "shown absent within 0.02"]
    assert [r["p_holm"] for r in rows] == pytest.approx(holm([r["p"] for r in rows]))
    assert [r["tost_p_holm"] for r in rows] == pytest.approx(holm([r["tost_p"] for r in rows]))


def test_bad_inputs_are_one_error():
    with pytest.raises(BMError):
        paired_t([0.1])
    with pytest.raises(BMError):
        tost([0.1, 0.2], [0.1, 0.2], 0)
    with pytest.raises(BMError):
        Finding("x", "bigger", (1, 2), (1, 2), 0.1)
    with pytest.raises(BMError):
        crossed_bootstrap(np.zeros((2, 3)), np.zeros((3, 2)))
