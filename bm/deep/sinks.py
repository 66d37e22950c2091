"""Where a run's metric rows go: one sink protocol for metrics.jsonl (the record, stamped with the run's wall time
and on disk before the next epoch), TensorBoard event files (bm.tensorboard.EventSink) and a caller's callback (the
console of `bm deep-train`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Protocol

from bm.runs import RunFolder, append_line, atomic_write_text

__all__ = ["EpochCallback", "MetricsFile", "Sink", "truncate_metrics"]


class Sink(Protocol):
    """Takes every metric row of a run (epoch 0, the probes at init, first), then is closed once."""

    def __call__(self, row: dict) -> None: ...

    def close(self) -> None: ...


class MetricsFile:
    """metrics.jsonl: one whole JSON row per write, fsynced; each row stamped `wall_s`, the run's wall time so far
    (`offset`: what the rows kept from before a resume reached)."""

    def __init__(self, run: RunFolder, offset: float = 0.0) -> None:
        self.path, self.offset, self.began = run / RunFolder.METRICS, offset, time.perf_counter()

    def __call__(self, row: dict) -> None:
        row["wall_s"] = round(self.offset + time.perf_counter() - self.began, 3)
        append_line(self.path, json.dumps(row) + "\n", sync=True)  # one whole record, on disk before the next epoch

    def close(self) -> None:
        pass


class EpochCallback:
    """A caller's function of each trained epoch's row (not epoch 0's, the measurements at init)."""

    def __init__(self, on_epoch: Callable[[dict], None]) -> None:
        self.on_epoch = on_epoch

    def __call__(self, row: dict) -> None:
        if row["epoch"] > 0:
            self.on_epoch(row)

    def close(self) -> None:
        pass


def truncate_metrics(run: RunFolder, epoch: int) -> float:
    """Drop metric rows after `epoch` (written after the checkpoint a resumed run starts from) and a torn
    last line (said on stderr); returns the wall time the kept rows reached."""
    rows = [r for r in run.metrics(say_torn=True) if r["epoch"] <= epoch]
    if (run / RunFolder.METRICS).exists():
        atomic_write_text(run / RunFolder.METRICS, "".join(json.dumps(r) + "\n" for r in rows))
    return float(rows[-1].get("wall_s", 0.0)) if rows else 0.0
