r"""The toy model of Appendix E, batched over M independent models.

Encoder h_W(x) = W x, W in R^{d x d}. Projector g_V(z) = sum_i w_i(z) l_i with
    w_i(z) = (1 / ||z - v_i||) / sum_j (1 / ||z - v_j||),
K trainable prototypes v_i and fixed one-hot labels l_i. We compute it with
r_i = sqrt(||z - v_i||^2 + eps): equal to the formula up to eps, and finite when z hits a prototype
(the weight then goes to that prototype). The hard limit is l_{argmin_i ||z - v_i||}.

Parameters of M models are stacked: W (M, d, d), V (M, K, d); prototype labels l (M, K, C) are balanced
(prototype i gets class i mod C, then shuffled), so every class owns floor(K/C) or ceil(K/C) of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bm.toy.config import ToyModelConfig

__all__ = ["ToyModelConfig", "ToyParams", "encode", "init_params", "mse_loss_and_grads", "project", "sq_distances"]

_EPS = 1e-12  # added to squared distances, relative to the embedding scale ~1


@dataclass
class ToyParams:
    W: torch.Tensor  # (M, d, d)
    V: torch.Tensor  # (M, K, d)
    proto_onehot: torch.Tensor  # (M, K, C), fixed one-hot labels l_i

    def trainable(self) -> list[torch.Tensor]:
        return [self.W, self.V]

    def detached(self) -> "ToyParams":
        return ToyParams(self.W.detach().clone(), self.V.detach().clone(), self.proto_onehot)

    def select(self, m: int) -> "ToyParams":
        """Model m alone, as a batch of one."""
        return ToyParams(self.W[m : m + 1], self.V[m : m + 1], self.proto_onehot[m : m + 1])


def init_params(
    config: ToyModelConfig,
    dim: int,
    num_classes: int,
    prototype_inputs: torch.Tensor,
    generators: list[torch.Generator],
) -> ToyParams:
    """One model per generator. Prototypes start at the embeddings W x of prototype_inputs (M, K, d)
    (draws from the data distribution), so they begin where the data lies."""
    K = config.prototypes
    W = torch.stack([config.init_scale / dim**0.5 * torch.randn(dim, dim, generator=g) for g in generators])
    labels = torch.stack([(torch.arange(K) % num_classes)[torch.randperm(K, generator=g)] for g in generators])
    V = encode(W, prototype_inputs.to(W.dtype))
    onehot = torch.nn.functional.one_hot(labels, num_classes).to(W.dtype)
    return ToyParams(W, V, onehot)


def encode(W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """h_W(x) = W x for x (M, b, d) -> (M, b, d)."""
    return torch.bmm(x, W.transpose(1, 2))


def sq_distances(z: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """||z - v_i||^2 for z (M, b, d), V (M, K, d) -> (M, b, K), clamped at 0 (in-place ops: not for
    autograd; training uses `mse_loss_and_grads`)."""
    cross = torch.baddbmm(V.square().sum(-1)[:, None, :], z, V.transpose(1, 2), alpha=-2)
    return cross.add_(z.square().sum(-1, keepdim=True)).clamp_(min=0)


def mse_loss_and_grads(
    params: ToyParams, x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Loss (M,) = sum_j w_j ||g_V(W x_j) - e_{y_j}||^2 and its gradients dW (M, d, d), dV (M, K, d).

    x (M, b, d), labels y (M, b), weights (M, b) (None: 1/b). The gradients are written out by hand,
    the toy's hot path: with out = (r^-1 L) / S, S = sum_i r_i^-1, and h = (dL/d r^-1) r^-3,
    dz = h V - z sum_K h, dV = h^T z - V sum_b h, dW = dz^T x. Autograd makes about twice as many
    passes over the (M, b, K) block (benchmarks/toy_grid.py); tests check these against autograd.
    """
    z = encode(params.W, x)  # (M, b, d)
    inv_r = sq_distances(z, params.V).add_(_EPS).rsqrt_()  # (M, b, K)
    S = inv_r.sum(-1, keepdim=True)  # (M, b, 1)
    labels = params.proto_onehot.to(x.dtype)  # (M, K, C)
    # (a plain batched product: faster forms exist, e.g. (L^T w^T)^T, but their rounding depends on
    # how many models share the batch, which 2000 Adam steps amplify into different models)
    out = torch.bmm(inv_r, labels).div_(S)  # (M, b, C)
    resid = out.scatter_add(2, y[..., None], torch.full_like(y[..., None], -1, dtype=x.dtype))  # out - e_y
    w = torch.full(y.shape, 1.0 / y.shape[1], dtype=x.dtype, device=x.device) if weight is None else weight
    loss = (resid.square().sum(-1) * w).sum(1)  # (M,)
    g_num = resid.mul_((2 * w / S[..., 0])[..., None])  # dL/d(sum_i r_i^-1 l_i) = 2 w (out - e_y) / S
    g_S = -(g_num * out).sum(-1, keepdim=True)  # (M, b, 1)
    h = torch.baddbmm(g_S, g_num, labels.transpose(1, 2))  # (M, b, K): dL/d r^-1
    h.mul_(inv_r.pow(3))
    dz = torch.baddbmm(z * -h.sum(-1, keepdim=True), h, params.V)
    dV = torch.baddbmm(params.V * -h.sum(1)[..., None], h.transpose(1, 2), z)
    return loss, torch.bmm(dz.transpose(1, 2), x), dV


def project(z: torch.Tensor, params: ToyParams, hard: bool = False) -> torch.Tensor:
    """g_V(z) for z (M, b, d) -> outputs (M, b, C): soft 1/r weights or the hard nearest prototype."""
    labels = params.proto_onehot.to(z.dtype)  # (M, K, C)
    if hard:
        nearest = sq_distances(z, params.V).argmin(-1)  # (M, b)
        return labels.gather(1, nearest[..., None].expand(-1, -1, labels.shape[-1]))
    inv_r = sq_distances(z, params.V).add_(_EPS).rsqrt_()  # (M, b, K): 1 / r_i
    return torch.bmm(inv_r, labels) / inv_r.sum(-1, keepdim=True)  # normalize after summing per class
