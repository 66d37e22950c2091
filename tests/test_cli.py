import json

import pytest

from bm.cli import main

TINY_ARGS = ["--ns", "4,8", "--Bs", "1,2", "--seeds", "0", "--steps", "30", "--dim", "6", "--signal-dim", "2",
             "--prototypes", "6", "--probe-train", "40", "--test", "40", "--k", "5", "--capacity-n-max", "16",
             "--capacity-repeats", "1", "--batch-size", "8"]


def run(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def test_help_lists_every_option_with_its_default(capsys):
    code, out, _ = run(capsys, ["toy-grid", "--help"])
    assert code == 0
    for option in ("--ns", "--Bs", "--seeds", "--quick", "--out", "--device", "--prototypes", "--lr", "--steps",
                   "--optimizer", "--augment", "--label-noise", "--random-classes", "--capacity-repeats"):
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


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--ns", "0"], "n must be"),
        (["--Bs", "-2"], "B must be"),
        (["--ns", "8,x"], "comma-separated"),
        (["--k", "501"], "k=501"),
        (["--steps", "abc"], "--steps"),
        (["--augment", "rotate"], "augment"),
        (["--optimizer", "sgdm"], "optimizer"),
        (["--device", "tpu:0"], "device"),
        (["--label-noise", "1.5"], "noise"),
        (["--lr", "nan"], "lr must be a finite number"),
        (["--lr", "inf"], "lr must be a finite number"),
        (["--sigma", "nan"], "sigma must be a finite number"),
        (["--init-scale", "inf"], "init_scale must be a finite number"),
        (["--label-noise", "nan"], "label_noise must be a finite number"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, needle):
    out = tmp_path / "run"
    code, _, err = run(capsys, ["toy-grid", "--out", str(out), *argv])
    assert code == 2
    assert err.startswith("bm: error:") and err.count("\n") == 1 and needle in err
    assert "Traceback" not in err
    assert not out.exists()  # nothing half-written


def test_output_that_is_a_file(capsys, tmp_path):
    (tmp_path / "f").write_text("x")
    code, _, err = run(capsys, ["toy-grid", "--out", str(tmp_path / "f"), *TINY_ARGS])
    assert code == 2 and "not a folder" in err


def test_version_and_unknown_command(capsys):
    code, out, _ = run(capsys, ["--version"])
    assert code == 0 and out.startswith("bm ")
    code, _, err = run(capsys, ["nope"])
    assert code == 2 and err.count("\n") == 1


def test_augment_grid_on_written_cifar(capsys, tmp_path):
    from tests.deep.test_datasets import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=8)
    code, out, err = run(capsys, ["augment-grid", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "grid"),
                                  "--cols", "5"])
    assert code == 0, err
    assert (tmp_path / "grid.png").stat().st_size > 1000 and (tmp_path / "grid.pdf").exists()
    code, _, err = run(capsys, ["augment-grid", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "g2")])
    assert code == 2 and "--download" in err and err.count("\n") == 1
    assert not (tmp_path / "g2.png").exists()


def test_deep_train_kill_resume_and_probe_through_bm(capsys, tmp_path):
    """Generated CIFAR-format data: train 2 epochs, stop, resume to 3, probe every layer at init and trained."""
    import signal
    import subprocess
    import sys
    import time

    import torch

    from tests.deep.test_datasets import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=8)
    args = ["deep-train", "--preset", "smoke", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
            "--width", "4", "--projector-width", "32", "--batch-size", "16", "--snapshots", "1"]
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
    proc = subprocess.Popen([sys.executable, "-c", "from bm.cli import main; main()", *args2],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--dataset", "mnist"], "unknown dataset"),
        (["--preset", "huge"], "unknown preset"),
        (["--augment", "cutout"], "augment"),
        (["--model", "resnet50"], "unknown model"),
        (["--epochs", "0"], "epochs"),
        (["--random-classes", "x"], "random-classes"),
        (["--resume"], "no checkpoint"),
        (["--device", "cuda"], "CUDA"),
        (["--recipe", "released"], "--preset or --recipe"),
        (["--image-size", "4"], "image_size"),
        (["--knn-bank", "some"], "knn_bank"),
        (["--train-acc-every", "0"], "train_acc_every"),
        (["--lr", "nan"], "lr must be a finite number"),
        (["--label-noise", "inf"], "label noise must lie in [0, 1]"),
        (["--views", "8"], "applies to augment finite or iid"),
        (["--snapshots", "99"], "snapshots must lie in [1, epochs = 3]"),
    ],
)
def test_deep_train_bad_input(capsys, tmp_path, argv, needle):
    from tests.deep.test_datasets import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=2)
    code, _, err = run(capsys, ["deep-train", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
                                "--preset", "smoke", *argv])
    assert code == 2 and err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_deep_train_missing_data_dir(capsys, tmp_path):
    code, _, err = run(capsys, ["deep-train", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")])
    assert code == 2 and "cifar-10-batches-py" in err and not (tmp_path / "r").exists()


def test_probe_transfer_to_another_data_set(capsys, tmp_path):
    import pickle

    import numpy as np

    from tests.deep.test_datasets import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=8)
    d = tmp_path / "data" / "cifar-100-python"
    d.mkdir()
    rng = np.random.default_rng(1)
    for split in ("train", "test"):
        with open(d / split, "wb") as f:
            pickle.dump({"data": rng.integers(0, 256, (30, 3072), dtype=np.uint8),
                         "fine_labels": (np.arange(30) % 5).tolist()}, f)
    with open(d / "meta", "wb") as f:
        pickle.dump({"fine_label_names": [f"c{i}" for i in range(100)]}, f)
    code, _, err = run(capsys, ["deep-train", "--preset", "smoke", "--data-dir", str(tmp_path / "data"), "--out",
                                str(tmp_path / "run"), "--width", "4", "--projector-width", "16", "--epochs", "1"])
    assert code == 0, err
    code, out, err = run(capsys, ["probe", str(tmp_path / "run"), "--layers", "embedding", "--k", "3",
                                  "--transfer", "cifar100", "--linear"])
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
        4e-3, "ssl+mixup", True, 5000, 65536)
    assert (released.lr, released.augment, released.mix_targets, released.epochs, released.probe_every) == (
        3e-4, "ssl", False, 10000, 50)
    assert mine.lr == 1e-4 and mine.epochs == 10000


def test_quick_grid_keeps_explicit_flags(capsys, tmp_path):
    """--quick sets the smoke grid, but flags given on the command line win (as over deep-train presets)."""
    code, _, err = run(capsys, ["toy-grid", "--out", str(tmp_path / "q"), "--quick", "--steps", "50", "--ns", "8"])
    assert code == 0, err
    config = json.loads((tmp_path / "q" / "config.json").read_text())["config"]
    assert config["train"]["steps"] == 50 and config["ns"] == [8] and config["Bs"] == [1, 8, 64]


def test_reproduce_empty_datasets_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, ["reproduce", "table2", "--scale", "mini", "--datasets", "", "--out", str(tmp_path / "o")])
    assert code == 2 and "--datasets is empty" in err and err.count("\n") == 1 and not (tmp_path / "o").exists()


def test_a_second_writer_of_a_folder_is_refused_at_once(tmp_path):
    """Two toy grids on one --out (real processes): the second is refused with the holder's pid, the first
    finishes and its files describe its own run; after it ends (lock released by the kernel) the folder is free."""
    import subprocess
    import sys
    import time

    out = tmp_path / "C"
    cmd = [sys.executable, "-m", "bm", "toy-grid", "--out", str(out), "--quick"]
    first = subprocess.Popen([*cmd, "--sigma", "1.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "config.json").exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    second = subprocess.run([*cmd, "--sigma", "2.0"], capture_output=True, text=True, timeout=120)
    assert second.returncode == 2 and f"pid {first.pid}" in second.stderr and second.stderr.count("\n") == 1
    assert "Traceback" not in second.stderr
    same = subprocess.run(cmd + ["--sigma", "1.0"], capture_output=True, text=True, timeout=120)  # identical: refused too
    assert same.returncode == 2 and "in use" in same.stderr
    _, first_err = first.communicate(timeout=300)  # reads and closes its pipes
    assert first.returncode == 0, first_err
    assert json.loads((out / "config.json").read_text())["config"]["data"]["sigma"] == 1.0
    again = subprocess.run([*cmd, "--sigma", "1.0"], capture_output=True, text=True, timeout=300)  # resumes: done
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("damage", ["truncated checkpoint", "corrupt init", "missing labels"])
def test_probe_on_damaged_run_files_is_one_line(capsys, tmp_path, damage):
    from bm.deep.models import ModelConfig
    from bm.deep.train import DeepTrainConfig, train
    from bm.deep.datasets import load_dataset
    from tests.deep.test_datasets import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=4)
    cfg = DeepTrainConfig(data_dir=str(tmp_path / "data"), model=ModelConfig(width=4, projector_width=16), epochs=1,
                          batch_size=8, probe_k=3, decomposition_samples=4, decomposition_views=3)
    run_dir = train(cfg, tmp_path / "run", data=(load_dataset("cifar10", tmp_path / "data", "train"),
                                                  load_dataset("cifar10", tmp_path / "data", "test")))
    target = {"truncated checkpoint": "checkpoint.pt", "corrupt init": "init.pt", "missing labels": "labels.pt"}[damage]
    if damage == "missing labels":
        (run_dir / target).unlink()
    else:
        data = (run_dir / target).read_bytes()
        (run_dir / target).write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, ["probe", str(run_dir), "--init", "--k", "3"])
    assert code == 2 and err.count("\n") == 1 and target in err and "Traceback" not in err


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"preset": "fig3"}'])
def test_report_on_a_damaged_result_is_one_line(capsys, tmp_path, content):
    folder = tmp_path / "out" / "mini" / "fig3"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(content)
    code, _, err = run(capsys, ["report", str(tmp_path / "out")])
    assert code == 2 and err.count("\n") == 1 and "result.json" in err and "Traceback" not in err


def test_a_folder_whose_run_produced_nothing_can_be_restarted_with_another_config(capsys, tmp_path):
    from bm.runs import prepare_run_folder

    out = tmp_path / "o"
    prepare_run_folder(out, {"lr": float("inf")})  # a start that failed before any result
    code, _, err = run(capsys, ["toy-grid", "--out", str(out), *TINY_ARGS])
    assert code == 0 and "produced nothing" in err and (out / "grid.csv").exists()
    code, _, err = run(capsys, ["toy-grid", "--out", str(out), *TINY_ARGS, "--lr", "0.5"])  # results: refused
    assert code == 2 and "different config" in err
