"""The results folder: what `bm findings collect` copies there from a `bm reproduce` output folder (preset outputs and
each run's records, no weights), and reading a preset's record."""

from __future__ import annotations

import shutil
from pathlib import Path

from bm.errors import BMError
from bm.jsonfiles import read_json_file

__all__ = ["PRESET_FILES", "RESULTS", "RUN_FILES", "collect", "read_record"]

RESULTS = Path("results")


RUN_FILES = ("config.json", "metrics.jsonl", "definition_probes.json")  # a run's records (no weights)


PRESET_FILES = ("result.json", "table.csv", "table.md", "config.json", "tasks.jsonl")


def collect(source: Path, results: Path = RESULTS) -> list[str]:
    """Copy every finished preset (a result.json) under `source` (a `bm reproduce --out` folder: <scale>/<preset>/)
    and every run's records (RUN_FILES of <scale>/runs/<run>/, finished or not: a later session carries them on)
    into `results`; returns the preset folders copied (scale/preset)."""
    copied = []
    for record_file in sorted(Path(source).glob("*/*/result.json")):
        preset, scale = record_file.parent, record_file.parent.parent
        read_record(record_file)  # a preset's record, or one error naming it
        into = results / scale.name / preset.name
        into.mkdir(parents=True, exist_ok=True)
        for name in PRESET_FILES:
            if (preset / name).is_file():
                shutil.copyfile(preset / name, into / name)
        copied.append(f"{scale.name}/{preset.name}")
    for run in sorted(Path(source).glob("*/runs/*/config.json")):  # every run's records, finished or not
        into = results / run.parent.parent.parent.name / "runs" / run.parent.name
        into.mkdir(parents=True, exist_ok=True)
        for name in RUN_FILES:
            if (run.parent / name).is_file():
                shutil.copyfile(run.parent / name, into / name)
    return copied


def read_record(path: Path) -> dict:
    value = read_json_file(path)
    if not isinstance(value, dict):
        raise BMError(f"{path} holds no JSON object")
    return value
