import json
from dataclasses import replace

import pytest
import torch

from bm.errors import BMError, RunFolderError
from bm.figures.heatmap import grid_heatmap
from bm.runs import read_csv_rows
from bm.theory import prototype_capacity_bound
from bm.toy.data import ToyDataConfig, ToyMixture
from bm.toy.grid import ToyGridConfig, run_grid, toy_capacity
from bm.toy.model import ToyModelConfig
from bm.toy.summary import COLUMNS
from bm.toy.train import ModelSpec, ToyTrainConfig, evaluate, model_seed, train_batch

TINY = ToyGridConfig(
    ns=(4, 8),
    Bs=(1, 4),
    seeds=(0, 1),
    k=5,
    capacity_repeats=2,
    capacity_n_max=64,
    data=ToyDataConfig(dim=6, signal_dim=2, probe_train=50, test=50),
    model=ToyModelConfig(prototypes=8),
    train=ToyTrainConfig(steps=60, lr=0.05, batch_size=16, track_every=20),
)


@pytest.mark.slow
def test_grid_writes_every_output(tmp_path):
    out = run_grid(TINY, tmp_path / "run")
    rows = read_csv_rows(out / "grid.csv")
    assert len(rows) == 2 * 2 * 2 and list(rows[0]) == COLUMNS
    for r in rows:
        assert 0 <= float(r["mem_aug"]) <= 1 and 0 <= float(r["knn"]) <= 1
        assert float(r["loss"]) == pytest.approx(float(r["inv"]) + float(r["bias"]), rel=1e-5)
        if r["B"] == "1":
            assert float(r["inv"]) == 0 and r["mem_aug"] == r["mem_clean"]
    config = json.loads((out / "config.json").read_text())
    assert config["config"] == TINY.to_json()
    cap = json.loads((out / "capacity.json").read_text())
    assert 0 <= cap["capacity"] <= 64 and cap["hard_prototype_bound"] > 0
    curves = read_csv_rows(out / "curves.csv")
    assert {int(c["step"]) for c in curves} == {0, 20, 40, 60}
    assert not (out / "heatmap.png").exists()  # the runner computes; figures are drawn by bm.figures
    assert grid_heatmap(out)
    for ext in ("png", "pdf"):
        assert (out / f"heatmap.{ext}").stat().st_size > 1000


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_grid(tmp_path):
    whole = read_csv_rows(run_grid(TINY, tmp_path / "whole") / "grid.csv")
    part = run_grid(TINY, tmp_path / "part", max_seeds=1)  # as if killed after the first seed
    assert {r["seed"] for r in read_csv_rows(part / "grid.csv")} == {"0"}
    assert not grid_heatmap(part) and not (part / "heatmap.png").exists()  # not drawn before every seed is in
    calls = []
    run_grid(TINY, part, progress=lambda label, total: calls.append(label))
    assert calls == ["seed 1"]  # capacity and seed 0 were not recomputed
    without_time = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert without_time(read_csv_rows(part / "grid.csv")) == without_time(whole)  # identical, not just close


def test_a_different_config_in_the_same_folder_is_refused(tmp_path):
    run_grid(TINY, tmp_path / "run", max_seeds=1)
    with pytest.raises(RunFolderError, match="different config.*train"):
        run_grid(replace(TINY, train=replace(TINY.train, lr=0.1)), tmp_path / "run")


def test_output_path_errors(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunFolderError, match="not a folder"):
        run_grid(TINY, tmp_path / "file")
    with pytest.raises(RunFolderError, match="cannot create"):
        run_grid(TINY, tmp_path / "file" / "run")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{not json")
    with pytest.raises(RunFolderError, match="not valid JSON.*remove it"):
        run_grid(TINY, tmp_path / "bad")


@pytest.mark.parametrize("kwargs", [{"ns": (0, 4)}, {"Bs": (-1,)}, {"seeds": (1, 1)}, {"k": 51}, {"ns": ()}])
def test_bad_grids(kwargs):
    with pytest.raises(BMError):
        replace(TINY, **kwargs)


def test_batched_training_equals_one_model_at_a_time():
    """Bit for bit: a cell's model does not depend on which cells share its batch."""
    mix = ToyMixture(TINY.data)
    split = mix.split(8, 4, seed=0)
    specs = [ModelSpec(n, B, 0, model_seed(0, n, B), 0) for n in (4, 8) for B in (1, 4)]
    train = replace(TINY.train, steps=300)
    batched = train_batch(mix, [split], specs, TINY.model, train)
    for m, spec in enumerate(specs):
        alone = train_batch(mix, [split], [spec], TINY.model, train)
        assert torch.equal(batched.final.W[m], alone.final.W[0])
        assert torch.equal(batched.final.V[m], alone.final.V[0])


def test_full_batch_gradient_descent_decreases_the_loss():
    mix = ToyMixture(TINY.data)
    split = mix.split(8, 4, seed=0)
    specs = [ModelSpec(8, 4, 0, 1, 0), ModelSpec(4, 1, 0, 2, 0)]
    trained = train_batch(mix, [split], specs, TINY.model, replace(TINY.train, optimizer="gd", batch_size=0, lr=0.5))
    first = {c["model"]: c["loss"] for c in trained.curves if c["step"] == 0}
    last = {c["model"]: c["loss"] for c in trained.curves if c["step"] == TINY.train.steps}
    assert all(last[m] < first[m] for m in first)


def test_online_augmentation_trains_and_is_evaluated_on_the_finite_views():
    cfg = replace(TINY.data, augment="online")
    mix = ToyMixture(cfg)
    split = mix.split(8, 4, seed=0)
    specs = [ModelSpec(8, 4, 0, 1, 0)]
    res = evaluate(mix, [split], specs, train_batch(mix, [split], specs, TINY.model, TINY.train), k=5)[0]
    assert res["loss"] == pytest.approx(res["inv"] + res["bias"], rel=1e-5)


def test_estimated_capacity_never_exceeds_the_hard_prototype_bound():
    data = replace(TINY.data, num_classes=2, dim=3, signal_dim=1)
    config = replace(TINY, data=data, model=ToyModelConfig(prototypes=4), train=replace(TINY.train, steps=200))
    bound = prototype_capacity_bound(4, 3, 2)
    for hard in (True, False):
        est = toy_capacity(config, hard=hard)
        assert 1 <= est.capacity <= bound, (hard, est.capacity, bound)


@pytest.mark.slow
def test_the_thread_count_does_not_change_the_grid(tmp_path):
    """bm.threads may choose 1 or N CPU threads by timing: the grid must be the same bit for bit."""
    grids = [
        [
            {k: v for k, v in r.items() if k != "seconds"}
            for r in read_csv_rows(run_grid(TINY, tmp_path / f"t{n}", threads=n) / "grid.csv")
        ]
        for n in (1, 2)
    ]
    assert grids[0] == grids[1]
