"""Run folders: atomic writes, the config.json that identifies a run, refusal of a foreign config."""

from __future__ import annotations

import csv
import errno
import fcntl
import io
import json
import logging
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bm import __version__
from bm.errors import BMError, RunFolderError
from bm.jsonfiles import parse_json, read_json_file

__all__ = [
    "RunFolder",
    "append_line",
    "atomic_save",
    "convert_saved",
    "atomic_write",
    "atomic_write_text",
    "lock_folder",
    "prepare_run_folder",
    "provenance",
    "read_csv_rows",
    "run_record",
    "read_json",
    "read_saved",
    "write_csv_rows",
]

log = logging.getLogger(__name__)  # the library never prints: the CLI shows warnings as "bm: ..." lines

LOCK = ".bm.lock"
_held: dict[Path, int] = {}  # folders this process holds, their lock files' descriptors (kept open until exit)


def lock_folder(folder: Path) -> None:
    """Make this process the folder's only writer: an exclusive OS lock on FOLDER/.bm.lock, released by the
    kernel when the process ends (kill -9 included), so a lock is never stale. A second writer is refused at
    once with the holder's pid; taking a folder this process already holds is a no-op. A folder that is a symbolic
    link, or a lock that is not a regular file (a link, a folder), is refused: no write follows a link out of the
    folder. Temporary files a killed writer left (.NAME.*.tmp of atomic_write) are swept once the lock is held."""
    given = Path(folder)
    if given.is_symlink():
        raise RunFolderError(f"{given} is a symbolic link; give the folder it points to")
    folder = given.resolve()
    if folder in _held:
        return
    try:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    except OSError as e:
        raise RunFolderError(f"cannot lock {folder / LOCK}: {_why(e)}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RunFolderError(f"{folder / LOCK} is not a regular file; remove it")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunFolderError(
            f"{folder} is in use by another bm process (pid {holder}); wait for it to finish or choose another folder"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
    except OSError as e:
        os.close(fd)
        raise RunFolderError(f"cannot write {folder / LOCK}: {_why(e)}") from None
    _held[folder] = fd
    for stale in folder.glob(".*.tmp"):  # ours alone hold the lock: a temp file here is a killed writer's
        if stale.is_file() and not stale.is_symlink() and TEMP.fullmatch(stale.name):
            stale.unlink(missing_ok=True)


TEMP = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")  # atomic_write's temporary names (.NAME.XXXXXXXX.tmp)


def _why(e: OSError) -> str:
    """An OSError in words: a full disk or quota says so (the run is resumable), a link says it is one."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device (free some and run the same command again: it resumes)"
    if e.errno == errno.ELOOP:
        return "it is a symbolic link (bm does not write through links)"
    return e.strerror or str(e)


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


def run_record(path: Path, name: str, version: int, compute: Callable[[], dict]) -> dict:
    """A finished run's analysis record `name` (a JSON file in the run folder): read when it was made at the run's
    last epoch by this `version` of its definition, else compute() written there under the run's lock."""
    run = RunFolder(path)
    epoch = run.finished_epochs()
    if (run / name).exists():
        record = read_json(run / name)
        if record.get("epoch") == epoch and record.get("version") == version:
            return record
    lock_folder(run.path)
    record = {"epoch": epoch, "version": version, **compute()}
    write_json(run / name, record)
    return record


def write_json(path: Path, record: Any, sort_keys: bool = False) -> None:
    """`record` as indented JSON with a final newline, atomically (a reader sees the old file or the new one)."""
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=sort_keys) + "\n")


def atomic_save(path: Path, obj: Any) -> None:
    """torch.save, atomically (checkpoints, weights, labels)."""
    import torch

    atomic_write(path, lambda f: torch.save(obj, f))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_saved(path: Path, keys: tuple[str, ...] = (), device: str = "cpu", mmap: bool = True) -> dict:
    """A dict saved with torch.save in a run folder (checkpoint.pt, init.pt, snapshot_E.pt, labels.pt, a feature
    dump), holding `keys`, read with `torch.load(weights_only=True)` only: tensors, dicts, lists, tuples, numbers and
    strings, nothing that can run code. A file that needs more (a pickle of other objects, a payload) is refused
    unexecuted; a missing, truncated, corrupt or foreign file is one RunFolderError naming it. Tensors are mapped
    (copy on write), not read, until used: a look at a checkpoint's epoch reads no weights, and a restore reads each
    tensor once, into the module it is loaded into (`mmap=False`: read them now)."""
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise RunFolderError(f"{path} is missing")
    try:
        obj = torch.load(path, map_location=device, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as e:
        foreign = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        if foreign is None:
            raise RunFolderError(
                f"{path} is truncated or corrupt (UnpicklingError); restore it or rerun the run"
            ) from None
        raise RunFolderError(
            f"{path} holds objects other than tensors, dicts, lists, numbers and strings ({foreign[1]}"
            f"), which bm does not load (they can run code); if you trust its source, convert it with "
            f"`bm convert-run {path.parent} --trust`"
        ) from None
    except Exception as e:  # noqa: BLE001 - torch.load raises many types on damaged bytes; each is the same error here
        raise RunFolderError(
            f"{path} is truncated or corrupt ({type(e).__name__}); restore it or rerun the run"
        ) from None
    missing = [k for k in keys if not isinstance(obj, dict) or k not in obj]
    if missing:
        raise RunFolderError(f"{path} is not a bm file of this kind (no {', '.join(missing)})")
    return obj


def convert_saved(path: Path) -> bool:
    """Rewrite one torch.save file so that it loads with weights_only=True, UNPICKLING IT FULLY first (only for a
    file the user trusts): numpy arrays become tensors, numpy scalars Python numbers, tuples stay tuples. Returns
    whether the file changed; an object with no data-only form is refused by type."""
    import numpy as np
    import torch

    def plain(x):
        if isinstance(x, torch.Tensor) or x is None or isinstance(x, (bool, int, float, str, bytes)):
            return x
        if isinstance(x, np.ndarray):
            return torch.from_numpy(np.ascontiguousarray(x))
        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, dict):
            return {plain(k): plain(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(plain(v) for v in x)
        if isinstance(x, torch.Size):
            return tuple(x)
        raise RunFolderError(f"{path} holds a {type(x).__module__}.{type(x).__qualname__}, which has no data-only form")

    try:
        read_saved(path)
        return False
    except RunFolderError:
        pass
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False)  # the user vouched for this file (--trust)
    except Exception as e:  # noqa: BLE001
        raise RunFolderError(f"{path} cannot be read even trusted ({type(e).__name__})") from None
    atomic_save(path, plain(obj))
    read_saved(path)  # now loads safely
    return True


def write_csv_rows(path: Path, rows: list[dict], columns: list[str]) -> None:
    """Write rows (dicts) as CSV with the given column order, atomically; missing keys are empty cells."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in columns} for row in rows)  # a row may lack columns: empty cells
    atomic_write_text(path, buf.getvalue())


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict | None]]:
    """(index, record) for each non-blank line of a JSON-lines file, read one line at a time (none if the file is
    absent); record is None for a line that is not a JSON object (a write cut short by a kill, or foreign)."""
    if not Path(path).exists():
        return
    with open(path, "rb") as f:
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


def _git(*args: str) -> str | None:
    """stdout of a git command in the checkout bm runs from (None outside one)."""
    try:
        out = subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def _git_sha() -> str | None:
    """The commit of the checkout bm runs from, if it runs from one."""
    sha = _git("rev-parse", "HEAD")
    return sha.strip() or None if sha else None


def provenance(device: str | None = None) -> dict[str, Any]:
    """Where a result comes from: bm version, git commit, whether the tree differed from it (and the sha256 of
    `git diff HEAD`), Python / torch / CUDA versions, the device's name, torch's CPU threads (CPU results are
    bit-identical only at the same thread count: convolution reductions split by thread), the host and the start
    time (UTC)."""
    import hashlib
    import platform
    import socket
    import time

    import torch

    diff = _git("diff", "HEAD")
    name = platform.processor() or platform.machine()
    if device is not None and str(device).startswith("cuda") and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.device(device))
    return {
        "bm_version": __version__,
        "git_sha": _git_sha(),
        "git_dirty": bool(diff) if diff is not None else None,
        "git_diff_sha256": hashlib.sha256(diff.encode()).hexdigest() if diff else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": str(device) if device is not None else None,
        "device_name": name,
        "cpu_threads": torch.get_num_threads(),
        "hostname": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def prepare_run_folder(
    out: Path,
    config: dict[str, Any],
    extendable: tuple[str, ...] = (),
    results: tuple[str, ...] | None = None,
    overwrite: bool = False,
    runtime: tuple[str, ...] = (),
) -> Path:
    """Create `out` (or reuse it for the same config) and write config.json.

    The folder must be a writable directory; when it already holds a config.json that differs
    from `config`, the run is refused rather than mixed with another run's results, except when
    the only differences are raised values of `extendable` keys (a finished run trained for more
    epochs): then config.json takes the new values and records the old ones under "extended", and
    except when the folder holds no results yet (none of the `results` files; default: no file but
    config.json): a run that failed before producing anything does not keep its folder. `runtime` keys are not part
    of a run's identity (where its data lives, the device, measurement cadences): they may change freely, config.json
    takes the new values and records each change under "runtime". `overwrite` first empties a folder that holds a
    run (a config.json), whatever its config.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"output path {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunFolderError(f"cannot create output folder {out}: {e.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise RunFolderError(f"output folder {out} is not writable")
    lock_folder(out)
    path = out / RunFolder.CONFIG
    if overwrite and path.exists():
        _empty(out)
    if path.exists():
        try:
            old = read_json_file(path)
        except BMError as e:
            raise RunFolderError(f"{e}; remove it or choose another --out") from None
        if not isinstance(old, dict) or not isinstance(old.get("config", {}), dict):
            raise RunFolderError(f"{path} holds no config object; remove it or choose another --out")
        previous = old.get("config", {})
        if previous == config:
            return out
        changed = sorted(k for k in set(previous) | set(config) if previous.get(k) != config.get(k))
        if not changed:  # the same run; only keys that are None in one config are absent from the other
            return out
        moved = [k for k in changed if k in runtime]  # a runtime key an older config lacked counts as moved
        grown = [k for k in changed if k not in moved]
        if (
            changed
            and set(grown) <= set(extendable)
            and all(isinstance(previous.get(k), int) and config[k] > previous[k] for k in grown)
        ):
            old["config"] = config
            if grown:
                old.setdefault("extended", []).append({k: [previous[k], config[k]] for k in grown})
            if moved:
                old.setdefault("runtime", []).append({k: [previous.get(k), config.get(k)] for k in moved})
            write_json(path, old, sort_keys=True)
            return out
        found = [p.name for p in out.iterdir() if p.name != RunFolder.CONFIG and not p.name.startswith(".")]
        if not any(name in results for name in found) if results is not None else not found:
            log.warning(
                f"{out} held only the config of a run that produced nothing; starting it anew with this config"
            )  # a failed start (bad value, crash before any result) does not lock the folder
            write_json(path, _record(config), sort_keys=True)
            return out
        hint = (
            " (--epochs can only be raised, to extend a run)"
            if changed == ["epochs"] and "epochs" in extendable
            else ""
        )
        raise RunFolderError(
            f"{out} holds a run with a different config (differs in: {', '.join(changed)}){hint}; "
            "rerun with the same arguments to resume, choose another --out, or pass --overwrite to empty it"
        )
    write_json(path, _record(config), sort_keys=True)
    return out


def _empty(folder: Path) -> None:
    """Remove everything in a run folder but its lock (this process holds it)."""
    for entry in folder.iterdir():
        if entry.name == LOCK:
            continue
        shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    log.warning(f"--overwrite: emptied {folder}")


def _record(config: dict[str, Any]) -> dict[str, Any]:
    return {"config": config, **provenance(config.get("device"))}


class RunFolder:
    """A deep run's folder: the one place that names its files and reads them.

    config.json (config + provenance), labels.pt (the labels trained on, the true ones, which were randomized),
    init.pt (weights at epoch 0), checkpoint.pt (weights, optimizer and position of the last epoch done),
    snapshot_E.pt (weights kept at epoch E), metrics.jsonl (one record per epoch), probe.json (bm probe).
    """

    CONFIG, LABELS, INIT, CHECKPOINT, METRICS, PROBE = (
        "config.json",
        "labels.pt",
        "init.pt",
        "checkpoint.pt",
        "metrics.jsonl",
        "probe.json",
    )

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def snapshot(self, epoch: int) -> Path:
        return self.path / f"snapshot_{epoch}.pt"

    def is_deep_run(self) -> bool:
        return (self.path / self.LABELS).exists()

    def raw_config(self) -> dict[str, Any]:
        """The config dict of config.json; a missing or unreadable file is one RunFolderError."""
        try:
            config = read_json_file(self.path / self.CONFIG)["config"]
        except (BMError, KeyError, TypeError):
            raise RunFolderError(f"{self.path} is not a run folder (no readable {self.CONFIG})") from None
        if not isinstance(config, dict):
            raise RunFolderError(f"{self.path / self.CONFIG}: 'config' is not a JSON object")
        return config

    def labels(self, keys: tuple[str, ...] = ("labels",)) -> dict:
        return read_saved(self.path / self.LABELS, keys)

    def finished_epochs(self) -> int:
        """Epochs the checkpoint holds (0 when there is none)."""
        path = self.path / self.CHECKPOINT
        if not path.exists():
            return 0
        epoch = read_saved(path, ("epoch",), mmap=True)["epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise RunFolderError(f"{path}: 'epoch' is not a count of epochs (got {str(epoch)[:40]!r})")
        return epoch

    def weight_files(self) -> dict[int, Path]:
        """Epoch -> weights file: init.pt (0), snapshot_E.pt, checkpoint.pt (its epoch)."""
        found = {0: self.path / self.INIT} if (self.path / self.INIT).exists() else {}
        for p in self.path.glob("snapshot_*.pt"):
            if re.fullmatch(r"snapshot_\d{1,9}\.pt", p.name):  # another name is not bm's: left alone
                found[int(p.stem.split("_")[1])] = p
        if (self.path / self.CHECKPOINT).exists():
            found[self.finished_epochs()] = self.path / self.CHECKPOINT
        return dict(sorted(found.items()))

    def weights(self, epoch: int, found: dict[int, Path] | None = None) -> dict:
        """The model state dict at `epoch`; `found` is `weight_files()` if already listed."""
        found = self.weight_files() if found is None else found
        if epoch not in found:
            raise RunFolderError(
                f"{self.path} has no weights for epoch {epoch}; it has {', '.join(map(str, found))} "
                "(train with --snapshots to keep more)"
            )
        state = read_saved(found[epoch], ("model",))["model"]
        if not isinstance(state, dict):
            raise RunFolderError(f"{found[epoch]}: 'model' is not a state dict")
        return state

    def iter_metrics(self, say_torn: bool = False) -> Iterator[dict]:
        """metrics.jsonl's records, one line in memory at a time. A torn last line (a kill inside a write) is left
        out (`say_torn`: and said through the log); a line before the last that is not a JSON record, or a record without an
        integer 'epoch', is a RunFolderError (the folder is damaged)."""
        path = self.path / self.METRICS
        torn = None
        for k, row in iter_jsonl(path):
            if torn is not None:
                raise RunFolderError(f"{path} line {torn + 1} is not a JSON record; the run folder is damaged")
            if row is None:
                torn = k
                continue
            if type(row.get("epoch")) is not int:
                raise RunFolderError(f"{path}: record {k + 1} has no integer 'epoch'; the run folder is damaged")
            yield row
        if torn is not None and say_torn:
            log.warning(f"dropped a torn last line of {path}")

    def metrics(self, say_torn: bool = False) -> list[dict]:
        """metrics.jsonl's records as a list (see `iter_metrics`)."""
        return list(self.iter_metrics(say_torn))
