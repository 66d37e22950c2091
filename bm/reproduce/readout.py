"""A finished run read off its metrics.jsonl: memorization, the step it was reached, the K-NN under both banks."""

from __future__ import annotations

from bm.deep.config import TRAIN_SIZES, DeepTrainConfig
from bm.reproduce.plan import Plan, Run, steps_per_epoch
from bm.runs import RunFolder

__all__ = ["MEMORIZED", "NEAR", "RECORD", "banks", "final", "metrics_of"]

MEMORIZED = 1.0  # "memorized" (Def. 4.1, D.1), everywhere: the accuracy on the trained items against their training
# labels reached 1 at a measurement within the run's budget. Under online augmentation it then flickers (one image of
# 128 lost and refitted between measurements), so the final accuracy is reported beside it, with how often the last
# LAST measurements were at 1
LAST = 10
NEAR = 0.99  # the step accuracy 0.99 was reached, reported beside (labelled as such), never called memorized
RECORD = [
    "train_acc",
    "memorized",
    "share_at_1",
    "steps_to_memorize",
    "steps_to_0.99",
    "steps",
    "knn_train",
    "knn_all",
    "knn_init_train",
    "knn_init_all",
]


def banks(row: dict, cfg: DeepTrainConfig) -> dict:
    """A probe row's K-NN by memory bank (a row from before both banks were measured holds only its config's)."""
    return row.get("knn_banks", {cfg.knn_bank: row["knn"]})


def final(plan: Plan, run: Run, history: list[dict] | None = None) -> dict:
    """A finished run read off metrics.jsonl: final memorization (`train_acc`: accuracy on the trained items, their
    training labels) and the share of its last LAST measurements at 1, whether it was memorized (MEMORIZED), the first
    optimizer step at which it reached MEMORIZED (None: never) and NEAR (0.99), the steps trained, and
    the K-NN at the end and at init under both memory banks (knn_train: Definition 4.1's S; knn_all: every training
    image, the released code's); `knn` is the scale's bank. `history`: its metrics rows, if already read."""
    history, cfg = history if history is not None else metrics_of(plan, run), run.config
    per_epoch = steps_per_epoch(cfg, TRAIN_SIZES[cfg.dataset])
    reached = [r["epoch"] for r in history if r.get("train_acc", 0.0) >= MEMORIZED]
    near = [r["epoch"] for r in history if r.get("train_acc", 0.0) >= NEAR]
    end, init = banks(history[-1], cfg), banks(history[0], cfg)
    accs = [r["train_acc"] for r in history if "train_acc" in r]
    return {
        "knn": history[-1]["knn"],
        "train_acc": history[-1]["train_acc"],
        "memorized": bool(reached),
        "share_at_1": sum(a >= MEMORIZED for a in accs[-LAST:]) / len(accs[-LAST:]),
        "steps_to_memorize": reached[0] * per_epoch if reached else None,
        "steps_to_0.99": near[0] * per_epoch if near else None,
        "steps": history[-1]["epoch"] * per_epoch,
        "knn_train": end.get("train"),
        "knn_all": end.get("all"),
        "knn_init_train": init.get("train"),
        "knn_init_all": init.get("all"),
    }


def metrics_of(plan: Plan, run: Run) -> list[dict]:
    """The run's metrics.jsonl rows."""
    return RunFolder(plan.folder(run)).metrics()
