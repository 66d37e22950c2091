"""Training many toy models at once: parameters stacked along a model axis M, one optimizer.

Adam and SGD act elementwise, so one optimizer over stacked (M, ...) parameters is M independent
optimizers, and the summed loss gives every model its own gradient. Each model draws its
minibatches and online augmentations from its own generator, seeded from its own seed, so a
model's trajectory does not depend on which other models share its batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from bm.probe import knn_accuracy
from bm.theory import mse_decomposition, normalized_invariance
from bm.toy.config import ToyTrainConfig
from bm.toy.data import ToyMixture, ToySplit
from bm.toy.model import ToyModelConfig, ToyParams, encode, init_params, mse_loss_and_grads, project

__all__ = ["ModelSpec", "ToyTrainConfig", "TrainedBatch", "evaluate", "memorization", "model_seed", "train_batch"]

_BLOCK = 50  # steps of random draws made at once per model


@dataclass(frozen=True)
class ModelSpec:
    """One model: trained on the first n samples and B views of splits[split]. `init_seed` fixes
    its initial weights (cells of one grid seed share them, so knn_init is common to the seed);
    `seed` fixes its minibatches and online augmentations."""

    n: int
    B: int
    split: int
    seed: int
    init_seed: int


def model_seed(*parts: int) -> int:
    """A 63-bit seed derived from integers (a grid seed, n, B, a purpose tag)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(2, np.uint64)[0] >> np.uint64(1))


@dataclass
class TrainedBatch:
    init: ToyParams
    final: ToyParams
    num_classes: int
    curves: list[dict] = field(default_factory=list)  # one row per (model, tracked step)
    seconds: float = 0.0


class _Streams:
    """Per-model random draws, made in blocks of _BLOCK steps."""

    def __init__(self, seeds: list[int]) -> None:
        self.gens = [torch.Generator().manual_seed(s) for s in seeds]

    def uniform(self, *shape: int) -> torch.Tensor:
        return torch.stack([torch.rand(shape, generator=g) for g in self.gens], 1)  # (shape[0], M, ...)


def train_batch(
    mixture: ToyMixture,
    splits: list[ToySplit],
    specs: list[ModelSpec],
    model_config: ToyModelConfig,
    train_config: ToyTrainConfig,
    device: str | torch.device = "cpu",
    on_step: Callable[[int], None] | None = None,
) -> TrainedBatch:
    """Train one model per spec for train_config.steps steps of MSE on its (augmented) random labels."""
    start = time.perf_counter()
    cfg, tc = mixture.config, train_config
    M = len(specs)
    views = torch.stack([s.views for s in splits]).to(device)  # (S, n_max, B_max, d)
    S, n_max, b_max, dim = views.shape
    flat_views, flat_labels = views.reshape(-1, dim), torch.stack([s.labels for s in splits]).to(device).reshape(-1)
    C = max(s.num_labels for s in splits)
    first = torch.tensor([s.split * n_max for s in specs], device=device)[:, None]  # (M, 1): row of sample 0
    gens = [torch.Generator().manual_seed(model_seed(s.init_seed, 0)) for s in specs]
    proto_inputs = torch.stack([mixture.sample(model_config.prototypes, g)[0] for g in gens])
    params = init_params(model_config, cfg.dim, C, proto_inputs, gens)
    params = ToyParams(params.W.to(device), params.V.to(device), params.proto_onehot.to(device))
    init = params.detached()
    opt = (torch.optim.Adam if tc.optimizer == "adam" else torch.optim.SGD)(params.trainable(), lr=tc.lr)
    streams = _Streams([model_seed(s.seed, 1) for s in specs])
    online = cfg.augment == "online"
    full = tc.batch_size == 0
    limits = torch.tensor([[s.n, s.B] for s in specs], device=device)[:, :, None]  # (M, 2, 1): n and B
    if full:  # every (sample, view) of every model, padded, with weights 1/(n B) or 0
        n_pad = max(s.n for s in specs)
        b_pad = 1 if online else max(s.B for s in specs)
        i_idx = torch.arange(n_pad).repeat_interleave(b_pad)[None].expand(M, -1)
        a_idx = torch.arange(b_pad).repeat(n_pad)[None].expand(M, -1)
        n_f = limits[:, 0].cpu()
        B_f = torch.ones_like(n_f) if online else limits[:, 1].cpu()
        weight = ((i_idx < n_f) & (a_idx < B_f)).to(views.dtype) / (n_f * B_f)
        i_idx, a_idx, weight = i_idx.to(device), a_idx.clamp(max=B_f - 1).to(device), weight.to(device)
    curves: list[dict] = []
    track = set(range(0, tc.steps, tc.track_every)) if tc.track_every else set()
    track.add(tc.steps)
    for step in range(tc.steps):
        if step in track:
            curves += _track(step, mixture, splits, specs, params, C)
        if step % _BLOCK == 0:
            rows = min(_BLOCK, tc.steps - step)
            b = i_idx.shape[1] if full else tc.batch_size
            if not full:
                u = streams.uniform(rows, 2, b).to(device)  # (rows, M, 2, b)
                idx = torch.minimum((u * limits).long(), limits - 1)  # sample and view indices below n, B
            if online:
                noise = torch.stack([mixture.augmentation_noise((rows, b), g) for g in streams.gens], 1).to(device)
        if full:
            i, a, w = i_idx, a_idx, weight
        else:
            i, a = idx[step % _BLOCK, :, 0], idx[step % _BLOCK, :, 1]
            w = None
        rows_i = first + i  # (M, b): sample rows in the stacked splits
        x = flat_views.index_select(0, (rows_i * b_max + (0 if online else a)).reshape(-1)).view(
            M, -1, dim
        )  # (M, b, d)
        if online:
            x = x + noise[step % _BLOCK, :, : x.shape[1]]
        y = flat_labels.index_select(0, rows_i.reshape(-1)).view(M, -1)  # (M, b)
        _, params.W.grad, params.V.grad = mse_loss_and_grads(params, x, y, w)
        opt.step()
        if on_step is not None:
            on_step(1)
    curves += _track(tc.steps, mixture, splits, specs, params, C)
    return TrainedBatch(
        init=init, final=params.detached(), num_classes=C, curves=curves, seconds=time.perf_counter() - start
    )


@torch.no_grad()
def _outputs(params: ToyParams, m: int, x: torch.Tensor, hard: bool = False) -> torch.Tensor:
    """Outputs (*x.shape[:-1], C) of model m for points x (..., d)."""
    single = params.select(m)
    flat = x.reshape(1, -1, x.shape[-1]).to(params.W.device)
    return project(encode(single.W, flat), single, hard)[0].reshape(*x.shape[:-1], -1)


def _decomposition(params: ToyParams, m: int, split: ToySplit, spec: ModelSpec, C: int):
    F = _outputs(params, m, split.views[: spec.n, : spec.B])  # (n, B, C)
    Y = torch.nn.functional.one_hot(split.labels[: spec.n], C).to(F)
    return F, mse_decomposition(F, Y.to(F.device))


def _track(step, mixture, splits, specs, params, C) -> list[dict]:
    rows = []
    for m, spec in enumerate(specs):
        _, d = _decomposition(params, m, splits[spec.split], spec, C)
        rows.append({"model": m, "step": step, "loss": float(d.loss), "inv": float(d.inv), "bias": float(d.bias)})
    return rows


def memorization(
    params: ToyParams, m: int, split: ToySplit, spec: ModelSpec, hard: bool = False
) -> tuple[float, float]:
    """Train accuracy of model m on its random labels: over all n B views, and over the n clean samples."""
    F = _outputs(params, m, split.views[: spec.n, : spec.B], hard)  # (n, B, C)
    correct = (F.argmax(-1).cpu() == split.labels[: spec.n, None]).double()  # (n, B)
    return float(correct.mean()), float(correct[:, 0].mean())


@torch.no_grad()
def evaluate(
    mixture: ToyMixture,
    splits: list[ToySplit],
    specs: list[ModelSpec],
    trained: TrainedBatch,
    k: int = 20,
    knn_normalize: bool = False,
    hard: bool = False,
    invariance_samples: int = 256,
    invariance_views: int = 8,
) -> list[dict]:
    """Per-model results: memorization (mem_aug over the n B views, mem_clean over the n samples),
    K-NN clean-test accuracy of the encoder fitted on the clean probe set (knn, and knn_init at
    initialisation), Inv, Bias and loss (Theorem B.2), and the encoder's normalized invariance (Eq. 2)
    over fresh augmentations. `hard` scores memorization with the hard nearest-prototype projector."""
    C = trained.num_classes
    results = []
    for m, spec in enumerate(specs):
        split = splits[spec.split]
        _, d = _decomposition(trained.final, m, split, spec, C)
        mem_aug, mem_clean = memorization(trained.final, m, split, spec, hard)
        knn = [
            knn_accuracy(
                _embed(p, m, split.probe_x),
                split.probe_y,
                _embed(p, m, split.test_x),
                split.test_y,
                k=k,
                normalize=knn_normalize,
            )
            for p in (trained.final, trained.init)
        ]
        gen = torch.Generator().manual_seed(model_seed(spec.seed, 2))
        clean = split.views[: min(spec.n, invariance_samples), 0]  # (n', d)
        aug = clean[:, None] + mixture.augmentation_noise((clean.shape[0], invariance_views), gen)  # (n', V, d)
        invariance = (
            float(normalized_invariance(_embed(trained.final, m, aug), _embed(trained.final, m, clean)))
            if clean.shape[0] >= 2
            else float("nan")
        )
        results.append(
            {
                "mem_aug": mem_aug,
                "mem_clean": mem_clean,
                "knn": knn[0],
                "knn_init": knn[1],
                "inv": float(d.inv),
                "bias": float(d.bias),
                "loss": float(d.loss),
                "invariance": invariance,
            }
        )
    return results


def _embed(params: ToyParams, m: int, x: torch.Tensor) -> torch.Tensor:
    """h_W(x) of model m for points x (..., d), same shape, on the CPU."""
    W = params.W[m : m + 1]
    return encode(W, x.reshape(1, -1, x.shape[-1]).to(W))[0].reshape(x.shape).cpu()
