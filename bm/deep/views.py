"""Augmentation protocols beyond online SSL: finite augmentation sets (Sec. 5.1, Fig. 5),
i.i.d. augmentations (Sec. 5, Table 4) and RandAugment (Fig. 11).

Finite sets hold B views per sample; view 0 is the image itself (B = 1: no augmentation, as in
the toy model) and view b >= 1 is the SSL pipeline with parameters hashed from (seed, sample, b),
so any view is regenerated on demand and B = 100 on CIFAR-10 costs no memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bm.deep.augment import SSLAugment, ssl_augment, view_uniforms
from bm.deep.config import MixupOptions
from bm.deep.protocols import PROTOCOLS, RANDAUGMENT_MAPPINGS, randaugment_setting
from bm.errors import BMError

__all__ = [
    "AugmentOptions",
    "IIDViews",
    "augment_batch",
    "finite_labels",
    "finite_views",
    "iid_anchors_per_class",
    "iid_capacity",
    "iid_views",
    "RANDAUGMENT_MAPPINGS",
    "randaugment",
    "randaugment_setting",
]


def finite_views(
    images: torch.Tensor, sample: torch.Tensor, view: torch.Tensor, seed: int, config: SSLAugment = SSLAugment()
) -> torch.Tensor:
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
    """subset (s,): the anchors' data-set indices; views (s, B): data-set indices of each anchor's views,
    views[:, 0] = subset, the rest B - 1 other images of the anchor's true class. No index occurs twice in views."""

    subset: torch.Tensor
    views: torch.Tensor


def iid_anchors_per_class(counts: torch.Tensor, s: int) -> torch.Tensor:
    """Anchors per class (C,) for s anchors stratified by class: s // C each, one more for the s mod C classes
    holding the most images (ties: the lower class index)."""
    C = counts.numel()
    per = torch.full((C,), s // C, dtype=torch.long)
    order = sorted(range(C), key=lambda c: (-int(counts[c]), c))
    per[order[: s % C]] += 1
    return per


def iid_capacity(true_labels: torch.Tensor, B: int) -> int:
    """The largest s whose stratified anchors each find B - 1 disjoint same-class images (s B <= N at most)."""
    counts = torch.bincount(torch.as_tensor(true_labels).long().cpu())
    s = 0
    while s < counts.sum() and bool((iid_anchors_per_class(counts, s + 1) * B <= counts).all()):
        s += 1
    return s


def iid_views(true_labels: torch.Tensor, subset_size: int = 1000, B: int = 50, seed: int = 0) -> IIDViews:
    """i.i.d. 'augmentations' (Sec. 5, Table 4): s anchors stratified by class, each with B - 1 other images of its
    true class; the views are disjoint blocks of the class's remaining images (as the released code partitions
    them), so no image is in two anchors' sets and none is an anchor elsewhere. An (s, B) the data cannot hold is
    refused. Drawn by `seed`."""
    y = torch.as_tensor(true_labels).long().cpu()
    if subset_size < 1 or B < 1:
        raise BMError(f"i.i.d. views need s >= 1 and B >= 1; got s = {subset_size}, B = {B}")
    counts = torch.bincount(y)
    per = iid_anchors_per_class(counts, subset_size)
    short = (per * B > counts).nonzero().squeeze(1).tolist()
    if short:
        c = short[0]
        raise BMError(
            f"i.i.d. views: s = {subset_size} stratified anchors need {int(per[c])} x B = {int(per[c]) * B} "
            f"images of class {c}, which has {int(counts[c])}; with B = {B} this data set holds at most "
            f"s = {iid_capacity(y, B)}"
        )
    gen = torch.Generator().manual_seed(seed)
    blocks = []
    for c in range(counts.numel()):
        members = (y == c).nonzero().squeeze(1)
        members = members[torch.randperm(members.numel(), generator=gen)][: int(per[c]) * B]
        blocks.append(members.reshape(int(per[c]), B))  # row j: anchor j of class c, then its B - 1 views
    views = torch.cat(blocks)[torch.randperm(subset_size, generator=gen)]
    return IIDViews(views[:, 0].clone(), views)


def randaugment(
    images: torch.Tensor, magnitude: int, generator: torch.Generator, num_ops: int = 2, bins: int = 31
) -> torch.Tensor:
    """RandAugment (Cubuk et al. 2020): `num_ops` ops at `magnitude` of `bins` bins on uint8 images (N, 3, H, W).

    Runs torchvision's RandAugment per image on the CPU: its 14 ops have no batched equivalent here,
    and Fig. 11 is a sweep of short runs, not the hot path. Deterministic given `generator`.
    """
    from torchvision.transforms import v2

    if not 0 <= magnitude < bins or num_ops < 0:
        raise BMError(f"RandAugment magnitude must lie in [0, {bins - 1}] and num_ops >= 0; got {magnitude}, {num_ops}")
    op = v2.RandAugment(num_ops=num_ops, magnitude=magnitude, num_magnitude_bins=bins)
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
    device = images.device
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out = torch.stack([op(img) for img in images.cpu()])
    return out.to(device)


@dataclass(frozen=True)
class AugmentOptions:
    """What a run's config tells an online protocol beyond the batch."""

    randaugment: tuple[int, int, int] = (2, 9, 31)  # RandAugment (num_ops, magnitude, bins): randaugment_setting
    config: SSLAugment = SSLAugment()
    mixup: MixupOptions = MixupOptions()


def augment_none(images, generator, targets, options):
    return images.float() / 255, targets, None


def augment_ssl(images, generator, targets, options):
    from bm.deep.augment import draw_uniforms

    return ssl_augment(images, draw_uniforms(images.shape[0], generator, images.device), options.config), targets, None


def augment_ssl_mixup(images, generator, targets, options):
    from bm.deep.augment import mixup

    if targets is None:
        raise BMError("ssl+mixup needs the batch's targets (N, C) to mix")
    x, _, _ = augment_ssl(images, generator, targets, options)
    mixed = mixup(x, targets, generator, options.mixup)
    return mixed.images, mixed.targets, mixed


def augment_randaugment(images, generator, targets, options):
    num_ops, magnitude, bins = options.randaugment
    return randaugment(images, magnitude, generator, num_ops, bins).float() / 255, targets, None


def augment_batch(
    protocol: str,
    images: torch.Tensor,
    generator: torch.Generator,
    targets: torch.Tensor | None = None,
    options: AugmentOptions = AugmentOptions(),
):
    """One training batch under an online protocol (PROTOCOLS): uint8 images (N, 3, H, W) -> (float images in
    [0, 1], targets, mixup record or None). `generator` must live on the images' device."""
    online = [name for name, p in PROTOCOLS.items() if not p.fixed_set]
    if protocol not in online:
        raise BMError(f"online augmentation protocol must be one of {', '.join(online)}; got {protocol!r}")
    return PROTOCOLS[protocol].implementation()(images, generator, targets, options)
