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

from bm.errors import BMError

__all__ = ["ToyModelConfig", "ToyParams", "encode", "init_params", "inverse_distances", "project", "sq_distances"]

_EPS = 1e-12  # added to squared distances, relative to the embedding scale ~1


@dataclass(frozen=True)
class ToyModelConfig:
    prototypes: int = 32  # K
    init_scale: float = 1.0  # W ~ N(0, init_scale^2 / d)

    def __post_init__(self) -> None:
        if self.prototypes < 1 or self.init_scale <= 0:
            raise BMError(f"need prototypes >= 1 and init_scale > 0; got {self.prototypes}, {self.init_scale}")


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


def init_params(config: ToyModelConfig, dim: int, num_classes: int, prototype_inputs: torch.Tensor,
                generators: list[torch.Generator]) -> ToyParams:
    """One model per generator. Prototypes start at the embeddings W x of prototype_inputs (M, K, d)
    (draws from the data distribution), so they begin where the data lies."""
    K = config.prototypes
    W = torch.stack([config.init_scale / dim**0.5 * torch.randn(dim, dim, generator=g) for g in generators])
    labels = torch.stack([(torch.arange(K) % num_classes)[torch.randperm(K, generator=g)] for g in generators])
    V = encode(W, prototype_inputs.to(W.dtype))
    onehot = torch.nn.functional.one_hot(labels, num_classes).to(W.dtype)
    return ToyParams(W.requires_grad_(), V.detach().requires_grad_(), onehot)


def encode(W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """h_W(x) = W x for x (M, b, d) -> (M, b, d)."""
    return torch.bmm(x, W.transpose(1, 2))


def sq_distances(z: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """||z - v_i||^2 for z (M, b, d), V (M, K, d) -> (M, b, K), clamped at 0. Not differentiable:
    gradients go through `inverse_distances`."""
    cross = torch.baddbmm(V.square().sum(-1)[:, None, :], z, V.transpose(1, 2), alpha=-2)
    return cross.add_(z.square().sum(-1, keepdim=True)).clamp_(min=0)


class _InverseDistance(torch.autograd.Function):
    """1 / r_i = (||z - v_i||^2 + eps)^(-1/2) for z (M, b, d), V (M, K, d) -> (M, b, K).

    Hand-written backward: with h = grad * r^-3 (M, b, K), dz = h V - z sum_K h and
    dV = h^T z - V sum_b h. Autograd's version makes about three times as many passes over the
    (M, b, K) block, which dominate a toy training step (benchmarks/toy_grid.py).
    """

    @staticmethod
    def forward(ctx, z: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
        inv_r = sq_distances(z, V).add_(_EPS).rsqrt_()
        ctx.save_for_backward(z, V, inv_r)
        return inv_r

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z, V, inv_r = ctx.saved_tensors
        h = inv_r.square().mul_(inv_r).mul_(grad)  # (M, b, K): -2 dL/d(r^2)
        dz = torch.baddbmm(z * -h.sum(-1, keepdim=True), h, V)
        dV = torch.baddbmm(V * -h.sum(1)[..., None], h.transpose(1, 2), z)
        return dz, dV


def inverse_distances(z: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """1 / sqrt(||z - v_i||^2 + eps) for z (M, b, d), V (M, K, d) -> (M, b, K), differentiable."""
    return _InverseDistance.apply(z, V)


def project(z: torch.Tensor, params: ToyParams, hard: bool = False) -> torch.Tensor:
    """g_V(z) for z (M, b, d) -> outputs (M, b, C): soft 1/r weights or the hard nearest prototype."""
    labels = params.proto_onehot.to(z.dtype)
    if hard:
        nearest = sq_distances(z, params.V).argmin(-1)  # (M, b)
        return torch.bmm(torch.nn.functional.one_hot(nearest, labels.shape[1]).to(z.dtype), labels)
    inv_r = inverse_distances(z, params.V)  # (M, b, K): 1 / r_i
    return torch.bmm(inv_r, labels) / inv_r.sum(-1, keepdim=True)  # normalize after summing per class
