"""The registry of online augmentation protocols and the RandAugment settings: names and numbers only, torch-free,
so that configs (bm.deep.config) check them without loading the implementations (bm.deep.views registers those)."""

from __future__ import annotations

import math
from collections.abc import Callable

from bm.errors import BMError
from bm.registry import registrar

__all__ = ["BUILT_IN", "PROTOCOLS", "RANDAUGMENT_MAPPINGS", "protocol_names", "randaugment_setting",
           "register_protocol"]

# an online protocol: (uint8 images (N, 3, H, W), generator on their device, targets (N, C) or None, options)
# -> (float images in [0, 1], targets, mixup record or None)
Protocol = Callable[..., tuple]
PROTOCOLS: dict[str, Protocol] = {}  # name -> protocol; DeepTrainConfig.augment takes these names, finite and iid
BUILT_IN = ("none", "ssl", "ssl+mixup", "randaugment")  # what bm.deep.views registers (a test checks both agree)

# decorator: register_protocol(name)(fn) makes `name` an online protocol (`bm deep-train --augment name`)
register_protocol = registrar(PROTOCOLS, "augmentation protocol", reserved=("finite", "iid"))


def protocol_names() -> tuple[str, ...]:
    """Every name DeepTrainConfig.augment takes: the built-in and registered online protocols, finite and iid."""
    return tuple(dict.fromkeys((*BUILT_IN, *PROTOCOLS, "finite", "iid")))


RANDAUGMENT_MAPPINGS = ("strength", "magnitude")  # the released code's strength in [0, 1]; torchvision's 2 ops / 31 bins


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
