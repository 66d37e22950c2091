"""Reproducing the paper: presets for its tables and figures at two scales, and the report that gathers them."""

from bm.reproduce.presets import PRESETS, Preset
from bm.reproduce.report import report
from bm.reproduce.runner import commands, estimate_seconds, make_plan, reproduce, status
from bm.reproduce.scales import SCALES, Scale

__all__ = ["PRESETS", "SCALES", "Preset", "Scale", "commands", "estimate_seconds", "make_plan", "report", "reproduce", "status"]
