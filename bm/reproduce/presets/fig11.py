"""Figure 11: RandAugment strength sweep (random labels) under the released code's strength mapping."""

from __future__ import annotations

from bm.reproduce.presets.base import Preset, register_preset, scale_settings
from bm.reproduce.presets.sweeps import Sweep, sweep

SETTINGS = {  # the released code's strength s in [0, 1]
    "full": Sweep((0.0, 0.2, 0.4, 0.6, 0.8, 1.0)),
    "mini": Sweep((0.0, 0.33, 0.67, 1.0)),
}

_fig11 = sweep(
    "strength",
    lambda p: scale_settings(SETTINGS, "fig11", p).values,
    lambda p, m: p.run(label_noise=1.0, augment="randaugment", randaugment_mapping="strength", randaugment_strength=m),
    "RandAugment strength (the released code's: ops floor(10 s / 3) + 1, magnitude 100 s)",
)


register_preset(Preset("fig11", "figure", "Figure 11", "RandAugment strength sweep (random labels)", *_fig11))
