"""Users' own modules: BM_PLUGINS names modules (comma-separated) that bm imports before a command runs and in every
job it launches, so that the models, data sets, protocols, probes, scales and presets they register are there.

A plugin is an ordinary module that calls the registrars: bm.deep.catalog.register_model / register_dataset,
bm.deep.protocols.register_protocol, bm.deep.config.register_named_config, bm.analyses.probing.register_probe, bm.reproduce.scales.register_scale and
bm.reproduce.presets.register_preset.
"""

from __future__ import annotations

import importlib
import os

from bm.errors import BMError

__all__ = ["load_plugins"]


def load_plugins() -> list[str]:
    """Import every module BM_PLUGINS names (once; a module already imported is not run again); returns the names.
    Anything a plugin raises on import (a missing module, a SyntaxError, an error of its own, sys.exit) is one
    BMError naming it; a registration it repeats names both registrants (bm.registry)."""
    names = [n.strip() for n in os.environ.get("BM_PLUGINS", "").split(",") if n.strip()]
    for name in names:
        if not all(part.isidentifier() for part in name.split(".")):
            raise BMError(f"BM_PLUGINS: {name!r} is not a module name (dotted Python identifiers)")
        try:
            importlib.import_module(name)
        except BMError as e:
            raise BMError(f"BM_PLUGINS: plugin {name!r}: {e}") from None
        except SystemExit as e:
            raise BMError(f"BM_PLUGINS: plugin {name!r} called sys.exit({e.code!r}) while being imported") from None
        except Exception as e:  # a plugin is the user's code: whatever it raises is reported, not a traceback
            raise BMError(f"BM_PLUGINS: cannot import plugin {name!r} ({type(e).__name__}: {e})") from None
    return names
