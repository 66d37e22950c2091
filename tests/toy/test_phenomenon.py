"""The main job's claim, checked on the default `bm toy-grid` (about a minute on 2 cores)."""

import json

import pytest

from bm.runs import read_csv_rows
from bm.toy.grid import ToyGridConfig, run_grid
from bm.toy.summary import headline


@pytest.mark.slow
def test_default_grid_shows_benign_memorization(tmp_path):
    out = run_grid(ToyGridConfig(), tmp_path / "grid")
    capacity = json.loads((out / "capacity.json").read_text())["capacity"]
    h = headline(read_csv_rows(out / "grid.csv"), capacity)
    assert h["knn_B_max"] >= h["knn_init"] + 0.10  # augmentation beats initialization ...
    assert h["knn_B_max"] >= h["knn_B_min"] + 0.15  # ... and beats no augmentation
    assert h["min_mem_aug_below_capacity"] >= 0.95  # below capacity everything is memorized
