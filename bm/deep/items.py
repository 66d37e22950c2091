"""What a run trains on and probes against: its training items per protocol (online views, a finite set of views,
i.i.d. same-class views), the options an online protocol reads, and the K-NN memory banks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from bm.deep.augment import SSLAugment
from bm.deep.config import DeepTrainConfig
from bm.deep.datasets import ImageSet
from bm.deep.protocols import PROTOCOLS, randaugment_setting
from bm.deep.views import AugmentOptions, augment_batch, finite_labels, finite_views, iid_views

__all__ = [
    "TrainingItems",
    "augment_options",
    "finite_items",
    "iid_bank",
    "iid_items",
    "iid_table",
    "memory_bank",
    "training_items",
]


def iid_table(cfg: DeepTrainConfig, train: ImageSet) -> torch.Tensor:
    """augment iid: the (s, B) data-set indices of the anchors' views in the whole training set `train`."""
    return iid_views(train.labels, cfg.iid_subset, cfg.views, cfg.seed).views.to(train.images.device)


def memory_bank(cfg: DeepTrainConfig, train: ImageSet, bank: str | None = None) -> ImageSet:
    """A K-NN memory bank (default: cfg.knn_bank) out of the whole training set: "train", the images the run trains
    on (its first `subset`; a set protocol's own, e.g. iid's s B views), Definition 4.1's S; or "all", every
    training image."""
    if (bank or cfg.knn_bank) == "all":
        return train
    own = PROTOCOLS[cfg.augment].bank_of()
    return own(cfg, train) if own is not None else train.subset(cfg.subset, cfg.subset_order)


def augment_options(cfg: DeepTrainConfig) -> AugmentOptions:
    """What the config tells an online protocol (RandAugment's setting, the SSL set, mixup's choices)."""
    setting = randaugment_setting(cfg.randaugment_mapping, cfg.randaugment_strength, cfg.randaugment_magnitude)
    return AugmentOptions(setting, SSLAugment(), cfg.mixup_options())


@dataclass(frozen=True)
class TrainingItems:
    """What a run trains on, and what "memorized" scores: exactly those items against their training labels.

    n items per epoch, fetch(indices) -> (float images in [0, 1], targets (k, C)) as trained; memorized(indices of
    range(n_memorized)) -> (float images, training labels (k,)) of the fixed items (online protocols: the clean
    images; finite: the n B views with their own labels; iid: the s B views with their anchor's label); views(anchor
    indices (k,), B) -> (k B, 3, H, W) views of each anchor, view 0 the anchor itself (Inv / Bias and invariance),
    anchor_targets (anchors, C) their training targets, anchor_true (anchors,) their true classes; max_views the
    most views an anchor has.
    """

    n: int
    fetch: Callable
    n_memorized: int
    memorized: Callable
    anchors: int
    views: Callable
    anchor_targets: torch.Tensor
    max_views: int
    anchor_true: torch.Tensor


def finite_items(
    cfg: DeepTrainConfig, data: ImageSet, labels, targets: torch.Tensor, probe_views: Callable
) -> TrainingItems:
    """The n B fixed views: item i = view i mod B of sample i div B, with its own label unless labels are preserved."""
    B = cfg.views
    per_view = finite_labels(labels.labels, B, cfg.preserve_labels, labels.num_classes, cfg.seed + 2)
    per_view = per_view.reshape(-1).to(targets.device)
    view_targets = torch.nn.functional.one_hot(per_view, labels.num_classes).float()

    def fetch(idx):
        return finite_views(data.images, idx // B, idx % B, cfg.seed), view_targets[idx]

    def memorized(idx):
        return fetch(idx)[0], per_view[idx]

    return TrainingItems(
        len(data) * B,
        fetch,
        len(data) * B,
        memorized,
        len(data),
        probe_views,
        targets,
        cfg.decomposition_views,
        data.labels,
    )


def iid_bank(cfg: DeepTrainConfig, train: ImageSet) -> ImageSet:
    """augment iid's images: the s B views of its anchors out of the whole training set."""
    return train.take(iid_table(cfg, train).reshape(-1))


def iid_items(
    cfg: DeepTrainConfig, data: ImageSet, labels, targets: torch.Tensor, probe_views: Callable
) -> TrainingItems:
    """s anchors with B same-class images each: item i = image i mod B of anchor i div B, with the anchor's label."""
    B = cfg.views
    table = iid_table(cfg, data)
    flat, anchor_labels = table.reshape(-1), labels.labels.to(targets.device)[table[:, 0]]

    def fetch(idx):
        return data.images[flat[idx]].float() / 255, targets[table[:, 0][idx // B]]

    def memorized(idx):
        return data.images[flat[idx]].float() / 255, anchor_labels[idx // B]

    def iid(anchor, k):
        return data.images[table[anchor, :k].reshape(-1)].float() / 255

    return TrainingItems(
        table.numel(),
        fetch,
        table.numel(),
        memorized,
        table.shape[0],
        iid,
        targets[table[:, 0]],
        B,
        data.labels[table[:, 0]],
    )


def training_items(
    cfg: DeepTrainConfig, data: ImageSet, labels, targets: torch.Tensor, gen: torch.Generator
) -> TrainingItems:
    """The protocol's training items: a fixed-set protocol's (built by its `augment`), or fresh augmentations of the n images
    drawn from `gen` every step (online protocols)."""

    def ssl_views(anchor, k):  # the SSL views the probes use (seed + 1: not the training views)
        return finite_views(
            data.images,
            anchor.repeat_interleave(k),
            torch.arange(k, device=anchor.device).repeat(anchor.numel()),
            seed=cfg.seed + 1,
        )

    protocol = PROTOCOLS[cfg.augment]
    if protocol.fixed_set:
        return protocol.implementation()(cfg, data, labels, targets, ssl_views)
    options = augment_options(cfg)
    y = labels.labels.to(targets.device)

    def fetch(idx):
        x, t, _ = augment_batch(cfg.augment, data.images[idx], gen, targets[idx], options)
        return x, t

    def clean(idx):
        return data.images[idx].float() / 255, y[idx]

    return TrainingItems(
        len(data), fetch, len(data), clean, len(data), ssl_views, targets, cfg.decomposition_views, data.labels
    )
