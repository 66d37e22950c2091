"""benchmarks/gpu_check.py on the CPU (reduced sizes): every check runs, passes, and says no GPU was measured."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_gpu_check_runs_on_a_cpu(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "gpu_check.py"),
            "--device",
            "cpu",
            "--quick",
            "--no-reproduce",
            "--out",
            str(tmp_path / "c.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads((tmp_path / "c.json").read_text())
    assert record["gpu_figures_measured"] is False and "no GPU figures were measured" in done.stdout
    checks = record["checks"]
    assert set(checks) == {
        "throughput",
        "bf16_vs_fp32",
        "device_equality",
        "toy_grid",
        "torchrun_1_process",
        "fig8_projector",
        "reproduce_fig3_mini",
    }
    assert all(c["passed"] is not False for c in checks.values())
    assert checks["torchrun_1_process"]["relative_difference"] <= 1e-5
    assert checks["throughput"]["eager"]["img_per_s"] > 0
    fig8 = checks["fig8_projector"]
    assert fig8["needs_gb"] > 50 and (fig8["fits"] or fig8["alternative_projector_width"] >= 512)


def test_the_full_scale_rate_is_the_committed_gpu_measurement():
    """Scale full's images/s (every full-scale estimate of bm reproduce --list) is the mean eager throughput that
    benchmarks/gpu_check.py measured on the H200 in the records committed in results/gpu/ (rounded to whole images)."""
    from bm.reproduce.scales import SCALES

    records = [json.loads(f.read_text()) for f in sorted((ROOT / "results/gpu").glob("gpu_check-h200*.json"))]
    assert records and all(r["gpu_figures_measured"] and "H200" in r["device"] for r in records)
    rates = [r["checks"]["throughput"]["eager"]["img_per_s"] for r in records]
    assert SCALES["full"].images_per_second == round(sum(rates) / len(rates))


def test_the_toy_device_check_passes_the_measured_h200_grids_and_fails_a_shifted_one():
    """The toy grid's device agreement (gpu_check.toy_agreement) on the committed CPU and H200 grids: init identical,
    no systematic difference within 0.01 (TOST), device spread below the seed spread; shifting every CUDA cell by
    0.02 (a systematic difference) fails it, and so does a different C_t."""
    from bm.runs import read_csv_rows

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from gpu_check import toy_agreement

    root = ROOT / "results/gpu"
    grid = {
        d: {(r["n"], r["B"], r["seed"]): r for r in read_csv_rows(root / f"toy-grid-{d}.csv")}
        for d in ("cpu", "cuda", "cuda2")
    }
    timeless = lambda g: {k: {c: v for c, v in r.items() if c != "seconds"} for k, r in g.items()}  # noqa: E731
    assert timeless(grid["cuda"]) == timeless(grid["cuda2"])  # CUDA is deterministic run to run
    measured = toy_agreement(grid["cpu"], grid["cuda"], 32, 32)
    assert measured["passed"] and measured["max_knn_difference"] > 0.02  # the old per-cell rule would have failed
    shifted = {k: {**r, "knn": str(float(r["knn"]) + 0.02)} for k, r in grid["cuda"].items()}
    assert not toy_agreement(grid["cpu"], shifted, 32, 32)["passed"]
    assert not toy_agreement(grid["cpu"], grid["cuda"], 32, 64)["passed"]
