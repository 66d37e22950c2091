"""The doubledescent preset at a tiny scale: per width the fit of the permuted and kept examples (which average to
the whole fit, and which is the trainer's own last memorization measurement), the test accuracy, the parameter count
(growing with width), the interpolation threshold, and the MFTMA geometry of the permuted and kept manifolds."""

import json

import pytest

from bm.analyses.doubledescent import interpolation_threshold
from bm.reproduce.presets import doubledescent
from bm.runs import read_csv_rows
from tests.conftest import run
from tests.reproduce.test_runner import tiny  # noqa: F401  (fixture)


def test_interpolation_threshold_is_the_smallest_width_that_fits():
    assert interpolation_threshold([4, 1, 2, 8], [1.0, 0.5, 0.9, 1.0]) == 4
    assert interpolation_threshold([1, 2], [0.5, 0.99]) is None


@pytest.mark.slow
def test_the_width_sweep_reads_every_run(capsys, monkeypatch, tiny):  # noqa: F811
    args, out = tiny
    settings = doubledescent.DoubleDescent(widths=(1, 2), n=40, label_noise=0.25, steps=8)  # kept: 3+ per class
    monkeypatch.setitem(doubledescent.SETTINGS, "tiny", settings)
    code, _, err = run(capsys, ["reproduce", "doubledescent", *args])
    assert code == 0, err
    folder = out / "tiny" / "doubledescent"
    record = json.loads((folder / "result.json").read_text())
    rows = read_csv_rows(folder / "table.csv")
    assert [int(r["width"]) for r in rows] == [1, 2] and int(rows[0]["params"]) < int(rows[1]["params"])
    for r, (name, cfg) in zip(rows, record["runs"].items()):
        assert cfg["model"]["arch"] == "cnn4" and cfg["model"]["projector_width"] == 8 * int(r["width"])
        assert cfg["label_noise"] == 0.25 and cfg["augment"] == "none" and cfg["subset"] == 40
        permuted, kept = int(r["permuted"]), int(r["kept"])
        assert permuted + kept == 40
        whole = (permuted * float(r["permuted_fit"]) + kept * float(r["kept_fit"])) / 40
        assert whole == pytest.approx(float(r["train_fit"]), abs=1e-12)
        history = [json.loads(x) for x in (out / "tiny" / "runs" / name / "metrics.jsonl").read_text().splitlines()]
        assert float(r["train_fit"]) == history[-1]["train_acc"]  # the trainer measured the same items, labels
    fits = [float(r["train_fit"]) for r in rows]
    assert record["threshold"] == interpolation_threshold([1, 2], fits)
    for width in ("1", "2"):
        layers = record["geometry"][width]
        assert set(layers) >= {"embedding", "O"} and {"randomized", "kept"} <= set(layers["O"])
    assert {"figure.png", "figure.pdf"} <= set(record["outputs"])
