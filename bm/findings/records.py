"""The results folder: what `bm findings collect` copies there from a `bm reproduce` output folder (preset outputs and
each run's records, no weights), and reading a preset's record."""

from __future__ import annotations

import gzip
from pathlib import Path

from bm.errors import BMError
from bm.jsonfiles import read_json_file
from bm.runs.files import atomic_write

__all__ = ["GZIPPED", "PRESET_FILES", "RESULTS", "RUN_FILES", "collect", "read_record"]

RESULTS = Path("results")


RUN_FILES = ("config.json", "metrics.jsonl", "definition_probes.json")  # a run's records (no weights)


PRESET_FILES = ("result.json", "table.csv", "table.md", "config.json", "tasks.jsonl", "grid.csv", "capacity.json")


OWN_RECORDS = ("capacity.json", "sweep.json", "config.json")  # a preset's own jobs (fig5's seed<k>/, phase's capacity/)


GZIPPED = ("metrics.jsonl",)  # run records results/ keeps as NAME.gz (one line per epoch: mostly repeated keys)


def _copy(source: Path, target: Path, results: Path) -> None:
    """source's bytes to target, a path under `results`: its folders made, none of them a link out of `results`, and
    the file replaced rather than written through (a link there is replaced by the file). GZIPPED names are written
    as target.gz (gzip without a time stamp: the same bytes for the same records), replacing a plain copy."""
    if not target.parent.resolve().is_relative_to(results.resolve()):  # its existing part, before anything is made
        raise BMError(f"{target.parent} leads out of {results} through a link; bm does not write through links")
    target.parent.mkdir(parents=True, exist_ok=True)
    data = source.read_bytes()
    if target.name in GZIPPED:
        data = gzip.compress(data, compresslevel=9, mtime=0)
        target.unlink(missing_ok=True)
        target = target.with_name(f"{target.name}.gz")
    atomic_write(target, lambda f: f.write(data))


def collect(source: Path, results: Path = RESULTS) -> list[str]:
    """Copy every finished preset (a result.json) under `source` (a `bm reproduce --out` folder: <scale>/<preset>/)
    and the records (RUN_FILES of <scale>/runs/<run>/, no weights) of the runs its record names into `results`;
    a run no finished preset names (unfinished, or another preset's still running) is left behind. The records of
    a preset's own jobs come too: OWN_RECORDS in its subfolders and RUN_FILES of the runs under them (<sub>/runs/).
    Returns the preset folders copied (scale/preset)."""
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
        for name in PRESET_FILES:
            if (preset / name).is_file():
                _copy(preset / name, into / name, results)
        for sub in sorted(p for p in preset.iterdir() if p.is_dir() and not p.is_symlink()):
            for path in sorted(sub.rglob("*")):
                kept = OWN_RECORDS if "runs" not in path.relative_to(sub).parts[:-1] else RUN_FILES
                if path.name in kept and path.is_file() and not path.is_symlink():
                    _copy(path, into / path.relative_to(preset), results)
        for run in runs:
            for name in RUN_FILES:
                if (scale / "runs" / run / name).is_file():
                    _copy(scale / "runs" / run / name, results / scale.name / "runs" / run / name, results)
    return [f"{preset.parent.name}/{preset.name}" for preset, _ in finished]


def read_record(path: Path) -> dict:
    value = read_json_file(path)
    if not isinstance(value, dict):
        raise BMError(f"{path} holds no JSON object")
    return value
