import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bm.errors import ShapeError
from bm.theory import (
    DecompositionAccumulator,
    inv_pairwise,
    lemma_b1,
    mse_decomposition,
    online_estimates,
)

RTOL = 1e-10  # float64


def _close(a, b, rtol=RTOL):
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


def _targets(rng, n, C, kind, scale):
    if kind == "onehot":
        return np.eye(C)[rng.integers(0, C, n)]
    if kind == "soft":
        p = rng.random((n, C))
        return p / p.sum(1, keepdims=True)
    if kind == "mixup":
        lam = rng.beta(1.0, 1.0, (n, 1))
        e = np.eye(C)
        return lam * e[rng.integers(0, C, n)] + (1 - lam) * e[rng.integers(0, C, n)]
    return scale * rng.standard_normal((n, C))


problems = st.tuples(
    st.integers(1, 7),  # n
    st.integers(1, 6),  # B
    st.integers(1, 6),  # C
    st.sampled_from(["onehot", "soft", "mixup", "real"]),
    st.floats(1e-3, 1e3),  # scale of the predictions
    st.integers(0, 2**31),
)


@given(problems)
def test_theorem_b2_loss_is_inv_plus_bias(problem):
    n, B, C, kind, scale, seed = problem
    rng = np.random.default_rng(seed)
    F = scale * rng.standard_normal((n, B, C))
    Y = _targets(rng, n, C, kind, scale)
    d = mse_decomposition(F, Y)
    literal_loss = ((F - Y[:, None]) ** 2).sum() / (n * B)
    assert isinstance(d.loss, float)
    assert _close(d.loss, literal_loss)
    assert _close(d.loss, d.inv + d.bias)
    assert _close(d.inv, inv_pairwise(F))
    assert _close(d.bias, ((Y - F.mean(1)) ** 2).sum() / n)
    assert d.inv >= 0 and d.bias >= 0


@given(st.integers(1, 8), st.integers(1, 6), st.floats(1e-3, 1e3), st.integers(0, 2**31))
def test_lemma_b1(B, dim, scale, seed):
    rng = np.random.default_rng(seed)
    X, a = scale * rng.standard_normal((B, dim)), scale * rng.standard_normal(dim)
    lhs, spread, offset = lemma_b1(X, a)
    assert _close(lhs, ((X - a) ** 2).sum(1).mean())
    assert _close(lhs, spread + offset)


def test_constant_over_augmentations_has_zero_inv():
    F = np.repeat(np.random.default_rng(0).standard_normal((5, 1, 3)), 4, axis=1)
    d = mse_decomposition(F, np.zeros((5, 3)))
    assert d.inv == pytest.approx(0, abs=1e-15)
    assert d.bias == pytest.approx(d.loss, rel=1e-12)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_torch_matches_numpy(dtype, tol):
    rng = np.random.default_rng(1)
    F, Y = rng.standard_normal((9, 4, 3)), rng.standard_normal((9, 3))
    ref = mse_decomposition(F, Y)
    out = mse_decomposition(torch.tensor(F, dtype=dtype), torch.tensor(Y, dtype=dtype))
    assert isinstance(out.loss, torch.Tensor) and out.loss.ndim == 0 and out.loss.dtype == dtype
    for name in ("loss", "inv", "bias"):
        assert float(getattr(out, name)) == pytest.approx(getattr(ref, name), rel=tol)
    assert float(inv_pairwise(torch.tensor(F))) == pytest.approx(ref.inv, rel=1e-12)


@given(st.lists(st.integers(1, 5), min_size=1, max_size=5), st.integers(1, 4), st.integers(0, 2**31))
def test_streaming_equals_one_shot(batch_sizes, B, seed):
    rng = np.random.default_rng(seed)
    n, C = sum(batch_sizes), 3
    F, Y = rng.standard_normal((n, B, C)), rng.standard_normal((n, C))
    acc = DecompositionAccumulator()
    start = 0
    for size in batch_sizes:
        acc.update(torch.tensor(F[start : start + size]), torch.tensor(Y[start : start + size]))
        start += size
    streamed, one_shot = acc.result(), mse_decomposition(F, Y)
    assert acc.count == n
    for name in ("loss", "inv", "bias"):
        assert _close(float(getattr(streamed, name)), getattr(one_shot, name))


def test_online_estimators_are_unbiased():
    """Simulate f(T x) = mu + noise with known covariance: E[estimate] = population value."""
    gen = torch.Generator().manual_seed(0)
    n, B, C = 4, 3, 5
    mu = torch.randn(n, C, generator=gen, dtype=torch.float64)
    y = torch.randn(n, C, generator=gen, dtype=torch.float64)
    scales = torch.rand(n, 1, C, generator=gen, dtype=torch.float64) + 0.5
    true_inv = float(scales.square().sum(-1).mean())  # E||noise||^2 = (1/2) E||f1 - f2||^2
    true_bias = float((y - mu).square().sum(-1).mean())
    groups, per_group = 200, 200  # each call averages over per_group independent draws of all n samples
    noise = torch.randn(groups, per_group, n, B, C, generator=gen, dtype=torch.float64)
    F = (mu[:, None] + scales * noise).reshape(groups, per_group * n, B, C)
    Yr = y.repeat(per_group, 1)
    inv = np.array([float(online_estimates(F[g], Yr).inv) for g in range(groups)])
    bias = np.array([float(online_estimates(F[g], Yr).bias) for g in range(groups)])
    naive = np.array([float(mse_decomposition(F[g], Yr).inv) for g in range(groups)])
    se_inv, se_bias = inv.std() / np.sqrt(groups), bias.std() / np.sqrt(groups)
    assert abs(inv.mean() - true_inv) < 4 * se_inv
    assert abs(bias.mean() - true_bias) < 4 * se_bias
    # the uncorrected finite-B Inv is biased low by (B - 1) / B, far beyond the noise
    assert naive.mean() == pytest.approx(true_inv * (B - 1) / B, rel=0.02)
    assert abs(naive.mean() - true_inv) > 20 * se_inv


def test_online_loss_equals_monte_carlo_loss():
    rng = np.random.default_rng(3)
    F, Y = rng.standard_normal((6, 4, 2)), rng.standard_normal((6, 2))
    e = online_estimates(F, Y)
    assert _close(e.loss, e.inv + e.bias)
    assert _close(e.loss, mse_decomposition(F, Y).loss)


@pytest.mark.parametrize(
    "preds,targets,needle",
    [
        (np.zeros((3, 2)), np.zeros((3, 2)), "(n, B, C)"),
        (np.zeros((3, 2, 4)), np.zeros((3, 5)), "do not match"),
        (np.zeros((3, 2, 4)), np.zeros((2, 4)), "do not match"),
        (np.zeros((0, 2, 4)), np.zeros((0, 4)), "empty"),
        (np.full((1, 2, 1), np.nan), np.zeros((1, 1)), "NaN"),
    ],
)
def test_shape_errors_name_the_shapes(preds, targets, needle):
    with pytest.raises(ValueError, match=None) as info:
        mse_decomposition(preds, targets)
    assert isinstance(info.value, ShapeError)
    assert needle in str(info.value)


def test_online_needs_two_views():
    with pytest.raises(ShapeError, match="B >= 2"):
        online_estimates(np.zeros((2, 1, 3)), np.zeros((2, 3)))
