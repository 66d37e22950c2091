"""bm.results.collect and `bm results`: one table of every run under a folder, equal to the runs' own files."""

import json

import pytest

from bm.cli import main
from bm.runs import RunFolder, read_csv_rows
from tests.conftest import TINY_ARGS, run, smoke_run


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A toy grid and three deep runs (two seeds with augmentation, one without)."""
    from tests.conftest import write_cifar10

    root = tmp_path_factory.mktemp("results")
    write_cifar10(root / "data", per_batch=4)
    for name, extra in (("ssl0", []), ("ssl1", ["--seed", "1"]), ("none0", ["--augment", "none"])):
        with pytest.raises(SystemExit) as info:
            main(
                smoke_run(
                    root / "data",
                    root / "runs" / name,
                    "--epochs",
                    "2",
                    "--batch-size",
                    "8",
                    "--probe-every",
                    "1",
                    *extra,
                )
            )
        assert info.value.code == 0
    with pytest.raises(SystemExit) as info:
        main(["toy-grid", "--out", str(root / "grid"), *TINY_ARGS])
    assert info.value.code == 0
    return root


def test_collect_equals_the_runs_files(root):
    from bm.results import collect

    frame = collect(root)
    deep, toy = frame[frame.kind == "deep"], frame[frame.kind == "toy"]
    assert len(deep) == 3 and len(toy) == len(read_csv_rows(root / "grid" / "grid.csv")) == 4
    for _, row in deep.iterrows():
        metrics = RunFolder(root / row["path"]).metrics()
        knn = [m["knn"] for m in metrics if "knn" in m]
        assert row["epoch"] == metrics[-1]["epoch"] == 2
        assert row["last.knn"] == knn[-1] and row["best.knn"] == max(knn)
        assert row["last.loss"] == [m["loss"] for m in metrics if "loss" in m][-1]
        assert row["last.invariance.layer4"] == [m for m in metrics if "invariance" in m][-1]["invariance"]["layer4"]
        config = json.loads((root / row["path"] / "config.json").read_text())["config"]
        assert row["model.width"] == config["model"]["width"] == 4 and row["augment"] == config["augment"]
    cells = {(int(c["n"]), int(c["B"]), int(c["seed"])): c for c in read_csv_rows(root / "grid" / "grid.csv")}
    for _, row in toy.iterrows():
        assert row["last.knn"] == float(cells[(row["n"], row["B"], row["seed"])]["knn"]) and row["train.steps"] == 30


def test_bm_results_prints_filters_and_writes(root, capsys, tmp_path):
    code, out, err = run(capsys, ["results", str(root)])
    assert code == 0, err
    assert "runs/ssl0" in out and "grid" in out and "last.knn" in out
    code, out, err = run(
        capsys,
        ["results", str(root), "--where", 'kind == "deep" and augment == "none"', "--csv", str(tmp_path / "t.csv")],
    )
    assert code == 0, err
    rows = read_csv_rows(tmp_path / "t.csv")
    assert len(rows) == 1 and rows[0]["path"] == "runs/none0"
    for argv, needle in ((["--where", "nonsense =="], "--where"), (["--columns", "nope"], "unknown column")):
        code, _, err = run(capsys, ["results", str(root), *argv])
        assert code == 2 and needle in err and err.count("\n") == 1


def test_the_report_lists_every_run_and_marks_what_was_not_measured(root, tmp_path):
    import shutil

    from bm.reproduce.report import _runs

    shutil.copytree(root / "runs" / "ssl0", tmp_path / "runs" / "probed")
    shutil.copytree(root / "runs" / "ssl0", tmp_path / "runs" / "unprobed")
    metrics = tmp_path / "runs" / "unprobed" / RunFolder.METRICS
    metrics.write_text(
        "".join(
            json.dumps({k: v for k, v in json.loads(line).items() if k != "knn"}) + "\n"
            for line in metrics.read_text().splitlines()
        )
    )
    table = "\n".join(_runs(tmp_path))
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| runs/")}
    assert set(rows) == {"runs/probed", "runs/unprobed"} and "nan" not in table
    assert rows["runs/unprobed"].count("—") == 2 and "—" not in rows["runs/probed"]  # last.knn and best.knn


def test_collect_reads_a_large_metrics_file_a_line_at_a_time(root, tmp_path):
    """A 10 MB metrics.jsonl: the row equals last / best computed from the lines, and the peak Python memory of
    collect stays under a tenth of the file (a reader that holds the file's records needs several times it)."""
    import shutil
    import tracemalloc

    from bm.results import collect

    run_dir = tmp_path / "big" / "run"
    shutil.copytree(root / "runs" / "ssl0", run_dir)
    line = {"train_acc": 0.5, "loss": 1.0, "knn": 0.1, "invariance": {f"layer{j}": 0.5 for j in range(40)}}
    epochs = 10_000_000 // len(json.dumps(line))
    with open(run_dir / "metrics.jsonl", "w") as f:
        for e in range(epochs):
            f.write(json.dumps({"epoch": e, **line, "knn": (e * 7919 % 1000) / 1000, "loss": 1 + e % 13}) + "\n")
    size = (run_dir / "metrics.jsonl").stat().st_size
    tracemalloc.start()
    frame = collect(tmp_path / "big")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    row = frame.iloc[0]
    assert row["epoch"] == epochs - 1 and row["last.knn"] == ((epochs - 1) * 7919 % 1000) / 1000
    assert row["best.knn"] == max((e * 7919 % 1000) / 1000 for e in range(epochs)) and row["best.loss"] == 1
    assert row["last.invariance.layer39"] == 0.5
    assert peak < size / 10, (peak, size)


def test_the_committed_records_are_runs_of_the_table():
    """results/ keeps a run's config.json and metrics.jsonl (gzipped) without its weights or labels: still one row
    each, its metrics read from the .gz."""
    from pathlib import Path

    from bm.results import collect

    results = Path(__file__).resolve().parents[1] / "results"
    folders = sorted(p.parent for p in results.glob("**/metrics.jsonl.gz"))  # runs/ and the presets' own runs
    frame = collect(results)
    assert not list(results.glob("**/metrics.jsonl"))
    assert folders and sorted(frame[frame.kind == "deep"].path) == [str(f.relative_to(results)) for f in folders]
    assert frame[frame.kind == "deep"]["epoch"].notna().all()


def test_the_mini_rate_is_the_committed_benign_runs_measured():
    """The mini scale's rate for --list is twice (two runs at a time on this 2-core CPU) the median over the benign
    preset's committed runs of training images (epochs x subset) over wall seconds at their last record."""
    import statistics
    from pathlib import Path

    from bm.reproduce.scales import SCALES

    ROOT = Path(__file__).resolve().parents[1]

    record = json.loads((ROOT / "results/mini/benign/result.json").read_text())
    rates = []
    for name in record["runs"]:
        folder = ROOT / "results/mini/runs" / name
        config = json.loads((folder / "config.json").read_text())["config"]
        last = [row for row in RunFolder(folder).metrics() if "wall_s" in row][-1]
        rates.append(last["epoch"] * config["subset"] / last["wall_s"])
    assert len(rates) == 10 and SCALES["mini"].images_per_second == round(2 * statistics.median(rates))
