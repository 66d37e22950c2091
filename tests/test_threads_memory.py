"""bm.threads (thread count by timing) and bm.memory (estimates checked before allocating)."""

import math
import time

import pytest
import torch

from bm.deep.config import ModelConfig
from bm.deep.models import Network
from bm.deep.train import deep_train_bytes
from bm.errors import BMError
from bm.memory import available_bytes, require_memory
from bm.threads import fastest_threads, using_threads
from bm.toy.grid import ToyGridConfig, toy_grid_bytes


def test_using_threads_restores_the_count():
    before = torch.get_num_threads()
    with using_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_fastest_threads_keeps_a_request_and_picks_the_faster():
    assert fastest_threads(lambda: None, requested=3) == (3, {})
    if torch.get_num_threads() == 1:
        pytest.skip("one default thread: nothing to choose")
    slow_at_one = lambda: time.sleep(0.02 if torch.get_num_threads() == 1 else 0.0)  # noqa: E731
    chosen, seconds = fastest_threads(slow_at_one)
    assert chosen == torch.get_num_threads() and seconds[1] >= 0.02 > seconds[chosen]


def test_the_deep_estimate_counts_the_real_parameters():
    cfg = ModelConfig(width=4, projector_width=64, num_classes=10, image_size=32)
    parameters = sum(p.numel() for p in Network(cfg).parameters())
    alone = deep_train_bytes(cfg, batch_size=0, images_on_device=0)
    assert alone == 16 * parameters  # weight, gradient and two Adam states in float32
    assert deep_train_bytes(cfg, 8, 0) > alone and deep_train_bytes(cfg, 0, 10) == alone + 10 * 3 * 32 * 32


def test_the_toy_estimate_covers_the_views_and_refusals_name_sizes():
    config = ToyGridConfig(ns=(1000,), Bs=(8,))
    assert toy_grid_bytes(config) >= 4 * 1000 * 8 * config.data.dim
    assert available_bytes("cpu") > 0
    with pytest.raises(BMError, match=r"needs ~.* GB, .* GB available on cpu"):
        require_memory(10 * available_bytes("cpu"), "cpu", "this")


def test_the_smallest_documented_image_size_is_estimated_and_trains(capsys, tmp_path, workspace):
    """--image-size 8 (the documented minimum; 1 x 1 maps in the last stage) is estimated without a BatchNorm error
    and trains: one epoch is logged with finite numbers."""
    import json

    from tests.conftest import run

    out = tmp_path / "run"
    argv = ["deep-train", "--preset", "smoke", "--data-dir", str(workspace / "data"), "--out", str(out)]
    code, _, err = run(capsys, [*argv, "--image-size", "8", "--epochs", "1", "--width", "4", "--projector-width", "16"])
    assert code == 0, err
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["epoch"] == 1 and all(map(math.isfinite, (rows[-1]["loss"], rows[-1]["train_acc"])))
    assert json.loads((out / "config.json").read_text())["config"]["model"]["image_size"] == 8
