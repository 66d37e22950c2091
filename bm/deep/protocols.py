"""The registry of augmentation protocols (online and fixed-set, one registration each) and the RandAugment settings:
torch-free, so that configs (bm.deep.config) check them without loading the implementations (bm.deep.views,
bm.deep.items), which the built-in entries name as "module:attribute" strings."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bm.errors import BMError
from bm.registry import register

__all__ = [
    "PROTOCOLS",
    "RANDAUGMENT_MAPPINGS",
    "Protocol",
    "add_protocol",
    "protocol_names",
    "randaugment_setting",
    "register_protocol",
    "set_protocol",
]


def _load(ref: Callable | str) -> Callable:
    """A callable, or the one a "module:attribute" string names (imported on first use)."""
    if callable(ref):
        return ref
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class Protocol:
    """An augmentation protocol (`bm deep-train --augment NAME`), online or on a fixed set: one registration.

    Online (`items` None): `augment` draws fresh views every step: (uint8 images (N, 3, H, W), generator on their
    device, targets (N, C) or None, bm.deep.views.AugmentOptions) -> (float images in [0, 1], targets, mixup record
    or None). Fixed set (`items` given): the run trains on items drawn once, and `augment` builds them: (config,
    images, labels, targets, probe_views) -> bm.deep.items.TrainingItems; `options` the DeepTrainConfig fields it
    reads beyond the shared ones, `items(config, n images)` its items per epoch, `parts(config)` its parts of a run
    name, `bank(config, whole training set)` the images it trains on when they are not the run's first `subset`,
    `whole_set` whether it draws from every training image. `augment` and `bank` may be "module:attribute" strings,
    loaded on first use, so that the registry (and every config check) stays torch-free.
    """

    name: str
    augment: Callable | str
    options: tuple[str, ...] = ()
    items: Callable[[Any, int], int] | None = None
    parts: Callable[[Any], list[str]] | None = None
    bank: Callable | str | None = None
    whole_set: bool = False

    @property
    def fixed_set(self) -> bool:
        return self.items is not None

    def implementation(self) -> Callable:
        return _load(self.augment)

    def bank_of(self) -> Callable | None:
        return None if self.bank is None else _load(self.bank)


PROTOCOLS: dict[str, Protocol] = {}


def add_protocol(protocol: Protocol) -> Protocol:
    """Register `protocol` under its own new name (a fixed-set one with its run-name parts)."""
    if protocol.fixed_set and protocol.parts is None:
        raise BMError(f"fixed-set protocol {protocol.name!r} needs parts(config): its part of a run name")
    return register(PROTOCOLS, "augmentation protocol", protocol.name, protocol)


def register_protocol(name: str, **fields: Any) -> Callable[[Callable], Callable]:
    """Decorator: `augment` is protocol `name` (fields: those of Protocol; none for an online protocol)."""

    def add(augment: Callable) -> Callable:
        add_protocol(Protocol(name, augment, **fields))
        return augment

    return add


def set_protocol(name: str | None) -> Protocol | None:
    """The protocol `name` if it trains on a fixed set; None for an online or unknown one."""
    protocol = PROTOCOLS.get(name) if name is not None else None
    return protocol if protocol is not None and protocol.fixed_set else None


def protocol_names() -> tuple[str, ...]:
    """Every name DeepTrainConfig.augment takes."""
    return tuple(PROTOCOLS)


for _name, _function in (("none", "none"), ("ssl", "ssl"), ("ssl+mixup", "ssl_mixup"), ("randaugment", "randaugment")):
    add_protocol(Protocol(_name, f"bm.deep.views:augment_{_function}"))
add_protocol(  # n images, B fixed views each: item i = view i mod B of image i div B
    Protocol(
        "finite",
        "bm.deep.items:finite_items",
        ("views", "preserve_labels"),
        lambda cfg, n: n * cfg.views,
        lambda cfg: [f"B{cfg.views}"] + ([] if cfg.preserve_labels else ["own"]),
    )
)
add_protocol(  # s anchors, B i.i.d. same-class images each, from every training image (Table 4)
    Protocol(
        "iid",
        "bm.deep.items:iid_items",
        ("views", "iid_subset"),
        lambda cfg, n: cfg.iid_subset * cfg.views,
        lambda cfg: [f"B{cfg.views}", f"s{cfg.iid_subset}"],
        bank="bm.deep.items:iid_bank",
        whole_set=True,
    )
)


RANDAUGMENT_MAPPINGS = (
    "strength",
    "magnitude",
)  # the released code's strength in [0, 1]; torchvision's 2 ops / 31 bins


def randaugment_setting(mapping: str, strength: float, magnitude: int) -> tuple[int, int, int]:
    """(num_ops, magnitude, number of magnitude bins) of a RandAugment setting (Fig. 11).

    "strength": the released code's map of s in [0, 1]: num_ops = floor(10 s / 3) + 1, magnitude floor(100 s) of
    100 bins (s = 1 takes the top bin, 99); "magnitude": torchvision's default num_ops = 2 at `magnitude` of 31 bins.
    """
    if mapping == "strength":
        if not 0 <= strength <= 1:
            raise BMError(f"RandAugment strength must lie in [0, 1]; got {strength}")
        return math.floor(10 * strength / 3) + 1, min(math.floor(100 * strength), 99), 100
    if mapping == "magnitude":
        if not 0 <= magnitude <= 30:
            raise BMError(f"RandAugment magnitude must lie in [0, 30]; got {magnitude}")
        return 2, magnitude, 31
    raise BMError(f"RandAugment mapping must be one of {', '.join(RANDAUGMENT_MAPPINGS)}; got {mapping!r}")
