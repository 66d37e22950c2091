"""The gradients preset at a tiny scale: the seed-003 run trained with the gradient probe; its record holds every
probe's measurement from metrics.jsonl and the snapshot epochs computed from the saved weights, in epoch order."""

import json

import pytest

from bm.analyses.gradients import permuted_gradients
from bm.runs import read_csv_rows
from tests.conftest import run
from tests.reproduce.test_runner import tiny  # noqa: F401  (fixture)


@pytest.mark.slow
def test_the_gradient_record_joins_the_probes_and_the_snapshots(capsys, tiny):  # noqa: F811
    args, out = tiny
    code, _, err = run(capsys, ["reproduce", "gradients", *args])
    assert code == 0, err
    record = json.loads((out / "tiny" / "gradients" / "result.json").read_text())
    ((name, cfg),) = record["runs"].items()
    assert "gradprobe" in name and cfg["gradient_probe"] and cfg["label_noise"] == 0.5 and cfg["snapshots"] == [1]
    folder = out / "tiny" / "runs" / name
    rows = [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines()]
    probed = {str(r["epoch"]): r["gradients"] for r in rows if "gradients" in r}
    assert sorted(probed) == ["0", "2"]  # init and every 2 epochs (6 steps of 3 per epoch)
    epochs = record["gradients"]["epochs"]
    assert list(epochs) == ["0", "1", "2"]
    assert {e: epochs[e] for e in probed} == probed
    assert epochs["1"] == permuted_gradients(folder, [1])["epochs"]["1"]
    table = read_csv_rows(out / "tiny" / "gradients" / "table.csv")
    assert [r["epoch"] for r in table] == ["0", "1", "2"]
    assert {"gradients.png", "gradients.pdf"} <= set(record["outputs"])
