"""The Preset type and the registry of `bm reproduce`: a preset lists its deep-train runs and how it is read off them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bm.errors import BMError
from bm.registry import register
from bm.reproduce.outputs import Result
from bm.reproduce.plan import Plan, Run

__all__ = ["PRESETS", "Preset", "register_preset", "scale_settings"]

T = TypeVar("T")


def scale_settings(table: Mapping[str, T], preset: str, plan: Plan) -> T:
    """A preset's own settings at the plan's scale (`table`: scale name -> a small frozen dataclass, the preset module's
    SETTINGS); a scale without an entry (a registered one) is one BMError saying where to add it."""
    if plan.scale.name not in table:
        raise BMError(f"{preset} has no settings for scale {plan.scale.name!r}: add its entry to {preset}'s SETTINGS")
    return table[plan.scale.name]


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str  # "table" or "figure"
    title: str  # the paper's item
    what: str  # what it runs, one line
    runs: Callable[[Plan], list[Run]]
    finish: Callable[[Plan, list[Run], Path], Result]
    extra_datasets: tuple[str, ...] = ()  # needed besides the runs' own (transfer targets)
    command: Callable[[Plan, Path], str] | None = None  # presets without deep-train runs: their one command
    extra_seconds: Callable[[Plan], float] = lambda plan: 0.0  # work besides the runs, for --list
    by_dataset: bool = False  # rows per data set, which --datasets selects (Tables 2 and 3)
    seeds: str = (
        "each"  # --seeds: "each" (the preset once per seed, then mean +- std), "own" (it reads plan.seeds), "none"
    )

    def all_runs(self, plan: Plan) -> list[Run]:
        """The runs of every seed the plan asks for (each run once, in order)."""
        if self.seeds != "each" or not plan.seeds:
            return self.runs(plan)
        runs = [r for seed in plan.seeds for r in self.runs(plan.for_seed(seed))]
        return list({r.name: r for r in runs}.values())


PRESETS: dict[str, Preset] = {}


def register_preset(preset: Preset) -> Preset:
    """Add a preset under its own new name (a taken one is one BMError); `bm reproduce NAME` runs it."""
    return register(PRESETS, "preset", preset.name, preset)
