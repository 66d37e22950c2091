import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bm.errors import ShapeError
from bm.theory import class_grouped_bias, mean_separation, mse_decomposition


def _close(a, b, rtol=1e-10):
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


@given(
    st.integers(1, 12),
    st.integers(1, 4),
    st.integers(2, 5),
    st.integers(1, 4),
    st.floats(1e-2, 1e2),
    st.integers(0, 2**31),
)
def test_grouped_bias_equals_bias_and_splits_exactly(n, B, C, K, scale, seed):
    rng = np.random.default_rng(seed)
    F = scale * rng.standard_normal((n, B, C))
    r, z = rng.integers(0, C, n), rng.integers(0, K, n)
    split = class_grouped_bias(F, r, z)
    bias = mse_decomposition(F, np.eye(C)[r]).bias
    assert _close(split.total, bias)
    assert _close(split.total, split.centroid + split.between_true + split.within)
    assert _close(float(split.per_class.sum()), split.total)
    assert min(split.centroid, split.between_true, split.within) >= -1e-12


def test_bad_bias_vanishes_with_one_true_class_per_random_class():
    rng = np.random.default_rng(0)
    r = rng.integers(0, 3, 30)
    split = class_grouped_bias(rng.standard_normal((30, 2, 3)), r, true_labels=r)
    assert split.between_true == pytest.approx(0, abs=1e-12)


def test_bad_bias_is_the_spread_between_true_classes():
    # two true classes share random class 0; each true class is mapped to its own constant point
    F = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    split = class_grouped_bias(F, [0, 0, 0, 0], [0, 0, 1, 1])
    m = F.mean(0)
    assert split.between_true == pytest.approx(((F - m) ** 2).sum() / 4)
    assert split.within == pytest.approx(0)
    assert split.centroid == pytest.approx(((np.array([1.0, 0.0]) - m) ** 2).sum())


def test_torch_input_gives_tensors():
    F = torch.randn(8, 3, 4, dtype=torch.float64)
    split = class_grouped_bias(F, torch.randint(0, 4, (8,)), torch.randint(0, 2, (8,)))
    assert isinstance(split.total, torch.Tensor) and split.per_class.shape == (4,)


def test_per_sample_limit_separation_is_two_at_zero_loss():
    n = 7
    labels = np.random.default_rng(1).permutation(20)[:n]  # C = 20 >> n, distinct random classes
    F = np.repeat(np.eye(20)[labels][:, None], 3, axis=1)  # zero loss: every view on its target
    assert mse_decomposition(F, np.eye(20)[labels]).loss == 0
    assert mean_separation(F) == pytest.approx(2.0, rel=1e-12)


@given(st.integers(2, 10), st.integers(1, 5), st.integers(0, 2**31))
def test_mean_separation_matches_pairs(n, C, seed):
    A = np.random.default_rng(seed).standard_normal((n, C))
    pairs = [((A[i] - A[j]) ** 2).sum() for i in range(n) for j in range(n) if i != j]
    assert _close(mean_separation(A), float(np.mean(pairs)))


def test_label_errors():
    with pytest.raises(ShapeError, match="do not match"):
        class_grouped_bias(np.zeros((3, 2)), [0, 1], [0, 1, 0])
    with pytest.raises(ShapeError, match="random labels"):
        class_grouped_bias(np.zeros((3, 2)), [0, 1, 2], [0, 1, 0])
    with pytest.raises(ShapeError, match="n >= 2"):
        mean_separation(np.zeros((1, 3)))
