"""Figure 11: RandAugment strength sweep (random labels) under the released code's strength mapping."""

from __future__ import annotations

from bm.reproduce.presets.base import Preset, register_preset
from bm.reproduce.presets.sweeps import sweep

_fig11 = sweep(
    "strength",
    lambda p: p.scale.randaugment_strengths,
    lambda p, m: p.run(label_noise=1.0, augment="randaugment", randaugment_mapping="strength", randaugment_strength=m),
    "RandAugment strength (the released code's: ops floor(10 s / 3) + 1, magnitude 100 s)",
)


register_preset(Preset("fig11", "figure", "Figure 11", "RandAugment strength sweep (random labels)", *_fig11))
