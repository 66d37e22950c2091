"""`bm geometry`, `bm rewind` and `bm capacity` end to end on tiny toy grids and generated CIFAR files."""

import json

import pytest
import torch

from bm.deep.config import DeepTrainConfig, ModelConfig
from bm.deep.datasets import load_dataset
from bm.deep.measure import embed
from bm.deep.models import Network
from bm.deep.train import train
from bm.probe import knn_accuracy
from tests.conftest import TINY_ARGS, run, write_cifar10

MFTMA = ["--reps", "2", "--max-rank", "1", "--n-t", "50"]


@pytest.mark.slow
def test_geometry_of_a_toy_grid(capsys, tmp_path):
    code, _, err = run(capsys, ["toy-grid", "--out", str(tmp_path / "toy"), *TINY_ARGS])
    assert code == 0, err
    code, out, err = run(capsys, ["geometry", str(tmp_path / "toy"), "--samples-per-class", "8", *MFTMA])
    assert code == 0, err
    record = json.loads((tmp_path / "toy" / "geometry_n8_B2_s0.json").read_text())
    assert record["epochs"] == ["0", "30"] and (tmp_path / "toy" / "geometry_n8_B2_s0.png").exists()
    init, end = record["results"]["0"], record["results"]["30"]
    # training does not touch the input layer: the same geometry, up to the summation order of the solver's threads
    # (bm.threads picks 1 or more by timing, so two calls may reduce in another order: seen as 1 ulp under load)
    assert init["input"].keys() == end["input"].keys()
    for group, values in init["input"].items():
        assert values == {k: pytest.approx(v, rel=1e-12) for k, v in end["input"][group].items()}
    assert init["embedding"]["clean"] != end["embedding"]["clean"]
    assert all(g["capacity"] > 0 for layer in end.values() for g in layer.values())
    P = end["embedding"]["clean"]["manifolds"]
    assert ("note: P = " in out) == (P <= 5)  # MFTMA at small P is flagged (docs/mftma-small-p.md)
    code, _, err = run(capsys, ["geometry", str(tmp_path / "toy"), "--cell", "99,1"])
    assert code == 2 and "not a cell" in err and len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("geom")
    write_cifar10(root / "data", per_batch=8)
    data = load_dataset("cifar10", root / "data", "train"), load_dataset("cifar10", root / "data", "test")
    cfg = DeepTrainConfig(
        data_dir=str(root / "data"),
        label_noise=0.5,
        subset=30,
        knn_bank="all",
        model=ModelConfig(width=4, projector_width=32),
        epochs=2,
        batch_size=16,
        lr=1e-3,
        probe_every=2,
        probe_k=3,
        decomposition_samples=8,
        decomposition_views=3,
        snapshots=(1,),
    )
    return train(cfg, root / "run", data=data), data


def test_geometry_of_a_deep_run(capsys, noisy_run):
    folder, _ = noisy_run
    code, out, err = run(
        capsys, ["geometry", str(folder), "--layers", "stem,embedding,O", "--samples-per-class", "4", *MFTMA]
    )
    assert code == 0, err
    record = json.loads((folder / "geometry.json").read_text())
    assert record["epochs"] == ["0", "1", "2"] and (folder / "geometry.pdf").exists()
    assert set(record["results"]["2"]["embedding"]) == {"clean", "randomized", "kept"}
    P = min(
        g["manifolds"]
        for per_layer in record["results"].values()
        for groups in per_layer.values()
        for g in groups.values()
    )
    assert (f"note: P = {P} manifolds" in out) == (P <= 5)  # MFTMA at small P is flagged (docs/mftma-small-p.md)
    code, _, err = run(capsys, ["geometry", str(folder), "--epochs", "7"])
    assert code == 2 and "no weights for epoch 7" in err


def test_rewind_limits_are_the_final_and_the_earlier_model(capsys, noisy_run):
    folder, (train_set, test_set) = noisy_run
    code, out, err = run(capsys, ["rewind", str(folder), "--to-epoch", "0,1", "--layers", "0,1,7", "--k", "3"])
    assert code == 0, err
    rows = {(r["epoch"], r["layers"]): r for r in json.loads((folder / "rewind.json").read_text())["rows"]}
    assert rows[(0, 0)] == {**rows[(1, 0)], "epoch": 0}  # nothing rewound: the final model either way
    last = json.loads((folder / "metrics.jsonl").read_text().splitlines()[-1])
    assert rows[(1, 0)]["knn_clean_test"] == pytest.approx(last["knn"])  # the run's own probe, same memory bank
    assert rows[(0, 1)]["knn_clean_test"] == pytest.approx(last["knn"])  # only O rewound: the embedding is untouched
    net = Network(ModelConfig(width=4, projector_width=32, num_classes=10))
    net.load_state_dict(torch.load(folder / "init.pt", weights_only=False)["model"])
    emb = embed(net, torch.cat([train_set.images, test_set.images]), ["embedding"])["embedding"]
    knn = knn_accuracy(emb[: len(train_set)], train_set.labels, emb[len(train_set) :], test_set.labels, k=3)
    assert rows[(0, 7)]["knn_clean_test"] == pytest.approx(knn)  # every layer rewound to 0: the initial network
    code, _, err = run(capsys, ["rewind", str(folder), "--to-epoch", "1", "--layers", "8"])
    assert code == 2 and "[0, 7]" in err


@pytest.mark.slow
def test_capacity_toy_sweep(capsys, tmp_path):
    code, out, err = run(
        capsys,
        [
            "capacity",
            "toy",
            "--out",
            str(tmp_path / "c"),
            "--ns",
            "8",
            "--Bs",
            "1,4",
            "--seeds",
            "0",
            "--steps",
            "40",
            "--capacity-repeats",
            "1",
        ],
    )
    assert code == 0, err
    sweep = json.loads((tmp_path / "c" / "sweep.json").read_text())
    assert [r["B"] for r in sweep["rows"]] == [1, 4] and (tmp_path / "c" / "sweep.png").exists()
    assert sweep["capacity"] == json.loads((tmp_path / "c" / "capacity.json").read_text())["capacity"]


@pytest.mark.slow
def _capacity_deep(data, Bs: str, repeats: int) -> list[str]:
    """`bm capacity deep` at n = 8, 4 steps, a width-4 network: the sweep over `Bs` after a C_t search of n <= 8."""
    small = ["--width", "4", "--projector-width", "32", "--batch-size", "16", "--steps", "4", "--n", "8"]
    return [
        "capacity",
        "deep",
        "--data-dir",
        str(data),
        *small,
        "--Bs",
        Bs,
        "--n-max",
        "8",
        "--capacity-repeats",
        str(repeats),
    ]


def test_capacity_deep_runs_then_skips_finished_runs(capsys, tmp_path):
    write_cifar10(tmp_path / "data", per_batch=8)
    args = _capacity_deep(tmp_path / "data", "1,2", 1) + ["--out", str(tmp_path / "c")]
    code, out, err = run(capsys, args)
    assert code == 0, err
    first = json.loads((tmp_path / "c" / "sweep.json").read_text())
    assert {(r["B"], r["preserve_labels"]) for r in first["rows"]} == {(1, False), (2, False), (1, True), (2, True)}
    assert all(0 <= r["memorization"] <= 1 for r in first["rows"])
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "c" / "runs").glob("*/checkpoint.pt")}
    code, _, err = run(capsys, args)
    assert code == 0, err
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing retrained
    assert json.loads((tmp_path / "c" / "sweep.json").read_text()) == first


@pytest.mark.slow
def test_capacity_deep_search_rounds_as_jobs_equal_the_in_process_search(capsys, tmp_path):
    pytest.importorskip("submitit")
    write_cifar10(tmp_path / "data", per_batch=8)
    args = _capacity_deep(tmp_path / "data", "1", 2)
    from bm.jobs import Jobs
    from bm.threads import using_threads

    with using_threads(Jobs("local", 2).threads):  # CPU results are bit-identical at equal thread counts
        assert run(capsys, [*args, "--out", str(tmp_path / "a")])[0] == 0
    code, _, err = run(capsys, [*args, "--out", str(tmp_path / "b"), "--launcher", "local", "--max-parallel", "2"])
    assert code == 0, err
    a, b = (json.loads((tmp_path / x / "capacity.json").read_text()) for x in "ab")
    assert a["capacity"] == b["capacity"] and a["rate"] == b["rate"]
    assert (
        json.loads((tmp_path / "a" / "sweep.json").read_text())["rows"]
        == json.loads((tmp_path / "b" / "sweep.json").read_text())["rows"]
    )
