"""Every run under a folder as one table: `collect(ROOT) -> pandas.DataFrame`, and `bm results`.

One row per deep run (a RunFolder: config.json, labels.pt, metrics.jsonl; or only a run's records, config.json and
metrics.jsonl, as results/ keeps them) and per toy-grid cell (a grid
folder's grid.csv: one row per n, B, seed). Columns: `kind` (deep / toy), `path`, the config flattened with dotted
names (`model.width`, `train.lr`), then the metrics. Deep runs: `epoch` reached, and for every metric of
metrics.jsonl (nested ones flattened: `invariance.layer4`) its last value `last.<m>` and, for the ones with a
direction, its best `best.<m>` (highest K-NN and accuracy, lowest loss, Inv and Bias). Toy cells: the cell's
grid.csv values as `last.<m>`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bm.configs import flatten, read_config
from bm.errors import BMError
from bm.runs import RunFolder
from bm.toy.summary import read_grid

__all__ = ["SHOWN", "collect", "save_table", "select"]

HIGHER = ("knn", "train_acc", "mem_aug", "mem_clean")  # best = max
LOWER = ("loss", "inv", "bias")  # best = min


def _deep_row(run: RunFolder, root: Path) -> dict[str, Any]:
    """One run's row, reading metrics.jsonl one record at a time (memory: one line and the row, not the file)."""
    last: dict[str, float] = {}
    best: dict[str, float] = {}
    epoch = 0
    for record in run.iter_metrics():
        epoch = record["epoch"]
        for key, value in flatten(record).items():
            if key == "epoch" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if not math.isfinite(value):
                continue
            last[key] = value
            if key in HIGHER:
                best[key] = max(best.get(key, value), value)
            elif key in LOWER:
                best[key] = min(best.get(key, value), value)
    row: dict[str, Any] = {"kind": "deep", "path": str(run.path.relative_to(root)), **flatten(run.raw_config())}
    row["epoch"] = epoch
    for key in sorted(last):
        row[f"last.{key}"] = last[key]
        if key in best:
            row[f"best.{key}"] = best[key]
    return row


def _toy_rows(folder: Path, root: Path) -> list[dict[str, Any]]:
    config = flatten(read_config(folder))
    out = []
    for cell in read_grid(folder / "grid.csv"):
        values = {k: float(v) for k, v in cell.items() if k not in ("n", "B", "seed") and v != ""}
        out.append(
            {
                "kind": "toy",
                "path": str(folder.relative_to(root)),
                **config,
                "n": int(cell["n"]),
                "B": int(cell["B"]),
                "seed": int(cell["seed"]),
                **{f"last.{k}": v for k, v in values.items()},
            }
        )
    return out


def collect(root: Path | str):
    """A pandas DataFrame with one row per deep run and per toy-grid cell found under `root` (any depth); `path`
    is the folder relative to root."""
    import pandas as pd

    root = Path(root)
    if not root.is_dir():
        raise BMError(f"{root} is not a folder")
    rows: list[dict[str, Any]] = []
    for config in sorted(root.rglob(RunFolder.CONFIG)):
        folder = config.parent
        if RunFolder(folder).is_deep_run() or RunFolder(folder).has_metrics():  # a run, or its records (results/)
            rows.append(_deep_row(RunFolder(folder), root))
        elif (folder / "grid.csv").exists():
            rows.extend(_toy_rows(folder, root))
    frame = pd.DataFrame(rows)
    if not frame.empty:  # tuples (ns, snapshots) as text: a table cell, and hashable for --where and Parquet
        frame = frame.apply(lambda col: col.map(lambda v: ",".join(map(str, v)) if isinstance(v, tuple) else v))
    return frame


SHOWN = ("epoch", "last.knn", "best.knn", "last.train_acc", "last.loss", "last.mem_aug")  # the main metrics


def select(frame, where: str | None = None, columns: list[str] | None = None):
    """The rows of `frame` matching the pandas query `where` (dotted names in backticks), in `columns` (default:
    path, the config columns that vary, then the main metrics); a bad query or column is one BMError."""
    if where:
        try:
            frame = frame.query(where)
        except Exception as e:  # pandas raises many kinds for a bad expression
            raise BMError(
                f"--where {where!r}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            ) from None
    if columns:
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            raise BMError(f"unknown column(s) {', '.join(unknown)}; the table has {', '.join(frame.columns)}")
    else:
        varying = [
            c
            for c in frame.columns
            if not c.startswith(("last.", "best."))
            and c not in ("path", "epoch")
            and frame[c].astype(str).nunique() > 1
        ]
        columns = ["path", *varying, *[c for c in SHOWN if c in frame.columns]]
    return frame[columns]


def save_table(frame, path: Path, parquet: bool = False) -> None:
    """The table as CSV, or as Parquet (needs pyarrow: the parquet extra); a failure is one BMError."""
    try:
        frame.to_parquet(path, index=False) if parquet else frame.to_csv(path, index=False)
    except ImportError:
        raise BMError("--parquet needs pyarrow: pip install 'benign-memorization[parquet]'") from None
    except OSError as e:
        raise BMError(f"cannot write {path}: {e.strerror or e}") from None
