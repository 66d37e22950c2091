"""Users' own modules: BM_PLUGINS names modules (comma-separated) that bm imports before a command runs and in every
job it launches, so that the models, data sets, protocols, probes, scales and presets they register are there.

A plugin is an ordinary module that calls the registrars: bm.deep.catalog.register_model / register_dataset,
bm.deep.views.register_protocol, bm.deep.probing.register_probe, bm.reproduce.scales.register_scale and
bm.reproduce.presets.register_preset.
"""

from __future__ import annotations

import importlib
import os

from bm.errors import BMError

__all__ = ["load_plugins"]


def load_plugins() -> list[str]:
    """Import every module BM_PLUGINS names (once; a module already imported is not run again); returns the names."""
    names = [n.strip() for n in os.environ.get("BM_PLUGINS", "").split(",") if n.strip()]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise BMError(f"BM_PLUGINS: cannot import {name!r} ({e})") from None
    return names
