"""Augmentation protocols beyond online SSL: finite augmentation sets (Sec. 5.1, Fig. 5),
i.i.d. augmentations (Sec. 5, Table 4) and RandAugment (Fig. 11).

Finite sets hold B views per sample; view 0 is the image itself (B = 1: no augmentation, as in
the toy model) and view b >= 1 is the SSL pipeline with parameters hashed from (seed, sample, b),
so any view is regenerated on demand and B = 100 on CIFAR-10 costs no memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from bm.deep.augment import SSLAugment, ssl_augment, view_uniforms
from bm.errors import BMError
from bm.registry import registrar

__all__ = ["PROTOCOLS", "AugmentOptions", "IIDViews", "augment_batch", "finite_labels", "finite_views", "iid_views",
           "randaugment", "register_protocol"]


def finite_views(images: torch.Tensor, sample: torch.Tensor, view: torch.Tensor, seed: int,
                 config: SSLAugment = SSLAugment()) -> torch.Tensor:
    """Views (b, 3, H, W) in [0, 1]: view[k] of data-set image sample[k]; images uint8 (N, 3, H, W)."""
    x = images[sample].float() / 255  # (b, 3, H, W)
    aug = ssl_augment(x, view_uniforms(seed, sample, view), config)
    return torch.where((view == 0).to(x.device)[:, None, None, None], x, aug)


def finite_labels(labels: torch.Tensor, B: int, preserve: bool, num_classes: int, seed: int) -> torch.Tensor:
    """Labels (n, B) of a finite set: each view keeps its sample's label (`preserve`), or every
    view gets its own uniform random label (the 'not label-preserving' curves of Fig. 5)."""
    if B < 1:
        raise BMError(f"B must be >= 1, got {B}")
    if preserve:
        return labels[:, None].expand(-1, B).clone()
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, num_classes, (labels.shape[0], B), generator=gen)


@dataclass(frozen=True)
class IIDViews:
    """subset (s,): training indices used; views (s, B): data-set indices of each point's views,
    views[:, 0] = subset, the rest other images of the same true class from outside the subset."""

    subset: torch.Tensor
    views: torch.Tensor


def iid_views(true_labels: torch.Tensor, subset_size: int = 1000, B: int = 50, seed: int = 0) -> IIDViews:
    """i.i.d. 'augmentations' (Sec. 5): each of s points gets B - 1 distinct same-class images from
    the remainder of the training set, drawn by `seed`."""
    y = torch.as_tensor(true_labels).long().cpu()
    n = y.shape[0]
    if not 1 <= subset_size < n or B < 1:
        raise BMError(f"need 1 <= subset_size < {n} (the training set) and B >= 1; got {subset_size}, {B}")
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=gen)
    subset, rest = order[:subset_size], order[subset_size:]
    views = torch.empty(subset_size, B, dtype=torch.long)
    views[:, 0] = subset
    for c in y[subset].unique().tolist():
        pool = rest[y[rest] == c]
        members = (y[subset] == c).nonzero().squeeze(1)
        if pool.numel() < B - 1:
            raise BMError(f"class {c} has {pool.numel()} images outside the subset, fewer than B - 1 = {B - 1}")
        keys = torch.rand(members.numel(), pool.numel(), generator=gen)
        views[members, 1:] = pool[keys.argsort(1)[:, : B - 1]]  # distinct draws per point
    return IIDViews(subset, views)


def randaugment(images: torch.Tensor, magnitude: int, generator: torch.Generator, num_ops: int = 2) -> torch.Tensor:
    """RandAugment (Cubuk et al. 2020) with strength `magnitude` in [0, 30] on uint8 images (N, 3, H, W).

    Runs torchvision's RandAugment per image on the CPU: its 14 ops have no batched equivalent here,
    and Fig. 11 is a sweep of short runs, not the hot path. Deterministic given `generator`.
    """
    from torchvision.transforms import v2

    if not 0 <= magnitude <= 30 or num_ops < 0:
        raise BMError(f"RandAugment magnitude must lie in [0, 30] and num_ops >= 0; got {magnitude}, {num_ops}")
    op = v2.RandAugment(num_ops=num_ops, magnitude=magnitude, num_magnitude_bins=31)
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
    device = images.device
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out = torch.stack([op(img) for img in images.cpu()])
    return out.to(device)


@dataclass(frozen=True)
class AugmentOptions:
    """What a run's config tells an online protocol beyond the batch."""

    magnitude: int = 9  # RandAugment strength
    config: SSLAugment = SSLAugment()
    mix_targets: bool = True  # mixup mixes the targets too


# an online protocol: (uint8 images (N, 3, H, W), generator on their device, targets (N, C) or None, options)
# -> (float images in [0, 1], targets, mixup record or None)
Protocol = Callable[[torch.Tensor, torch.Generator, "torch.Tensor | None", AugmentOptions], tuple]
PROTOCOLS: dict[str, Protocol] = {}  # name -> protocol; DeepTrainConfig.augment takes these names, finite and iid


# decorator: register_protocol(name)(fn) makes `name` an online protocol (`bm deep-train --augment name`)
register_protocol = registrar(PROTOCOLS, "augmentation protocol", reserved=("finite", "iid"))


@register_protocol("none")
def _none(images, generator, targets, options):
    return images.float() / 255, targets, None


@register_protocol("ssl")
def _ssl(images, generator, targets, options):
    from bm.deep.augment import draw_uniforms

    return ssl_augment(images, draw_uniforms(images.shape[0], generator, images.device), options.config), targets, None


@register_protocol("ssl+mixup")
def _ssl_mixup(images, generator, targets, options):
    from bm.deep.augment import mixup

    if targets is None:
        raise BMError("ssl+mixup needs the batch's targets (N, C) to mix")
    x, _, _ = _ssl(images, generator, targets, options)
    mixed = mixup(x, targets, generator, mix_targets=options.mix_targets)
    return mixed.images, mixed.targets, mixed


@register_protocol("randaugment")
def _randaugment(images, generator, targets, options):
    return randaugment(images, options.magnitude, generator).float() / 255, targets, None


def augment_batch(protocol: str, images: torch.Tensor, generator: torch.Generator, targets: torch.Tensor | None = None,
                  magnitude: int = 9, config: SSLAugment = SSLAugment(), mix_targets: bool = True):
    """One training batch under an online protocol (PROTOCOLS): uint8 images (N, 3, H, W) -> (float images in
    [0, 1], targets, mixup record or None). `generator` must live on the images' device."""
    if protocol not in PROTOCOLS:
        raise BMError(f"augmentation protocol must be one of {', '.join(PROTOCOLS)}; got {protocol!r}")
    return PROTOCOLS[protocol](images, generator, targets, AugmentOptions(magnitude, config, mix_targets))
