"""Files a run writes and reads: atomic writes (a reader sees the old file or the new one), appended lines, JSON, JSON
lines and CSV, each reader refusing a malformed file with one error naming it."""

from __future__ import annotations

import csv
import errno
import gzip
import io
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bm.errors import BMError, RunFolderError
from bm.jsonfiles import parse_json, read_json_file

__all__ = [
    "append_line",
    "atomic_write",
    "atomic_write_text",
    "iter_jsonl",
    "read_csv_rows",
    "read_json",
    "read_jsonl",
    "write_csv_rows",
    "write_json",
]

TEMP = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")  # atomic_write's temporary names (.NAME.XXXXXXXX.tmp)


def _why(e: OSError) -> str:
    """An OSError in words: a full disk or quota says so (the run is resumable), a link says it is one."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device (free some and run the same command again: it resumes)"
    if e.errno == errno.ELOOP:
        return "it is a symbolic link (bm does not write through links)"
    return e.strerror or str(e)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def append_line(path: Path, line: str, sync: bool = False) -> None:
    """Append one whole line to `path` (created if missing) without following a link there: a link or a file that
    is not a regular file is one RunFolderError, and so is a full disk. `sync`: on disk before returning."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    except OSError as e:
        raise RunFolderError(f"cannot write {path}: {_why(e)}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RunFolderError(f"cannot write {path}: not a regular file")
        os.write(fd, line.encode())
        if sync:
            os.fsync(fd)
    except OSError as e:
        raise RunFolderError(f"cannot write {path}: {_why(e)}") from None
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[Any], None], text: bool = False) -> None:
    """Whole or not at all: `write(file)` into a new temporary file in the same folder (mkstemp: created, never
    opened through a link), fsync, then rename over `path`. An OSError (a full disk), also one that `write` reports
    as another error raised while handling it, is one RunFolderError; the temporary file is removed."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # O_EXCL: never a link
    except OSError as e:
        raise RunFolderError(f"cannot write {path}: {_why(e)}") from None
    try:
        with os.fdopen(fd, "w" if text else "wb", **({"newline": ""} if text else {})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results should read like any file
        os.replace(tmp, path)  # a link at `path` is replaced, its target untouched
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        cause = _os_error(e)
        if cause is None:
            raise
        raise RunFolderError(f"cannot write {path}: {_why(cause)}") from None


def _os_error(e: BaseException | None) -> OSError | None:
    """The OSError behind `e`, if any: torch.save's zip writer reports a full disk as a RuntimeError of its own
    raised while handling the OSError."""
    seen = 0
    while e is not None and seen < 16:
        if isinstance(e, OSError):
            return e
        e, seen = e.__cause__ or e.__context__, seen + 1
    return None


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text), text=True)


def write_json(path: Path, record: Any, sort_keys: bool = False) -> None:
    """`record` as indented JSON with a final newline, atomically (a reader sees the old file or the new one)."""
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=sort_keys) + "\n")


def write_csv_rows(path: Path, rows: list[dict], columns: list[str]) -> None:
    """Write rows (dicts) as CSV with the given column order, atomically; missing keys are empty cells."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in columns} for row in rows)  # a row may lack columns: empty cells
    atomic_write_text(path, buf.getvalue())


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict | None]]:
    """(index, record) for each non-blank line of a JSON-lines file, read one line at a time (none if the file is
    absent); record is None for a line that is not a JSON object (a write cut short by a kill, or foreign). A file
    kept gzipped beside the path (PATH.gz, as results/ keeps run records) is read in its place."""
    if not Path(path).exists():
        if not Path(f"{path}.gz").is_file():
            return
        path = Path(f"{path}.gz")
    with gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb") as f:
        k = 0
        for line in f:
            if not line.strip():
                continue
            try:
                row = parse_json(line, f"{path} line {k + 1}")  # bytes: a line that is not UTF-8 is a bad line
            except BMError:
                row = None
            yield k, row if isinstance(row, dict) else None
            k += 1


def read_jsonl(path: Path) -> tuple[list[dict], list[int], int]:
    """A JSON-lines file's records (none if it is absent), the indices of its non-blank lines that are not JSON (a
    write cut short by a kill), and the number of non-blank lines; the caller decides what a bad line means."""
    rows, bad, count = [], [], 0
    for k, row in iter_jsonl(path):
        count = k + 1
        if row is None:
            bad.append(k)
        else:
            rows.append(row)
    return rows, bad, count


def read_json(path: Path, needed: dict[str, type | tuple[type, ...]] | None = None) -> dict:
    """A JSON object file bm wrote (config.json, result.json, jobs.json, capacity.json, ...), parsed as data only;
    a missing, unreadable or non-object file, or one whose `needed` keys are absent or of another type, is one
    RunFolderError naming it."""
    path = Path(path)
    try:
        record = read_json_file(path)
    except BMError as e:
        raise RunFolderError(str(e)) from None
    if not isinstance(record, dict):
        raise RunFolderError(f"{path} is not a JSON object")
    for key, kind in (needed or {}).items():
        if key not in record or not isinstance(record[key], kind) or isinstance(record[key], bool) and kind is not bool:
            raise RunFolderError(f"{path}: '{key}' is missing or not a {getattr(kind, '__name__', kind)}")
    return record


def read_csv_rows(path: Path, integers: tuple[str, ...] = (), numbers: tuple[str, ...] = ()) -> list[dict]:
    """A CSV file's rows as dicts of strings (none if it is absent); the `integers` and `numbers` columns must
    parse as such in every row: a file that is not UTF-8 text, or a field that does not parse, is one RunFolderError
    naming the file, the row and the field."""
    if not Path(path).exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as e:
        raise RunFolderError(f"{path} is not a readable CSV file ({type(e).__name__})") from None
    for i, row in enumerate(rows, 2):  # line 1 is the header
        for column in (*integers, *numbers):
            value = row.get(column)
            try:
                int(value) if column in integers else float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                kind = "an integer" if column in integers else "a number"
                raise RunFolderError(f"{path} line {i}: {column} is not {kind} (got {str(value)[:20]!r})") from None
    return rows
