"""Deep run folders read as deep runs: the DeepTrainConfig a folder's config.json holds."""

from __future__ import annotations

from pathlib import Path

from bm.configs import from_saved
from bm.deep.config import DeepTrainConfig
from bm.runs import RunFolder

__all__ = ["run_config"]


def run_config(folder: Path | RunFolder) -> DeepTrainConfig:
    """The run's DeepTrainConfig. A folder written before a field existed reads with that field's default; a key this
    version does not know (a newer bm wrote it) is refused by name."""
    run = folder if isinstance(folder, RunFolder) else RunFolder(folder)
    return from_saved(DeepTrainConfig, run.raw_config())
