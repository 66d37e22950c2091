"""Reproducing the paper: presets for its tables and figures at two scales, and the report that gathers them.

The names below load on first use, so that `import bm.reproduce.scales` (the CLI's help) stays torch-free.
`report` is its own module: `from bm.reproduce.report import report`."""

import importlib

_WHERE = {
    "PRESETS": "presets",
    "Preset": "presets",
    "commands": "runner",
    "estimate_seconds": "runner",
    "make_plan": "runner",
    "reproduce": "runner",
    "status": "runner",
    "SCALES": "scales",
    "Scale": "scales",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'bm.reproduce' has no attribute {name!r}")
    return getattr(importlib.import_module(f"bm.reproduce.{_WHERE[name]}"), name)
