"""MFTMA (bm.theory.mftma): Cover's theorem, simulated capacity, monotonicity, exact anchors."""

import numpy as np
import pytest
import torch

from bm.errors import BMError
from bm.theory import manifold_geometry
from bm.theory.mftma import _correlation_cost, center_structure
from bm.theory.separability import low_dimensional_clouds, separable
from bm.theory.separability import simulated_capacity as simulated_alpha


def manifolds(rng, P, N, M, D, radius, axes=None):
    """P manifolds in R^N, (P, M, N): centre ~ N(0, I/N), points c + radius sum_k a_k s_k u_k,
    a uniform on the unit sphere of R^D, u_k ~ N(0, I/N) random axes, s the axis scales."""
    scales = np.ones(D) if axes is None else np.asarray(axes)
    centres = rng.standard_normal((P, 1, N)) / np.sqrt(N)
    directions = rng.standard_normal((P, D, N)) / np.sqrt(N)
    a = rng.standard_normal((P, M, D))
    a /= np.linalg.norm(a, axis=2, keepdims=True)
    return centres + radius * (a * scales) @ directions


def simulated_capacity(P, M, D, radius, axes, lo, hi, reps=24, seed=0) -> float:
    """P / N_c, N_c the smallest N at which at least half of random dichotomies are separable (bisection)."""
    rng = np.random.default_rng(seed)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        hits = [
            separable(
                manifolds(rng, P, mid, M, D, radius, axes).reshape(P * M, mid), np.repeat(rng.choice([-1.0, 1.0], P), M)
            )
            for _ in range(reps)
        ]
        lo, hi = (lo, mid) if np.mean(hits) >= 0.5 else (mid, hi)
    return P / hi


def test_cover_points_have_capacity_two():
    x = manifolds(np.random.default_rng(0), 40, 100, 1, 1, 0.0)
    g = manifold_geometry(x, n_t=2000, n_reps=2)
    assert g.capacity == pytest.approx(2.0, rel=0.03)
    assert g.radius == pytest.approx(0.0, abs=1e-12) and g.dimension == pytest.approx(0.0, abs=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize(
    "M, D, radius, axes",
    [
        (1, 1, 0.0, None),  # points: Cover, alpha = 2
        (20, 20, 1.0, None),  # random point clouds spanning their M dimensions
        (20, 2, 1.0, None),  # discs sampled at 20 points
        (30, 3, 1.5, (1.0, 0.5, 0.25)),  # ellipsoids
    ],
)
@pytest.mark.slow
def test_capacity_matches_simulation(M, D, radius, axes):
    theory = manifold_geometry(
        manifolds(np.random.default_rng(1), 100, 300, M, D, radius, axes), n_reps=2, max_rank=2
    ).capacity
    P = 30
    simulated = simulated_capacity(P, M, D, radius, axes, lo=int(P / theory / 1.5), hi=int(P / theory * 1.5) + 1)
    assert simulated == pytest.approx(theory, rel=0.10)


def test_capacity_grows_as_radius_shrinks_and_falls_with_dimension():
    rng = np.random.default_rng(2)
    by_radius = [manifold_geometry(manifolds(rng, 20, 200, 30, 5, r), n_reps=2, max_rank=0) for r in (2.0, 1.0, 0.5)]
    assert by_radius[0].capacity < by_radius[1].capacity < by_radius[2].capacity
    assert by_radius[0].radius > by_radius[1].radius > by_radius[2].radius
    by_dim = [manifold_geometry(manifolds(rng, 20, 200, 30, d, 1.0), n_reps=2, max_rank=0) for d in (2, 5, 20)]
    assert by_dim[0].capacity > by_dim[1].capacity > by_dim[2].capacity
    assert by_dim[0].dimension < by_dim[1].dimension < by_dim[2].dimension


@pytest.mark.parametrize("P, N, M, kappa", [(2, 30, 8, 0.0), (3, 10, 25, 0.0), (5, 40, 12, 0.5), (4, 6, 6, 0.2)])
def test_batched_anchors_equal_scipy_nnls(P, N, M, kappa):
    x = list(manifolds(np.random.default_rng(P), P, N, M, min(M, N), 1.5))
    x[0] = x[0][: M // 2]  # clouds of different sizes
    fast = manifold_geometry(x, kappa=kappa, n_reps=2)
    exact = manifold_geometry(x, kappa=kappa, n_reps=2, solver="scipy")
    np.testing.assert_allclose(fast.capacities, exact.capacities, rtol=1e-8)
    np.testing.assert_allclose(fast.radii, exact.radii, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(fast.dimensions, exact.dimensions, rtol=1e-8, atol=1e-12)
    assert np.isfinite([fast.capacity, fast.radius, fast.dimension, fast.center_correlation]).all()


def test_margin_lowers_capacity_and_seed_reproduces():
    x = manifolds(np.random.default_rng(3), 10, 60, 15, 4, 1.0)
    a, b = manifold_geometry(x, n_reps=2), manifold_geometry(x, n_reps=2)
    assert a == b
    assert manifold_geometry(x, kappa=0.5, n_reps=2).capacity < a.capacity


@pytest.mark.slow
def test_centre_structure_removes_planted_correlations():
    rng = np.random.default_rng(4)
    shared = rng.standard_normal((2, 200))
    centres = rng.standard_normal((30, 2)) @ shared * 3 + rng.standard_normal((30, 200))
    v, costs = center_structure(torch.from_numpy(centres), 3, torch.Generator().manual_seed(0))
    assert v.shape[1] == int(np.argmin(costs)) >= 2
    assert min(costs) < 0.5 * costs[0]
    np.testing.assert_allclose(v.T @ v, np.eye(v.shape[1]), atol=1e-10)


def test_correlation_cost_gradient_matches_autograd():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((9, 8)), rng.standard_normal((3, 8, 2))
    value, grad = _correlation_cost(w, x, x @ x.T, (x @ x.T) ** 2)
    wt, xt = torch.tensor(w, requires_grad=True), torch.tensor(x)
    a = xt @ wt
    e = xt @ xt.T - a @ torch.linalg.solve(wt.mT @ wt, a.mT)
    d = torch.diagonal(e, dim1=-2, dim2=-1)
    cost = (e.square() / (d[..., :, None] * d[..., None, :])).sum() / 2
    cost.backward()
    assert value == pytest.approx(cost.detach().item(), rel=1e-12)
    np.testing.assert_allclose(grad, wt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize(
    "bad, message",
    [
        ([np.ones((5, 3))], "at least P = 2"),
        ([np.ones((5, 3)), np.zeros((0, 3))], "non-empty"),
        ([np.ones((5, 3)), np.full((5, 3), np.nan)], "NaN"),
        ([np.ones((5, 3)), np.ones((5, 4))], "same dimension"),
        ([np.ones((5, 3)), np.ones((4, 3))], "coincide"),
    ],
)
def test_degenerate_input_is_refused(bad, message):
    with pytest.raises(BMError, match=message):
        manifold_geometry(bad)


@pytest.mark.slow
@pytest.mark.parametrize(
    "P, labels",
    [
        pytest.param(
            3,
            "both",
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured: K >= 1 gives -34 to -38% (K = 0: -5 "
                "to -8%); and the simulated capacity itself moves by more than 3% with the label convention (iid "
                "0.49, both 0.60; docs/mftma-small-p.md)",
            ),
        ),
        pytest.param(
            5,
            "both",
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured: K >= 1 gives -5 to -8% (K = 0: +1 "
                "to +5%); iid labels give 0.534 against both labels' 0.559 (docs/mftma-small-p.md)",
            ),
        ),
        (7, "both"),
        (10, "both"),
        (7, "iid"),
        (10, "iid"),
    ],
)
@pytest.mark.slow
def test_default_rule_matches_lp_simulation_at_small_P(P, labels):
    """Low-dimensional clouds (D = 5 directions, radius 0.5, N = 200, M = 40), two realizations: MFTMA's capacity
    (default K rule, n_t = 500) against P / n* from LP separability of random dichotomies (bm.theory.separability:
    the judge where no reference implementation runs; both labels present, and iid labels, the theory's own
    ensemble), within 3% on the mean."""
    theory, simulated = [], []
    for seed in (0, 1):
        clouds = low_dimensional_clouds(P, seed=seed)
        theory.append(manifold_geometry(clouds, n_t=500, seed=seed).capacity)
        n0 = P / theory[-1]
        simulated.append(
            simulated_alpha(clouds, range(max(1, round(0.7 * n0)), round(1.35 * n0) + 2), 300, seed, labels)
        )
    assert np.mean(theory) == pytest.approx(np.mean(simulated), rel=0.03)


def test_a_search_step_that_makes_the_basis_rank_deficient_ends_at_the_best_full_rank_point(monkeypatch):
    """seed-003 at mini scale met a step whose w^T w was not positive definite (numpy's Cholesky raised): the fit now
    returns orthonormal bases from the best full-rank point it evaluated instead of a traceback."""
    import numpy as np

    import bm.theory.mftma as geometry

    x = np.random.default_rng(0).normal(size=(6, 5))
    w0 = np.random.default_rng(1).normal(size=(2, 5, 2))
    calls = {"n": 0}
    real = geometry._correlation_cost

    def failing(w, *args):
        calls["n"] += 1
        if calls["n"] > 3:
            raise np.linalg.LinAlgError("Matrix is not positive definite")
        return real(w, *args)

    monkeypatch.setattr(geometry, "_correlation_cost", failing)
    v = geometry._fit_subspace(w0, x)
    assert v.shape == (2, 5, 2) and np.allclose(v.transpose(0, 2, 1) @ v, np.eye(2), atol=1e-10)
    monkeypatch.setattr(geometry, "_correlation_cost", real)
    c = x @ x.T
    assert real(v, x, c, c * c)[0] <= real(w0, x, c, c * c)[0] + 1e-12  # no worse than the start
