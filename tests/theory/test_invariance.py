import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bm.errors import ShapeError
from bm.theory import InvarianceAccumulator, normalized_invariance


def test_zero_when_constant_over_augmentations():
    clean = np.random.default_rng(0).standard_normal((10, 6))
    views = np.repeat(clean[:, None], 5, axis=1)
    assert normalized_invariance(views, clean) == pytest.approx(0, abs=1e-15)


@given(st.floats(1e-3, 1e3), st.integers(0, 2**31))
def test_invariant_to_rescaling(scale, seed):
    rng = np.random.default_rng(seed)
    views, clean = rng.standard_normal((6, 3, 4)), rng.standard_normal((6, 4))
    per = normalized_invariance(views, clean, reduction="none")
    scaled = normalized_invariance(scale * views, scale * clean, reduction="none")
    np.testing.assert_allclose(scaled, per, rtol=1e-10)


def test_about_one_when_views_are_as_different_as_samples():
    rng = np.random.default_rng(1)
    n, B, D = 400, 4, 64
    views, clean = rng.standard_normal((n, B, D)), rng.standard_normal((n, D))
    assert normalized_invariance(views, clean) == pytest.approx(1.0, abs=0.03)
    acc = InvarianceAccumulator()
    for s in range(0, n, 64):
        acc.update(views[s : s + 64], clean[s : s + 64])
    assert acc.result() == pytest.approx(1.0, abs=0.03)


@given(st.integers(2, 8), st.integers(2, 5), st.integers(1, 5), st.integers(0, 2**31))
def test_matches_literal_pairs(n, B, D, seed):
    rng = np.random.default_rng(seed)
    views, clean = rng.standard_normal((n, B, D)), rng.standard_normal((n, D))
    got = normalized_invariance(views, clean, reduction="none")
    for i in range(n):
        num = np.mean([((views[i, a] - views[i, b]) ** 2).sum() for a in range(B) for b in range(B) if a != b])
        den = np.mean([((clean[i] - clean[j]) ** 2).sum() for j in range(n) if j != i])
        assert got[i] == pytest.approx(num / den, rel=1e-10)


def test_streaming_ratio_of_means_equals_literal():
    rng = np.random.default_rng(2)
    n, B, D = 9, 3, 4
    views, clean = rng.standard_normal((n, B, 2, 2)), rng.standard_normal((n, 2, 2))  # flattened to D = 4
    acc = InvarianceAccumulator()
    acc.update(torch.tensor(views[:4]), torch.tensor(clean[:4]))
    acc.update(views[4:], clean[4:])
    v, c = views.reshape(n, B, D), clean.reshape(n, D)
    num = np.mean([((v[i, a] - v[i, b]) ** 2).sum() for i in range(n) for a in range(B) for b in range(B) if a != b])
    den = np.mean([((c[i] - c[j]) ** 2).sum() for i in range(n) for j in range(n) if i != j])
    assert acc.result() == pytest.approx(num / den, rel=1e-10)


def test_errors():
    with pytest.raises(ShapeError, match="B >= 2"):
        normalized_invariance(np.zeros((4, 1, 3)))
    with pytest.raises(ShapeError, match="do not match"):
        normalized_invariance(np.zeros((4, 2, 3)), np.zeros((4, 2)))
    with pytest.raises(ShapeError, match="reduction"):
        normalized_invariance(np.ones((4, 2, 3)), reduction="sum")


def test_a_collapsed_layer_has_no_invariance():
    """Every sample at one point (a layer of dead ReLUs, zeros or a constant): Eq. 2's denominator is 0, the
    accumulator says NaN rather than dividing by zero (it crashed a mini MLP run at a probe epoch)."""
    import math

    import torch

    from bm.theory import InvarianceAccumulator

    for value in (0.0, 3.5):
        acc = InvarianceAccumulator()
        acc.update(torch.full((16, 3, 8), value), torch.full((16, 8), value))
        assert math.isnan(acc.result())
    acc = InvarianceAccumulator()  # one distinct sample is enough for a number
    clean = torch.zeros(16, 8)
    clean[0, 0] = 1.0
    acc.update(clean[:, None].repeat(1, 3, 1), clean)
    assert acc.result() == 0.0
