r"""Manifold capacity, radius and dimension by replica mean-field theory (MFTMA).

Chung, Lee & Sompolinsky, "Classification and geometry of general perceptual manifolds", PRX 2018
(PRX below), with the centre-correlation step of Cohen, Chung, Lee & Sompolinsky, Nat. Commun. 2020,
as used by Stephenson et al. (ICLR 2021) to locate memorization in deep layers.

Input: P manifolds, manifold i a cloud of M_i points in R^N (rows are points, as features come out
of a network). Steps:

1. Centre correlations. The centres c_i, minus their mean, are written in an orthonormal basis of
   their span (P x r, r <= P - 1). For K = 1, 2, ... a K-dimensional subspace V minimising the
   squared correlations of the residual centres c - V V^T c is fitted (greedily grown from K - 1,
   best of `n_reps` random starts by stability, the smallest residual norm ratio), stopping when
   the mean |correlation| rose three times in a row. K* = argmin of the mean |correlation| over
   K = 1, 2, ... (the reference code's rule: at least one direction is removed whenever the centres
   span two or more; P = 2 removes none); `center_correlation` is its value at K = 0.
   Why K >= 1: subtracting the global mean makes the centred centres correlated by -1/(P-1) (|cos| =
   1/(P-1) for P random centres), a structure the theory's uncorrelated centres do not have; left in
   place (K = 0) it overestimates the capacity, removing one direction corrects it. Judged against LP
   separability of random dichotomies (bm.theory.separability; low-dimensional clouds, D = 5, radius
   0.5, N = 200, M = 40, two realizations, means): P = 7 and 10 within 1% with K >= 1, against +3.6 to +6.7%
   with K = 0. At P <= 5 no rule of this family is within 3% (P = 5: -6.6%, K = 0: +3.0%; P = 3: -36%,
   K = 0: -6.5%), and there the simulated capacity itself moves by more than 3% with the convention for
   random labels (P = 3: 0.49 iid, 0.60 both labels present, 0.87 the reference simulation's balanced
   labels with a bias): read MFTMA at P <= 5 as a ~10% estimate (docs/mftma-small-p.md). `min_rank = 0`
   restores the choice over K >= 0.
2. Each cloud, minus the global mean, is projected off V_{K*}, centred on its own centre and
   divided by its centre's norm; its points are written in D = min(N, M_i) orthonormal coordinates
   and a last "centre" coordinate 1 is appended: s_j in R^{D+1}.
3. For Gaussian t ~ N(0, I_{D+1}) (n_t of them per manifold) the anchor point s~(t) comes from
   min_v ||v - t||^2 subject to v . s_j <= -kappa for all j (PRX Sec. III A). Its dual is the
   non-negative least squares problem  alpha = argmin_{alpha >= 0} ||S alpha - (t + kappa e_c)||^2
   (the centre row of S is all ones, so S^T e_c = 1), and v = t - S alpha, s~ = S alpha / sum(alpha);
   t inside the feasible set (alpha = 0) takes the point of largest t . s_j.
4. alpha_M^{-1} = E_t[max(t . s~ + kappa, 0)^2 / ||s~||^2]   (PRX eqs. 16-17)
   R_M = sqrt(E_t ||s~_0 - E s~_0||^2)                         (PRX eq. 28; s~_0 the first D coords)
   D_M = D (E_t[t^_0 . s^~_0])^2                               (PRX eq. 29; hats: unit vectors)
   For the set: capacity = 1 / mean_i(1 / alpha_i), radius and dimension are plain means.

The P n_t problems of step 3 are solved together: a few accelerated projected-gradient steps in
float32 find each problem's free set, conjugate gradients in float64 solve the face exactly, and
the KKT conditions certify every solution; the few that fail are solved by scipy's NNLS one by one
(`solver="scipy"` does that for all, as the oracle). Unlike the public reference code this works
for any P >= 2 and for clouds with more points than dimensions (M > N).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize, nnls

from bm.errors import BMError, ShapeError
from bm.threads import fastest_threads, using_threads

__all__ = ["ManifoldGeometry", "anchor_points", "center_structure", "manifold_geometry"]

SOLVERS = ("batched", "scipy")
_DTYPE = torch.float64


@dataclass(frozen=True)
class ManifoldGeometry:
    capacity: float  # alpha_M of the set, 1 / mean(1 / capacities)
    radius: float  # mean R_M
    dimension: float  # mean D_M
    center_correlation: float  # mean |correlation| of the centres before removal
    residual_correlation: float  # the same after removing the K-dimensional centre structure
    low_rank: int  # K, dimension of the removed centre structure
    capacities: tuple[float, ...]  # per manifold
    radii: tuple[float, ...]
    dimensions: tuple[float, ...]
    fallbacks: int  # anchor problems the batched solver handed to scipy's NNLS

    def to_json(self) -> dict:
        return json.loads(json.dumps(asdict(self)))


def _clouds(manifolds) -> list[torch.Tensor]:
    """Validate and convert to float64 tensors (M_i, N)."""
    if isinstance(manifolds, (np.ndarray, torch.Tensor)) and manifolds.ndim == 3:
        manifolds = list(manifolds)
    if not isinstance(manifolds, Sequence) or len(manifolds) < 2:
        raise ShapeError("manifold analysis needs a sequence of at least P = 2 point clouds, each (M_i, N)")
    clouds = []
    for i, m in enumerate(manifolds):
        t = m if isinstance(m, torch.Tensor) else torch.from_numpy(np.asarray(m, dtype=np.float64))
        if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] == 0:
            raise ShapeError(f"manifold {i} must be a non-empty (M_i, N) array, got shape {tuple(t.shape)}")
        if not bool(torch.isfinite(t).all()):
            raise ShapeError(f"manifold {i} holds NaN or inf values")
        clouds.append(t.to(_DTYPE))
    if len({c.shape[1] for c in clouds}) != 1:
        raise ShapeError(f"all manifolds need the same dimension N; got {sorted({c.shape[1] for c in clouds})}")
    return clouds


def _mean_abs_correlation(x: torch.Tensor) -> float:
    """Mean |cosine| over the P (P - 1) ordered pairs of rows of x (P, r)."""
    unit = x / x.norm(dim=1, keepdim=True)
    p = x.shape[0]
    return float(((unit @ unit.T).abs().sum() - p) / (p * (p - 1)))


def _correlation_cost(w: np.ndarray, x: np.ndarray, c: np.ndarray, h: np.ndarray) -> tuple[float, np.ndarray]:
    """Half the summed squared correlations of the residual centres x - x V V^T, V = span(w); and its gradient.

    w: (reps, r, K), any basis of each subspace (the cost depends on the span only); x: (P, r);
    c = x x^T, h = c * c. With V = w L^-T (w^T w = L L^T), A = x V, q = 1 / diag(c - A A^T), B = q A:
    cost = q^T h q / 2 - tr(B^T c B) + ||A^T B||_F^2 / 2, evaluated with matrix products only. As the
    cost is g(V V^T), its gradient in w is (I - V V^T) (d cost / dV) L^-1.
    """
    reps, r, k = w.shape
    chol = np.linalg.cholesky(w.transpose(0, 2, 1) @ w)  # (reps, K, K)
    v = np.linalg.solve(chol, w.transpose(0, 2, 1)).transpose(0, 2, 1)  # (reps, r, K) orthonormal
    a = (x @ v.transpose(1, 0, 2).reshape(r, reps * k)).reshape(-1, reps, k).transpose(1, 0, 2)  # (reps, P, K)
    q = 1 / (np.diagonal(c)[None] - (a * a).sum(2))  # (reps, P)
    b = q[:, :, None] * a
    cb = (c @ b.transpose(1, 0, 2).reshape(-1, reps * k)).reshape(-1, reps, k).transpose(1, 0, 2)
    g = a.transpose(0, 2, 1) @ b  # (reps, K, K)
    hq = q @ h  # (reps, P)
    cost = (hq * q).sum() / 2 - (b * cb).sum() + (g * g).sum() / 2
    dq = hq - 2 * (a * cb).sum(2) + ((a @ g) * a).sum(2)  # d cost / dq at fixed A
    da = -2 * q[:, :, None] * cb + 2 * b @ g + 2 * (q * q * dq)[:, :, None] * a  # total d cost / dA
    dv = x.T @ da  # (reps, r, K)
    dv -= v @ (v.transpose(0, 2, 1) @ dv)
    return float(cost), np.linalg.solve(chol.transpose(0, 2, 1), dv.transpose(0, 2, 1)).transpose(0, 2, 1)  # dv L^-1


class _RankLost(Exception):
    """A step of the optimiser reached a basis w whose columns are linearly dependent (w^T w not positive definite)."""


def _fit_subspace(w0: np.ndarray, x: np.ndarray, max_iter: int = 1000) -> np.ndarray:
    """Minimise the correlation cost from w0 (reps, r, K) with L-BFGS; returns orthonormal bases. A step that makes a
    basis rank-deficient (the cost is defined on full-rank bases only) ends the search at the best full-rank point
    evaluated so far."""
    c = x @ x.T
    h = c * c
    best: dict[str, Any] = {"cost": np.inf, "w": w0.reshape(-1)}

    def cost(flat: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            value, grad = _correlation_cost(flat.reshape(w0.shape), x, c, h)
        except np.linalg.LinAlgError:
            raise _RankLost from None
        if value < best["cost"]:
            best.update(cost=value, w=flat.copy())
        return value, grad.reshape(-1)

    try:
        found = minimize(
            cost,
            w0.reshape(-1),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": 1e-6, "ftol": 1e-10},
        ).x
    except _RankLost:
        found = best["w"]
    return np.linalg.qr(found.reshape(w0.shape))[0]


def center_structure(
    centers: torch.Tensor, n_reps: int, gen: torch.Generator, max_rank: int | None = None, min_rank: int = 1
) -> tuple[torch.Tensor, list[float]]:
    """The low-rank correlation structure of the centres (P, N) (step 1 of the module docstring).

    K runs up to the number of components holding 95% of the centres' variance plus 10 (the
    reference rule; each K costs an optimisation over reps x r x K numbers), or up to `max_rank`.

    Returns the orthonormal basis (N, K*) to project off, and the mean |correlation| of the residual
    centres for K = 0, 1, ... as tried; K* is its argmin over K >= min_rank (as far as K was tried).
    """
    p = centers.shape[0]
    xb = centers - centers.mean(0)
    lam, u = torch.linalg.eigh(xb @ xb.T)  # ascending; the centred centres have rank <= P - 1
    keep = lam > lam[-1] * 1e-12
    lam, u = lam[keep].flip(0), u[:, keep].flip(1)
    x = u * lam.sqrt()  # (P, r): the centres in an orthonormal basis of their span
    r = x.shape[1]
    explained = torch.cumsum(lam, 0) / lam.sum()
    below = torch.nonzero(explained < 0.95)
    max_k = min((int(below[-1]) if len(below) else 0) + 11, r - 1, r if max_rank is None else max_rank)
    costs = [_mean_abs_correlation(x)]
    xn = x.numpy()
    bases = [np.zeros((r, 0))]
    for k in range(1, max_k + 1):
        starts = (x.T @ torch.randn(n_reps, p, 1, generator=gen, dtype=_DTYPE)).numpy()  # (reps, r, 1)
        v = _fit_subspace(np.concatenate([starts, np.broadcast_to(bases[-1], (n_reps, r, k - 1))], axis=2), xn)
        residual = xn - xn @ v @ v.transpose(0, 2, 1)  # (reps, P, r)
        stability = (np.linalg.norm(residual, axis=2) / np.linalg.norm(xn, axis=1)).min(axis=1)
        best = v[int(stability.argmax())]
        bases.append(best)
        costs.append(_mean_abs_correlation(x - x @ torch.from_numpy(best @ best.T)))
        if k > 4 and costs[-1] > costs[-2] > costs[-3] > costs[-4]:
            break
    first = min(min_rank, len(costs) - 1)
    chosen = first + int(np.argmin(costs[first:]))
    to_ambient = xb.T @ (u / lam.sqrt())  # (N, r): orthonormal basis of the span of the centred centres
    return to_ambient @ torch.from_numpy(bases[chosen]), costs


def _coordinates(clouds: list[torch.Tensor], v: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
    """Step 2: S (P, D_max + 1, M_max) and the D_i; padded with zero rows and repeated points.

    Repeating a point changes neither the feasible set nor the anchor; zero rows meet t's zero rows.
    The coordinates come from each cloud's Gram matrix (eigendecompositions batched by cloud size).
    """
    n = clouds[0].shape[1]
    origin = sum(c.sum(0) for c in clouds) / sum(c.shape[0] for c in clouds)
    grams = []
    for i, c in enumerate(clouds):
        centre = c.mean(0)
        dev = c - centre
        gram = dev @ dev.T  # (M_i, M_i)
        shift = centre - origin
        norm2 = shift @ shift
        if v.shape[1]:
            dv = dev @ v
            gram = gram - dv @ dv.T
            norm2 = norm2 - (shift @ v).square().sum()
        if not norm2 > 1e-24 * max(float(shift @ shift), 1e-300):
            raise BMError(
                f"manifold {i}'s centre coincides with the global mean (after removing the centre "
                "structure): its capacity is undefined"
            )
        grams.append(gram / norm2)
    dims = [min(n, c.shape[0]) for c in clouds]
    s = torch.zeros(len(clouds), max(dims) + 1, max(c.shape[0] for c in clouds), dtype=_DTYPE)
    s[:, -1] = 1
    for m in sorted({c.shape[0] for c in clouds}):
        members = [i for i, c in enumerate(clouds) if c.shape[0] == m]
        lam, u = torch.linalg.eigh(torch.stack([grams[i] for i in members]))
        d = min(n, m)
        lam = torch.where(lam > 1e-12 * lam[:, -1:], lam, 0.0)  # rounding noise of a rank-deficient cloud: 0
        coords = (lam.sqrt()[:, :, None] * u.mT)[:, -d:]  # (G, d, M): top-d coordinates
        rows = torch.tensor(members)
        s[rows, :d, :m] = coords
        s[rows, :d, m:] = coords[:, :, :1]
    return s, dims


def _nnls_scipy(s: np.ndarray, b: np.ndarray) -> np.ndarray:
    """alpha (P, M, n_t) for S (P, D1, M), b (P, D1, n_t), one problem at a time."""
    return np.stack(
        [np.stack([nnls(s[i], b[i, :, j])[0] for j in range(b.shape[2])], axis=1) for i in range(s.shape[0])]
    )


def _scipy_seconds(s: torch.Tensor, b: torch.Tensor, sample: int = 32) -> float:
    """Seconds scipy's NNLS takes per problem, timed on `sample` problems spread over the batch (its cost depends
    on the size of the anchor's support, which only the data tell)."""
    P, _, n = b.shape
    picks = torch.linspace(0, P * n - 1, min(sample, P * n)).long().tolist()
    sn, bn = s.numpy(), b.numpy()
    start = time.perf_counter()
    for k in picks:
        nnls(sn[k // n], bn[k // n, :, k % n])
    return (time.perf_counter() - start) / len(picks)


def _nnls_batched(s: torch.Tensor, b: torch.Tensor, steps: tuple[int, ...] = (10, 40, 160)) -> tuple[torch.Tensor, int]:
    """alpha (P, M, n_t) for all problems at once; returns it and the number handed to scipy's NNLS.

    Each round (with steps[i] FISTA steps): FISTA with adaptive restart (float32) from the current point, then conjugate
    gradients (float64) on the face {alpha_j = 0 off the free set}, then the KKT check
    (alpha >= 0, gradient zero on the free set and >= 0 off it, to relative 1e-9); problems still open after the
    last round go to scipy one by one. Where scipy is cheaper (clouds whose anchors rest on a few points: its
    active set stays small), all go there: scipy's time per problem is measured on a sample, and the batched
    solver's on a first round over every 20th t, which also tells how many problems one round settles.
    """
    per_problem = _scipy_seconds(s, b)
    g = s.mT @ s  # (P, M, M)
    lip = torch.linalg.eigvalsh(g)[:, -1].clamp_min(1e-300)[:, None, None]
    rank = int(torch.linalg.matrix_rank(s).max())  # CG on a face converges in <= rank(G) <= rank(S) steps
    n_t = b.shape[2]
    probe = b[:, :, ::20] if n_t >= 40 else b
    start = time.perf_counter()
    settled = _rounds(g, s.mT @ probe, lip, rank, steps[:1])[1].float().mean()
    batched = (time.perf_counter() - start) * n_t / probe.shape[2] + per_problem * float(1 - settled) * b.shape[0] * n_t
    if batched >= per_problem * b.shape[0] * n_t:
        return torch.from_numpy(_nnls_scipy(s.numpy(), b.numpy())), b.shape[0] * n_t
    alpha, done = _rounds(g, s.mT @ b, lip, rank, steps)
    failed = torch.nonzero(~done[:, 0]).tolist()
    sn, bn, out = s.numpy(), b.numpy(), alpha.numpy()  # out shares alpha's memory
    for i, j in failed:
        out[i, :, j] = nnls(sn[i], bn[i, :, j])[0]
    return alpha, len(failed)


def _rounds(
    g: torch.Tensor, h: torch.Tensor, lip: torch.Tensor, rank: int, steps: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The batched rounds of `_nnls_batched` for G = S^T S (P, M, M), h = S^T b (P, M, n_t), lip the largest
    eigenvalue of each G, rank that of S: alpha (P, M, n_t) and which problems are settled (P, 1, n_t)."""
    scale = h.abs().amax(1, keepdim=True) + lip * 1e-300
    alpha = torch.zeros_like(h)
    done = torch.zeros(h.shape[0], 1, h.shape[2], dtype=torch.bool)
    gs, hs = (g / lip).float(), (h / lip).float()
    for count in steps:
        a = alpha.float()
        y, momentum = a.clone(), 1.0
        for _ in range(count):
            nxt = torch.baddbmm(hs, gs, y, alpha=-1).add_(y).clamp_min_(0)
            step = nxt - a
            restart = ((y - nxt) * step).sum(1, keepdim=True) > 0
            following = (1 + (1 + 4 * momentum**2) ** 0.5) / 2
            y = nxt + torch.where(restart, 0.0, (momentum - 1) / following) * step
            a, momentum = nxt, following
        free = a > 0
        z = _face_solve(g, h, a.double(), free, 2 * rank)
        grad = h - g @ z  # minus the gradient of the objective
        tol = 1e-9 * (scale + lip * z.abs().amax(1, keepdim=True))
        ok = torch.where(free, (z >= 0) & (grad.abs() <= tol), grad <= tol).all(1, keepdim=True)
        alpha = torch.where(done, alpha, torch.where(free, z.clamp_min(0), 0.0))
        done |= ok
        if bool(done.all()):
            break
    return alpha, done


def _face_solve(g: torch.Tensor, h: torch.Tensor, z: torch.Tensor, free: torch.Tensor, steps: int) -> torch.Tensor:
    """Conjugate gradients for G_FF z_F = h_F with z = 0 off the free set F; batched, float64. In exact arithmetic CG
    ends within rank(G_FF) steps; `steps` (twice the rank of S) allows for rounding, and a rank-deficient face (more
    points than dimensions) no longer runs 2M steps that reduce nothing."""
    mask = free.to(z.dtype)
    z = z * mask
    r = mask * (h - g @ z)
    p, rs = r.clone(), (r * r).sum(1, keepdim=True)
    limit = 1e-30 * (h * h).sum(1, keepdim=True)
    for it in range(min(steps, 2 * g.shape[-1])):
        ap = mask * (g @ p)
        step = rs / (p * ap).sum(1, keepdim=True).clamp_min(1e-300)
        z = z + step * p
        r = r - step * ap
        new = (r * r).sum(1, keepdim=True)
        p = r + (new / rs.clamp_min(1e-300)) * p
        rs = new
        if it % 5 == 4 and bool((rs <= limit).all()):
            break
    return z


def anchor_points(s: torch.Tensor, t: torch.Tensor, kappa: float, solver: str = "batched") -> tuple[torch.Tensor, int]:
    """Anchor points s~ (P, D1, n_t) for manifolds S (P, D1, M) (last row ones) and t (P, D1, n_t).

    Step 3 of the module docstring; also returns how many problems went to the scipy fallback. Rows that are
    zero in every S (clouds of lower rank than D) only add a constant to the NNLS objective: the solve omits them.
    """
    b = t.clone()
    b[:, -1] += kappa
    rows = s.abs().amax((0, 2)) > 0
    if solver == "scipy":
        alpha, fallbacks = torch.from_numpy(_nnls_scipy(s[:, rows].numpy(), b[:, rows].numpy())), 0
    else:
        alpha, fallbacks = _nnls_batched(s[:, rows], b[:, rows])
    pulled = s @ alpha  # (P, D1, n_t): t - v
    weight = pulled[:, -1:, :]  # sum(alpha): the centre row of S is all ones
    best = (s[:, :-1].mT @ t[:, :-1]).argmax(1)  # (P, n_t): the point of largest projection
    touching = s.gather(2, best[:, None, :].expand(-1, s.shape[1], -1))
    inside = weight <= 1e-12 * t.norm(dim=1, keepdim=True)
    return torch.where(inside, touching, pulled / torch.where(inside, 1.0, weight)), fallbacks


def manifold_geometry(
    manifolds,
    kappa: float = 0.0,
    n_t: int = 200,
    n_reps: int = 10,
    seed: int = 0,
    max_rank: int | None = None,
    solver: str = "batched",
    min_rank: int = 1,
    threads: int = 0,
) -> ManifoldGeometry:
    """MFTMA of P point clouds, each (M_i, N): capacity, radius, dimension, centre correlation.

    kappa: margin (>= 0); n_t: Gaussian samples t per manifold; n_reps: random starts per rank in
    the centre-structure fit; seed fixes t and those starts; max_rank caps the dimension K of the
    removed centre structure (0: none removed; None: the reference rule); min_rank: the smallest K
    (1, the default, as the reference; 0 lets the fit remove nothing; see the module docstring);
    solver: "batched" or "scipy"; threads: CPU threads (0: bm.threads' choice, timed once per
    process on a small MFTMA problem; results do not depend on it).
    """
    if solver not in SOLVERS:
        raise BMError(f"solver must be one of {', '.join(SOLVERS)}; got {solver!r}")
    if not (np.isfinite(kappa) and kappa >= 0) or n_t < 1 or n_reps < 1 or (max_rank or 0) < 0 or min_rank < 0:
        raise BMError(
            f"need kappa >= 0, n_t >= 1, n_reps >= 1, max_rank >= 0 and min_rank >= 0; got {kappa}, {n_t}, "
            f"{n_reps}, {max_rank}, {min_rank}"
        )
    clouds = _clouds(manifolds)
    chosen, _ = fastest_threads(_timing_problem, threads, key="mftma")
    with using_threads(chosen):
        return _geometry(clouds, kappa, n_t, n_reps, seed, max_rank, solver, min_rank)


def _timing_problem() -> None:
    """A small MFTMA problem that exercises every step (10 random clouds of 20 points in 100 dimensions, K <= 2;
    about 0.06 s on one core)."""
    gen = torch.Generator().manual_seed(0)
    clouds = list(torch.randn(10, 20, 100, generator=gen, dtype=_DTYPE))
    _geometry(clouds, 0.0, 20, 1, 0, 2, "batched", 1)


def _geometry(
    clouds: list[torch.Tensor],
    kappa: float,
    n_t: int,
    n_reps: int,
    seed: int,
    max_rank: int | None,
    solver: str,
    min_rank: int,
) -> ManifoldGeometry:
    gen = torch.Generator().manual_seed(seed)
    centers = torch.stack([c.mean(0) for c in clouds])
    if float((centers - centers.mean(0)).abs().max()) == 0:
        raise BMError("all manifold centres coincide: the manifolds cannot be told apart")
    v, costs = center_structure(centers, n_reps, gen, max_rank, min_rank)
    s, dims = _coordinates(clouds, v)
    t = torch.randn(s.shape[0], s.shape[1], n_t, generator=gen, dtype=_DTYPE)
    for i, d in enumerate(dims):
        t[i, d:-1] = 0
    anchors, fallbacks = anchor_points(s, t, kappa, solver)
    field = ((t * anchors).sum(1) + kappa).clamp_min(0).square() / anchors.square().sum(1)  # (P, n_t)
    capacities = 1 / field.mean(1)
    body = anchors[:, :-1]
    radii = (body - body.mean(2, keepdim=True)).square().sum(1).mean(1).sqrt()
    cosine = (t[:, :-1] * body).sum(1) / (t[:, :-1].norm(dim=1) * (body.square().sum(1) + 1e-12).sqrt())
    dimensions = torch.tensor(dims, dtype=_DTYPE) * cosine.mean(1).square()
    return ManifoldGeometry(
        capacity=float(1 / (1 / capacities).mean()),
        radius=float(radii.mean()),
        dimension=float(dimensions.mean()),
        center_correlation=costs[0],
        residual_correlation=costs[v.shape[1]],
        low_rank=v.shape[1],
        capacities=tuple(capacities.tolist()),
        radii=tuple(radii.tolist()),
        dimensions=tuple(dimensions.tolist()),
        fallbacks=fallbacks,
    )
