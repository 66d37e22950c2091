import json

import pytest

from tests.conftest import TINY_ARGS, run, smoke_run


def test_help_lists_every_option_with_its_default(capsys):
    code, out, _ = run(capsys, ["toy-grid", "--help"])
    assert code == 0
    for option in (
        "--ns",
        "--Bs",
        "--seeds",
        "--quick",
        "--out",
        "--device",
        "--prototypes",
        "--lr",
        "--steps",
        "--optimizer",
        "--augment",
        "--label-noise",
        "--random-classes",
        "--capacity-repeats",
    ):
        assert option in out
    assert out.count("default") >= 25


def test_toy_grid_end_to_end(capsys, tmp_path):
    code, out, err = run(capsys, ["toy-grid", "--out", str(tmp_path / "run"), *TINY_ARGS])
    assert code == 0, err
    assert "wrote" in out
    for name in ("config.json", "grid.csv", "capacity.json", "heatmap.png", "heatmap.pdf", "curves.csv"):
        assert (tmp_path / "run" / name).exists()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["config"]["ns"] == [4, 8]
    # same arguments again: resumes, nothing to do; other arguments: refused with one line
    assert run(capsys, ["toy-grid", "--out", str(tmp_path / "run"), *TINY_ARGS])[0] == 0
    code, _, err = run(capsys, ["toy-grid", "--out", str(tmp_path / "run"), *TINY_ARGS, "--lr", "0.5"])
    assert code == 2 and "different config" in err and err.count("\n") == 1


def test_version_and_unknown_command(capsys):
    code, out, _ = run(capsys, ["--version"])
    assert code == 0 and out.startswith("bm ")
    code, _, err = run(capsys, ["nope"])
    assert code == 2 and err.count("\n") == 1


def test_augment_grid_on_written_cifar(capsys, tmp_path):
    from tests.conftest import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=8)
    code, out, err = run(
        capsys, ["augment-grid", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "grid"), "--cols", "5"]
    )
    assert code == 0, err
    assert (tmp_path / "grid.png").stat().st_size > 1000 and (tmp_path / "grid.pdf").exists()
    code, _, err = run(capsys, ["augment-grid", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "g2")])
    assert code == 2 and "--download" in err and err.count("\n") == 1
    assert not (tmp_path / "g2.png").exists()


@pytest.mark.slow
def test_deep_train_kill_resume_and_probe_through_bm(capsys, tmp_path):
    """Generated CIFAR-format data: train 2 epochs, stop, resume to 3, probe every layer at init and trained."""
    import signal
    import subprocess
    import sys
    import time

    import torch

    from tests.conftest import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=8)
    args = smoke_run(tmp_path / "data", tmp_path / "run", "--batch-size", "16", "--snapshots", "1", projector=32)
    code, out, err = run(capsys, [*args, "--epochs", "2"])
    assert code == 0, err
    assert out.count("epoch ") == 2 and (tmp_path / "run" / "snapshot_1.pt").exists()
    code, _, err = run(capsys, [*args, "--epochs", "2"])  # the same run again without --resume: refused
    assert code == 2 and "--resume" in err
    code, _, err = run(capsys, [*args, "--epochs", "1", "--resume"])  # fewer epochs: another config
    assert code == 2 and "can only be raised" in err and err.count("\n") == 1
    code, _, err = run(capsys, [*args, "--epochs", "3", "--resume"])  # more epochs: the finished run is extended
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["extended"] == [{"epochs": [2, 3]}]

    # kill -9 once the first checkpoint is on disk, then resume: the run ends at epoch 3 all the same
    run_dir = tmp_path / "run2"
    args2 = [a if a != str(tmp_path / "run") else str(run_dir) for a in args] + ["--epochs", "3"]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from bm.cli import main; main()", *args2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while not (run_dir / "checkpoint.pt").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = torch.load(run_dir / "checkpoint.pt", weights_only=False)["epoch"]
    assert resumed >= 1
    code, _, err = run(capsys, [*args2, "--resume"])
    assert code == 0, err
    assert torch.load(run_dir / "checkpoint.pt", weights_only=False)["epoch"] == 3

    code, out, err = run(capsys, ["probe", str(run_dir), "--init", "--k", "3", "--pool"])
    assert code == 0, err
    record = json.loads((run_dir / "probe.json").read_text())
    layers = ["stem", "layer1", "layer2", "layer3", "layer4", "embedding", "P", "O"]
    assert list(record["results"]["trained"]) == layers and list(record["results"]["init"]) == layers
    assert all(0 <= v <= 1 for row in record["results"]["trained"].values() for v in row.values())
    assert (run_dir / "probe.png").exists()
    code, out, _ = run(capsys, ["probe", "--list-layers"])
    assert code == 0 and out.split() == layers


def test_probe_transfer_to_another_data_set(capsys, tmp_path):
    import pickle

    import numpy as np

    from tests.conftest import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=8)
    d = tmp_path / "data" / "cifar-100-python"
    d.mkdir()
    rng = np.random.default_rng(1)
    for split in ("train", "test"):
        with open(d / split, "wb") as f:
            pickle.dump(
                {"data": rng.integers(0, 256, (30, 3072), dtype=np.uint8), "fine_labels": (np.arange(30) % 5).tolist()},
                f,
            )
    with open(d / "meta", "wb") as f:
        pickle.dump({"fine_label_names": [f"c{i}" for i in range(100)]}, f)
    code, _, err = run(
        capsys,
        smoke_run(tmp_path / "data", tmp_path / "run", "--epochs", "1"),
    )
    assert code == 0, err
    code, out, err = run(
        capsys,
        ["probe", str(tmp_path / "run"), "--layers", "embedding", "--k", "3", "--transfer", "cifar100", "--linear"],
    )
    assert code == 0, err
    record = json.loads((tmp_path / "run" / "probe.json").read_text())["results"]["trained"]
    assert 0 <= record["transfer:cifar100"]["knn_clean_test"] <= 1 and "linear_clean_test" in record["embedding"]


def test_deep_train_recipes_set_the_full_scale_random_label_run(monkeypatch, capsys, tmp_path):
    """--recipe gives the full scale's random-label DA run of that recipe; explicit flags still win."""
    import bm.deep.datasets
    import bm.deep.train

    seen = []
    monkeypatch.setattr(bm.deep.datasets, "load_dataset", lambda *a, **k: None)
    monkeypatch.setattr(bm.deep.train, "train", lambda cfg, out, **kw: seen.append(cfg) or out)
    for argv in (["--recipe", "table6"], ["--recipe", "released"], ["--recipe", "released", "--lr", "1e-4"]):
        assert run(capsys, ["deep-train", "--out", str(tmp_path / "r"), *argv])[0] == 0
    paper, released, mine = seen
    assert (paper.lr, paper.augment, paper.mix_targets, paper.epochs, paper.model.projector_width) == (
        4e-3,
        "ssl+mixup",
        True,
        5000,
        65536,
    )
    assert (released.lr, released.augment, released.mix_targets, released.epochs, released.probe_every) == (
        3e-4,
        "ssl",
        False,
        10000,
        50,
    )
    assert mine.lr == 1e-4 and mine.epochs == 10000


@pytest.mark.slow
def test_quick_grid_keeps_explicit_flags(capsys, tmp_path):
    """--quick sets the smoke grid, but flags given on the command line win (as over deep-train presets)."""
    code, _, err = run(capsys, ["toy-grid", "--out", str(tmp_path / "q"), "--quick", "--steps", "50", "--ns", "8"])
    assert code == 0, err
    config = json.loads((tmp_path / "q" / "config.json").read_text())["config"]
    assert config["train"]["steps"] == 50 and config["ns"] == [8] and config["Bs"] == [1, 8, 64]


@pytest.mark.slow
def test_a_second_writer_of_a_folder_is_refused_at_once(tmp_path):
    """Two toy grids on one --out (real processes): the second is refused with the holder's pid, the first
    finishes and its files describe its own run; after it ends (lock released by the kernel) the folder is free.
    The first is held stopped (SIGSTOP) while the others try, so the overlap does not depend on its speed."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "C"
    cmd = [sys.executable, "-m", "bm", "toy-grid", "--out", str(out), "--quick", "--steps", "100"]
    first = subprocess.Popen([*cmd, "--sigma", "1.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "config.json").exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGSTOP)  # holds the lock (taken before config.json is written) until SIGCONT
    try:
        assert first.poll() is None
        second = subprocess.run([*cmd, "--sigma", "2.0"], capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and f"pid {first.pid}" in second.stderr and second.stderr.count("\n") == 1
        assert "Traceback" not in second.stderr
        same = subprocess.run([*cmd, "--sigma", "1.0"], capture_output=True, text=True, timeout=120)  # identical
        assert same.returncode == 2 and "in use" in same.stderr
    finally:
        first.send_signal(signal.SIGCONT)
    _, first_err = first.communicate(timeout=300)  # reads and closes its pipes
    assert first.returncode == 0, first_err
    assert json.loads((out / "config.json").read_text())["config"]["data"]["sigma"] == 1.0
    again = subprocess.run([*cmd, "--sigma", "1.0"], capture_output=True, text=True, timeout=300)  # resumes: done
    assert again.returncode == 0, again.stderr


def test_a_folder_whose_run_produced_nothing_can_be_restarted_with_another_config(capsys, tmp_path):
    from bm.runs import prepare_run_folder

    out = tmp_path / "o"
    prepare_run_folder(out, {"lr": float("inf")})  # a start that failed before any result
    code, _, err = run(capsys, ["toy-grid", "--out", str(out), *TINY_ARGS])
    assert code == 0 and "produced nothing" in err and (out / "grid.csv").exists()
    code, _, err = run(capsys, ["toy-grid", "--out", str(out), *TINY_ARGS, "--lr", "0.5"])  # results: refused
    assert code == 2 and "different config" in err


@pytest.mark.slow
def test_overwrite_empties_a_folder_that_holds_another_run(capsys, tmp_path):
    out = tmp_path / "o"
    assert run(capsys, ["toy-grid", "--out", str(out), *TINY_ARGS])[0] == 0
    (out / "stray.txt").write_text("from the old run")
    code, _, err = run(capsys, ["toy-grid", "--out", str(out), *TINY_ARGS, "--lr", "0.5", "--overwrite"])
    assert code == 0 and "emptied" in err
    assert json.loads((out / "config.json").read_text())["config"]["train"]["lr"] == 0.5
    assert not (out / "stray.txt").exists() and (out / "grid.csv").exists()


def test_help_shows_resolved_defaults_and_consistent_usage(capsys):
    import re

    code, out, _ = run(capsys, ["deep-train", "--help"])
    flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", out).split())
    assert code == 0 and "default: 64 (paper) / 8 (smoke)" in flat and "65536 (paper) / 512 (smoke)" in flat
    usages = {}
    for command in ("probe", "geometry", "rewind", "report", "reproduce", "results", "toy-grid", "deep-train"):
        usages[command] = run(capsys, [command, "--help"])[1]
        assert "{" not in usages[command].split("Usage:")[1].split("\n")[0]
    assert (
        "[OPTIONS] [RUN]" in usages["probe"]
        and "[OPTIONS] RUN" in usages["geometry"]
        and "written into" in " ".join(usages["rewind"].split())
    )


@pytest.mark.slow
def test_toy_grid_config_file_reproduces_a_grid_and_flags_override_it(capsys, tmp_path):
    first = tmp_path / "a"
    assert run(capsys, ["toy-grid", "--out", str(first), *TINY_ARGS])[0] == 0
    code, _, err = run(capsys, ["toy-grid", "--config", str(first), "--out", str(tmp_path / "b"), "--lr", "0.5"])
    assert code == 0, err
    a, b = (json.loads((tmp_path / x / "config.json").read_text())["config"] for x in "ab")
    assert b["train"]["lr"] == 0.5 and {**a, "train": {**a["train"], "lr": 0.5}} == b


@pytest.mark.slow
def test_probe_several_k_and_features_dumped_then_reprobed(capsys, tmp_path):
    from tests.conftest import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=4)
    assert (
        run(
            capsys,
            smoke_run(tmp_path / "data", tmp_path / "r", "--epochs", "1"),
        )[0]
        == 0
    )
    probe = ["probe", str(tmp_path / "r"), "--layers", "embedding,P", "--k", "3,5", "--pool", "--init"]
    code, _, err = run(capsys, [*probe, "--dump-features", str(tmp_path / "f.pt")])
    assert code == 0, err
    first = json.loads((tmp_path / "r" / "probe.json").read_text())["results"]
    row = first["trained"]["embedding"]
    assert (
        row["knn_clean_test"] == row["knn_clean_test_k3_top1"]
        and row["knn_clean_test_k5_top5"] >= row["knn_clean_test_k5_top1"]
    )
    code, _, err = run(capsys, [*probe, "--features", str(tmp_path / "f.pt")])
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "probe.json").read_text())["results"] == first
    code, _, err = run(capsys, [*probe[:-1], "--features", str(tmp_path / "f.pt")])  # without --init: fine
    assert code == 0, err
    code, _, err = run(
        capsys, ["probe", str(tmp_path / "r"), "--k", "3", "--features", str(tmp_path / "f.pt")]
    )  # no --pool
    assert code == 2 and "not of" in err


def test_help_keeps_bracketed_extras(capsys):
    code, out, _ = run(capsys, ["results", "--help"])  # rich must not eat [parquet] as markup
    assert code == 0 and "benign-memorization[parquet]" in " ".join(out.split())


def test_a_partial_config_layers_on_the_named_config(capsys, tmp_path, workspace):
    """--config '{"epochs": 1, "model": {"width": 4}}' with --preset smoke changes those keys only; flags still win."""
    out = tmp_path / "run"
    argv = ["deep-train", "--preset", "smoke", "--data-dir", str(workspace / "data"), "--out", str(out)]
    code, _, err = run(capsys, [*argv, "--config", '{"epochs": 1, "model": {"width": 4}}', "--projector-width", "16"])
    assert code == 0, err
    saved = json.loads((out / "config.json").read_text())["config"]
    from bm.deep.config import named_config

    smoke = named_config("smoke").to_json()
    assert (saved["epochs"], saved["model"]["width"], saved["model"]["projector_width"]) == (1, 4, 16)
    assert {k: v for k, v in saved.items() if k not in ("epochs", "model", "data_dir")} == {
        k: v for k, v in smoke.items() if k not in ("epochs", "model", "data_dir")
    }


def test_every_help_names_every_option_whole_at_80_columns(capsys, monkeypatch):
    """At 80 columns each command's --help shows every option name in full (rich's table had cut them: '--slurm-
    array-parall…'), no flag carries a type label ('<bool>'), and each command's first sentence is whole in bm --help."""
    import typer

    from bm.cli import app

    monkeypatch.setenv("COLUMNS", "80")
    root = typer.main.get_command(app)
    commands = [([n], c) for n, c in root.commands.items() if not getattr(c, "commands", None)]
    commands += [([n, s], sub) for n, c in root.commands.items() for s, sub in getattr(c, "commands", {}).items()]
    for argv, command in commands:
        code, out, _ = run(capsys, [*argv, "--help"])
        names = [o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")]
        assert code == 0 and "…" not in out and "<bool>" not in out and max(map(len, out.splitlines())) <= 80
        assert [n for n in names if n not in out.split() and not any(w.startswith(n) for w in out.split())] == []
    code, out, _ = run(capsys, ["--help"])
    firsts = [" ".join(c.get_short_help_str(limit=1000).split()) for c in root.commands.values()]
    assert (
        code == 0 and [f for f in firsts if f not in " ".join(out.split())] == [] and all(f[-1] == "." for f in firsts)
    )
