"""--tensorboard: the event files hold exactly metrics.jsonl, under the released code's tags, across a resume."""

import pytest

from bm.configs import flatten
from bm.runs import RunFolder
from bm.tensorboard import tag
from tests.conftest import run, smoke_run

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def test_events_equal_metrics_jsonl_across_an_extension(capsys, tmp_path):
    from tests.conftest import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=4)
    args = smoke_run(tmp_path / "data", tmp_path / "r", "--batch-size", "8", "--probe-every", "1", "--tensorboard")
    assert run(capsys, [*args, "--epochs", "2"])[0] == 0
    assert run(capsys, [*args, "--epochs", "3", "--resume"])[0] == 0  # a second writer appends epoch 3
    events = event_accumulator.EventAccumulator(str(tmp_path / "r"))
    events.Reload()
    expected: dict[str, list] = {}
    for row in RunFolder(tmp_path / "r").metrics():
        for key, value in flatten(row).items():
            if key != "epoch":
                expected.setdefault(tag(key), []).append((row["epoch"], pytest.approx(value, rel=1e-6)))
    assert "Loss/train" in expected and "Misc/knn_acc" in expected and "Invariance/layer4" in expected
    assert set(events.Tags()["scalars"]) == set(expected)
    for name, points in expected.items():
        assert [(e.step, e.value) for e in events.Scalars(name)] == points, name


def test_toy_grid_events_equal_its_curves(capsys, tmp_path):
    from bm.runs import read_csv_rows
    from tests.conftest import TINY_ARGS

    assert (
        run(capsys, ["toy-grid", "--out", str(tmp_path / "g"), *TINY_ARGS, "--track-every", "10", "--tensorboard"])[0]
        == 0
    )
    curves = [c for c in read_csv_rows(tmp_path / "g" / "curves.csv") if (c["n"], c["B"]) == ("8", "2")]
    events = event_accumulator.EventAccumulator(str(tmp_path / "g" / "tensorboard" / "n8_B2_seed0"))
    events.Reload()
    loss = [(e.step, e.value) for e in events.Scalars("Loss/train")]
    assert loss == [(int(c["step"]), pytest.approx(float(c["loss"]), rel=1e-6)) for c in curves]
    cell = next(r for r in read_csv_rows(tmp_path / "g" / "grid.csv") if (r["n"], r["B"]) == ("8", "2"))
    assert events.Scalars("Misc/knn_acc")[-1].value == pytest.approx(float(cell["knn"]), rel=1e-6)
