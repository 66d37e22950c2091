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
    and the records (RUN_FILES of <scale>/runs/<run>/, no weights) of the runs its record names into `results`;
    a run no finished preset names (unfinished, or another preset's still running) is left behind. Returns the
    preset folders copied (scale/preset)."""
    finished: list[tuple[Path, list[str]]] = []
    for record_file in sorted(Path(source).glob("*/*/result.json")):  # every record checked before anything is copied
        record = read_record(record_file)  # a preset's record, or one error naming it
        held = record_file.parent.parent / "runs"
        missing = [run for run in record.get("runs", {}) if not (held / run / "config.json").is_file()]
        if missing:
            raise BMError(f"{record_file} names runs that {held} does not hold: {', '.join(missing)}")
        finished.append((record_file.parent, list(record.get("runs", {}))))
    for preset, runs in finished:
        scale = preset.parent
        into = results / scale.name / preset.name
        into.mkdir(parents=True, exist_ok=True)
        for name in PRESET_FILES:
            if (preset / name).is_file():
                shutil.copyfile(preset / name, into / name)
        for run in runs:
            (results / scale.name / "runs" / run).mkdir(parents=True, exist_ok=True)
            for name in RUN_FILES:
                if (scale / "runs" / run / name).is_file():
                    shutil.copyfile(scale / "runs" / run / name, results / scale.name / "runs" / run / name)
    return [f"{preset.parent.name}/{preset.name}" for preset, _ in finished]


def read_record(path: Path) -> dict:
    value = read_json_file(path)
    if not isinstance(value, dict):
        raise BMError(f"{path} holds no JSON object")
    return value
