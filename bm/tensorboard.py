"""TensorBoard event files beside metrics.jsonl (`--tensorboard`; the optional extra `tensorboard`).

Every metric of a metrics row becomes a scalar at step = epoch. Tags follow the authors' released code where the
quantity is the same (`Loss/train`, `Misc/knn_acc`), so their curves and bm's overlay in one TensorBoard;
the rest: `Misc/train_acc`, `Decomposition/inv`, `Decomposition/bias`, `Invariance/<layer>`, `Misc/<name>`.
"""

from __future__ import annotations

from pathlib import Path

from bm.configs import flatten
from bm.errors import BMError

__all__ = ["EventSink", "tag"]

TAGS = {
    "loss": "Loss/train",
    "knn": "Misc/knn_acc",
    "train_acc": "Misc/train_acc",
    "inv": "Decomposition/inv",
    "bias": "Decomposition/bias",
}


def tag(key: str) -> str:
    """The TensorBoard tag of a (flattened) metrics key."""
    if key in TAGS:
        return TAGS[key]
    if key.startswith("invariance."):
        return "Invariance/" + key.removeprefix("invariance.")
    return "Misc/" + key.replace(".", "/")


class EventSink:
    """Writes metrics rows ({"epoch": E, ...}; the step read from `step`) as scalars into `folder`. `purge_step`:
    on a resume, the epoch it resumes from; events an interrupted run wrote at or after it are dropped, so no step
    appears twice."""

    def __init__(self, folder: Path, purge_step: int | None = None, step: str = "epoch") -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise BMError("--tensorboard needs tensorboard: pip install 'benign-memorization[tensorboard]'") from None
        self.writer = SummaryWriter(str(folder), purge_step=purge_step)
        self.step = step

    def __call__(self, row: dict) -> None:
        for key, value in flatten(row).items():
            if key != self.step and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(tag(key), value, row[self.step])
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
