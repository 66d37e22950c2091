import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bm.toy.model import _EPS, ToyParams, mse_loss_and_grads, project


def _params(V, labels, C=3):
    V = torch.as_tensor(V, dtype=torch.float64)[None]
    onehot = torch.nn.functional.one_hot(torch.as_tensor(labels), C)
    return ToyParams(torch.eye(V.shape[-1], dtype=torch.float64)[None], V, onehot[None].double())


@given(st.integers(1, 6), st.integers(2, 4), st.integers(1, 5), st.integers(0, 2**31))
def test_soft_projector_is_the_inverse_distance_average(K, C, dim, seed):
    rng = np.random.default_rng(seed)
    V, z = rng.standard_normal((K, dim)), rng.standard_normal((7, dim))
    labels = rng.integers(0, C, K)
    out = project(torch.tensor(z)[None], _params(V, labels, C))[0].numpy()
    r = np.sqrt(((z[:, None] - V[None]) ** 2).sum(-1) + _EPS)  # (7, K): the documented r_i
    w = (1 / r) / (1 / r).sum(1, keepdims=True)
    np.testing.assert_allclose(out, w @ np.eye(C)[labels], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out.sum(1), 1.0, rtol=1e-12)


def test_safe_and_exact_when_a_point_hits_a_prototype():
    V = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    params = _params(V, [0, 1, 2])
    z = V.clone().double()
    out = project(z[None], params)[0]
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, torch.eye(3, dtype=torch.float64), atol=1e-5, rtol=0)
    loss, dW, dV = mse_loss_and_grads(params, z[None], torch.tensor([[1, 2, 0]]))
    assert torch.isfinite(loss).all() and torch.isfinite(dW).all() and torch.isfinite(dV).all()


@given(st.integers(2, 6), st.integers(0, 2**31))
def test_hard_projector_is_the_nearest_prototype_and_the_soft_limit(K, seed):
    rng = np.random.default_rng(seed)
    V, labels = rng.standard_normal((K, 3)), rng.integers(0, 3, K)
    z = rng.standard_normal((20, 3))
    params = _params(V, labels)
    hard = project(torch.tensor(z)[None], params, hard=True)[0].numpy()
    nearest = np.linalg.norm(z[:, None] - V[None], axis=-1).argmin(1)
    np.testing.assert_array_equal(hard, np.eye(3)[labels[nearest]])
    # approaching a prototype, the soft output tends to its one-hot label
    near = V[nearest] + 1e-7 * (z - V[nearest])
    soft = project(torch.tensor(near)[None], params)[0].numpy()
    np.testing.assert_allclose(soft, hard, atol=1e-5)


@pytest.mark.parametrize("weighted", [False, True])
def test_hand_written_loss_and_gradients_match_autograd(weighted):
    gen = torch.Generator().manual_seed(0)
    M, b, d, K, C = 3, 7, 4, 6, 3
    W = torch.randn(M, d, d, generator=gen, dtype=torch.float64, requires_grad=True)
    V = torch.randn(M, K, d, generator=gen, dtype=torch.float64, requires_grad=True)
    onehot = torch.nn.functional.one_hot(torch.randint(0, C, (M, K), generator=gen), C).double()
    x = torch.randn(M, b, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, C, (M, b), generator=gen)
    w = torch.rand(M, b, generator=gen, dtype=torch.float64) if weighted else None
    z = torch.bmm(x, W.transpose(1, 2))
    inv_r = (((z[:, :, None] - V[:, None]) ** 2).sum(-1) + _EPS).rsqrt()  # the formula, by autograd
    out = torch.bmm(inv_r / inv_r.sum(-1, keepdim=True), onehot)
    err = ((out - torch.nn.functional.one_hot(y, C)) ** 2).sum(-1)
    ref = (err * (w if weighted else 1.0 / b)).sum(1)
    ref.sum().backward()
    loss, dW, dV = mse_loss_and_grads(ToyParams(W.detach(), V.detach(), onehot), x, y, w)
    torch.testing.assert_close(loss, ref.detach(), rtol=1e-12, atol=0)
    torch.testing.assert_close(dW, W.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(dV, V.grad, rtol=1e-10, atol=1e-12)
