"""The presets of `bm reproduce`: for each table and figure of the paper, its runs and how it is read off them.

A preset lists deep-train runs (`runs(plan)`) and a `finish(plan, runs, folder)` that probes the
finished runs and writes the table or figure. fig5 and fig13 have no deep-train runs of their own:
their `finish` runs `capacity_and_sweep` / the toy grid, which skip finished work themselves, and
`command` gives the one CLI line that does the same. "DA" (Plan.augmented) is the scale's augmentation (the paper's: SSL
transforms + mixup). K-NN: k = 20 on the L2-normalized embedding, memory bank = the clean
training images with their true labels, accuracy on the clean test set.

Every preset is one module of this package (its runs, its finish, its figure), registered with `register_preset`;
what several share is in `common`. Importing the package registers them, in the order `--list` shows.
"""

from bm.reproduce.presets import (  # noqa: F401  (imported to register)
    benign,
    doubledescent,
    fig2,
    fig3,
    fig5,
    fig6,
    fig9,
    fig11,
    fig12,
    fig13,
    gradients,
    phase,
    seed003,
    sweeps,
    table1,
    table4,
    tables23,
)
from bm.reproduce.presets.base import PRESETS, Preset, register_preset

__all__ = ["PRESETS", "Preset", "register_preset"]

# the paper's order, which `--list` and `bm report` follow (a plugin's presets come after, as registered)
_ORDER = ("benign", "table1", "fig2", "table2", "table3", "fig3", "table4", "fig5", "fig6", "fig7", "fig8", "fig9")
_ORDER += ("fig11", "fig12", "fig13", "phase", "seed003", "doubledescent", "gradients")
_built_in = dict(PRESETS)
PRESETS.clear()
PRESETS.update({name: _built_in[name] for name in _ORDER})
