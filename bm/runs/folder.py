"""Run folders: the config.json that identifies a run, refusal of a foreign config, the run's records (RunFolder)."""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bm.errors import BMError, RunFolderError
from bm.jsonfiles import read_json_file
from bm.runs.files import iter_jsonl, read_json, write_json
from bm.runs.locks import LOCK, lock_folder
from bm.runs.provenance import provenance
from bm.runs.saved import read_saved

__all__ = ["RunFolder", "prepare_run_folder", "run_record"]

log = logging.getLogger(__name__)  # the library never prints: the CLI shows warnings as "bm: ..." lines


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


def prepare_run_folder(
    out: Path,
    config: dict[str, Any],
    extendable: tuple[str, ...] = (),
    results: tuple[str, ...] | None = None,
    overwrite: bool = False,
    runtime: tuple[str, ...] = (),
    record: bool = True,
) -> Path:
    """Create `out` (or reuse it for the same config) and write config.json.

    The folder must be a writable directory; when it already holds a config.json that differs
    from `config`, the run is refused rather than mixed with another run's results, except when
    the only differences are raised values of `extendable` keys (a finished run trained for more
    epochs): then config.json takes the new values and records the old ones under "extended", and
    except when the folder holds no results yet (none of the `results` files; default: no file but
    config.json): a run that failed before producing anything does not keep its folder. `runtime` keys are not part
    of a run's identity (where its data lives, the device, measurement cadences): they may change freely, config.json
    takes the new values and records each change under "runtime" (`record` False: a run left as it is, e.g. finished,
    is only checked, and its config.json keeps the values it ran with). `overwrite` first empties a folder that holds a
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
            if not record and not grown:
                return out
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

    def has_metrics(self) -> bool:
        """metrics.jsonl is there, or its gzipped copy (results/ keeps a run's records gzipped: iter_jsonl reads it)."""
        return (self.path / self.METRICS).exists() or (self.path / f"{self.METRICS}.gz").exists()

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
