"""torchrun with 2 CPU processes (gloo) follows the single-process loss curve at the same global batch."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import write_cifar10

ARGS = [
    "deep-train",
    "--model",
    "mlp",
    "--width",
    "8",
    "--projector-width",
    "64",
    "--epochs",
    "3",
    "--batch-size",
    "16",
    "--lr",
    "1e-3",
    "--probe-every",
    "3",
    "--checkpoint-every",
    "1",
    "--augment",
    "ssl",
]


def _losses(run):
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in rows if r["epoch"] > 0]  # epoch 0: the probes at init, no loss


@pytest.mark.slow
def test_two_processes_match_one(tmp_path):
    write_cifar10(tmp_path / "data", per_batch=8)
    common = [*ARGS, "--data-dir", str(tmp_path / "data")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    one = subprocess.run(
        [sys.executable, "-m", "bm", *common, "--out", str(tmp_path / "one")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "bm",
            *common,
            "--out",
            str(tmp_path / "two"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = _losses(tmp_path / "one"), _losses(tmp_path / "two")
    assert len(a) == len(b) == 3
    assert a == pytest.approx(b, rel=1e-5)
    assert (
        len((tmp_path / "two" / "metrics.jsonl").read_text().splitlines()) == 4
    )  # epochs 0-3, written once, by rank 0
