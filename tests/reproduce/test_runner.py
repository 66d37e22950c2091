"""`bm reproduce` end to end at a tiny scale on generated CIFAR-10 files: outputs, skipping, resuming, bad input."""

import json
from dataclasses import replace

import pytest
import torch

from bm.analyses.config import MftmaConfig
from bm.analyses.probing import network_at
from bm.configs import with_changes
from bm.deep.config import CapacitySweepConfig, DeepTrainConfig, ModelConfig
from bm.deep.datasets import load_dataset
from bm.deep.run import run_config
from bm.reproduce import SCALES
from bm.reproduce.presets import benign, doubledescent, fig5, fig11, fig12, gradients, phase, sweeps, table4
from bm.runs import read_csv_rows
from tests.conftest import run, write_cifar10

TINY = replace(
    with_changes(
        SCALES["mini"],
        {
            "base.model.width": 4,
            "base.model.projector_width": 32,
            "base.batch_size": 16,
            "base.subset": 40,
            "base.subset_order": "first",
        },
    ),
    name="tiny",
    steps=6,
    image_size=0,
    probe_steps=6,
    train_acc_steps=3,
    checkpoint_steps=3,
    snapshots=(1,),
    geometry=MftmaConfig(per_class=3, n_t=10, n_reps=1, max_rank=1),
)
TINY_SETTINGS = [  # the presets' own settings at the tiny scale (SETTINGS tables; the rest: mini's)
    (benign.SETTINGS, benign.Benign((0, 1))),
    (fig12.SETTINGS, fig12.Fig12((0.0, 1.0))),
    (sweeps.FIG7, sweeps.Sweep((16, 32))),
    (table4.SETTINGS, table4.Table4(2, 2)),
    (
        fig5.SETTINGS,
        CapacitySweepConfig(
            DeepTrainConfig(model=ModelConfig(width=4, projector_width=32, num_classes=0), batch_size=16, lr=1e-3),
            steps=4,
            n=8,
            Bs=(1, 2),
            n_max=8,
            repeats=1,
        ),
    ),
    (gradients.SETTINGS, gradients.GradientProbe(0.5, probe_steps=6, snapshots=(1,))),
    *((t, t["mini"]) for t in (sweeps.FIG8, fig11.SETTINGS, phase.SETTINGS, doubledescent.SETTINGS)),
]


def use_tiny(monkeypatch) -> None:
    """Register the tiny scale and its presets' settings for one test."""
    monkeypatch.setitem(SCALES, "tiny", TINY)
    for table, value in TINY_SETTINGS:
        monkeypatch.setitem(table, "tiny", value)


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    use_tiny(monkeypatch)
    write_cifar10(tmp_path / "data", per_batch=8)  # 40 training and 8 test images
    return ["--scale", "tiny", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")], tmp_path / "out"


def checkpoints(root):
    return {p: p.stat().st_mtime_ns for p in (root / "tiny" / "runs").glob("*/checkpoint.pt")}


@pytest.mark.slow
def test_table2_trains_writes_and_a_rerun_skips_finished_runs(capsys, tiny):
    args, out = tiny
    code, stdout, err = run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *args])
    assert code == 0, err
    folder = out / "tiny" / "table2"
    record = json.loads((folder / "result.json").read_text())
    assert set(record["outputs"]) == {"table.csv", "table.md"} and len(record["runs"]) == 4
    rows = (folder / "table.csv").read_text().splitlines()
    assert (
        rows[0]
        == (
            "dataset,model,condition,knn_clean_test,train_acc,memorized,share_at_1,steps_to_memorize,steps_to_0.99,steps,knn_train,knn_all,"
            "knn_init_train,knn_init_all,test_acc_true,test_acc_random"
        )
        and len(rows) == 1 + 5
    )  # + init
    assert "| cifar10 | resnet18 |" in (folder / "table.md").read_text()
    # the table holds the runs' own end-of-training K-NN probes under both banks, memorization and the steps trained
    table = {r["condition"]: r for r in read_csv_rows(folder / "table.csv")}
    test = load_dataset("cifar10", out.parent / "data", "test")
    for name, cfg in record["runs"].items():
        last = json.loads((out / "tiny" / "runs" / name / "metrics.jsonl").read_text().splitlines()[-1])
        cond = ("clean" if cfg["label_noise"] == 0 else "random") + ("+DA" if cfg["augment"] != "none" else "")
        got = table[cond]
        assert (float(got["knn_clean_test"]), float(got["knn_all"]), float(got["train_acc"])) == (
            last["knn_banks"]["train"],
            last["knn_banks"]["all"],
            last["train_acc"],
        )
        assert got["steps"] == "6"  # every cell the scale's budget: matched steps
        net = network_at(run_config(out / "tiny" / "runs" / name), out / "tiny" / "runs" / name / "checkpoint.pt")
        with torch.no_grad():
            guess = net(test.images.float() / 255).argmax(1)
        assert float(got["test_acc_true"]) == pytest.approx(float((guess == test.labels).float().mean()), abs=1e-6)
        assert 0 <= float(got["test_acc_random"]) <= 1
    stamps = checkpoints(out)
    assert len(stamps) == 4
    # a rerun trains nothing; removing one run retrains that one only
    code, _, err = run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *args])
    assert code == 0, err
    assert checkpoints(out) == stamps
    assert (folder / "table.csv").read_text().splitlines() == rows
    gone = next(iter(stamps))
    for p in gone.parent.iterdir():
        p.unlink()
    gone.parent.rmdir()
    code, _, err = run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *args])
    assert code == 0, err
    after = checkpoints(out)
    assert {p for p in after if after[p] != stamps.get(p)} == {gone}


@pytest.mark.slow
def test_cut_short_runs_are_resumed(capsys, tiny):
    args, out = tiny
    assert run(capsys, ["reproduce", "table1", *args])[0] == 0
    folder = next((out / "tiny" / "runs").iterdir())
    state = json.loads((folder / "metrics.jsonl").read_text().splitlines()[-1])
    assert state["epoch"] == 2  # the scale's 6 steps: 2 epochs of 40 images at batch 16
    # pretend the job was killed after epoch 1: keep the epoch-1 checkpoint and metrics
    import torch

    ck = torch.load(folder / "checkpoint.pt", weights_only=False)
    ck["epoch"] = 1
    torch.save(ck, folder / "checkpoint.pt")
    code, _, err = run(capsys, ["reproduce", "fig2", *args])  # its random no-DA run is table1's
    assert code == 0, err
    assert [json.loads(r)["epoch"] for r in (folder / "metrics.jsonl").read_text().splitlines()] == [0, 1, 2]
    assert torch.load(folder / "checkpoint.pt", weights_only=False)["epoch"] == 2


@pytest.mark.slow
def test_figure_presets_share_runs_and_write_figures(capsys, tiny):
    args, out = tiny
    assert run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *args])[0] == 0
    stamps = checkpoints(out)
    added = {
        "fig12": set(),
        "fig3": {"cifar10-resnet18-w32-noise1-ssl-snapshots-seed0"},
        "fig6": {"cifar10-resnet18-w32-noise1-ssl-snapshots-seed0", "cifar10-mlp-w32-noise1-ssl-seed0"},
    }
    for name in ("fig12", "fig3", "fig6"):  # table2's runs, fig3's snapshotted twin of random + DA, fig6's MLP
        code, _, err = run(capsys, ["reproduce", name, *args])
        assert code == 0, err
        assert {p.parent.name for p in set(checkpoints(out)) - set(stamps)} == added[name]
        assert (out / "tiny" / name / "figure.png").exists() and (out / "tiny" / name / "figure.pdf").exists()
    assert {r["model"] for r in read_csv_rows(out / "tiny" / "fig6" / "table.csv")} == {"ResNet18", "MLP"}
    stamps = checkpoints(out)
    fig3 = read_csv_rows(out / "tiny" / "fig3" / "table.csv")
    assert {(r["epoch"], r["layer"]) for r in fig3} == {
        (e, layer)
        for e in ("0", "1", "2")
        for layer in ("stem", "layer1", "layer2", "layer3", "layer4", "embedding", "P", "O")
    }
    assert (out / "tiny" / "fig3" / "stages.png").exists()
    fig12 = json.loads((out / "tiny" / "fig12" / "result.json").read_text())
    assert len(fig12["runs"]) == 4 and any("init" in s for s in fig12["summary"])
    code, _, err = run(capsys, ["reproduce", "fig7", *args])  # widths 16, 32: one new run
    assert code == 0, err
    assert len(checkpoints(out)) == len(stamps) + 1
    code, _, err = run(capsys, ["reproduce", "fig5", *args])
    assert code == 0, err
    sweep = json.loads((out / "tiny" / "fig5" / "sweep.json").read_text())
    assert {(r["B"], r["preserve_labels"]) for r in sweep["rows"]} == {(1, False), (2, False), (1, True), (2, True)}
    assert "sweep.png" in json.loads((out / "tiny" / "fig5" / "result.json").read_text())["outputs"]
    code, _, err = run(capsys, ["reproduce", "seed003", *args])
    assert code == 0, err
    assert all((out / "tiny" / "seed003" / f).exists() for f in ("geometry.png", "rewind.pdf", "table.csv"))
    code, stdout, err = run(capsys, ["report", str(out)])
    assert code == 0, err
    text = (out / "report.md").read_text()
    for name in ("table2", "fig12", "fig3", "fig6", "fig7", "fig5", "seed003"):
        assert f"### {name}: " in text
    assert "![fig3](tiny/fig3/figure.png)" in text and "| data set | model | condition |" in text
    from bm.results import collect

    deep = collect(out).query('kind == "deep"')  # the report's run table is bm.results' view of the same folders
    assert f"{len(deep)} deep runs under" in text and all(f"| {p} |" in text for p in deep["path"])


def test_missing_data_fails_before_anything_trains(capsys, tiny):
    args, out = tiny
    code, _, err = run(capsys, ["reproduce", "table2", *args])  # CIFAR-100 and TinyImageNet are not there
    assert code == 2 and err.startswith("bm: error: cifar100: no folder") and err.count("\n") == 1
    assert err.rstrip().endswith("with --datasets")
    assert not (out / "tiny" / "runs").exists()
    code, _, err = run(capsys, ["reproduce", "fig9", *args])
    assert code == 2 and "cifar100" in err and not (out / "tiny" / "runs").exists()
    code, _, err = run(capsys, ["reproduce", "table7", *args])
    assert code == 2 and "unknown preset" in err
    code, _, err = run(capsys, ["reproduce", *args])
    assert code == 2 and "preset name" in err


@pytest.mark.slow
def test_the_other_presets_read_their_runs(capsys, monkeypatch, tiny, tmp_path):
    """table3, table4, fig8, fig9, fig11 and fig13 on tiny runs (and a tiny toy grid)."""
    from bm.toy.config import ToyGridConfig, ToyTrainConfig
    from tests.conftest import write_cifar100, write_stl10

    args, out = tiny
    write_cifar100(tmp_path / "data", labels=tuple(range(0, 100, 4)))
    write_stl10(tmp_path / "data", labels=tuple(range(1, 11)) * 3, splits=("train", "test"))
    toy = ToyGridConfig(ns=(4, 8), Bs=(1, 2), seeds=(0,), capacity_repeats=1, capacity_n_max=16)
    monkeypatch.setitem(SCALES, "tiny", replace(TINY, toy=replace(toy, train=ToyTrainConfig(steps=200))))
    for name in ("table1", "fig2", "table3", "table4", "fig8", "fig9", "fig11"):
        code, _, err = run(capsys, ["reproduce", name, *(["--datasets", "cifar10"] if name == "table3" else []), *args])
        assert code == 0, (name, err)
    t1 = read_csv_rows(out / "tiny" / "table1" / "table.csv")
    assert [r["layer"] for r in t1][:2] == ["stem", "layer1"] and all(
        float(r["change"]) == pytest.approx(float(r["knn_trained"]) - float(r["knn_init"])) for r in t1
    )
    fig2 = read_csv_rows(out / "tiny" / "fig2" / "table.csv")
    assert {r["condition"] for r in fig2} == {"clean", "clean+DA", "random", "random+DA"}
    assert (out / "tiny" / "fig2" / "figure.png").exists()
    assert {r["weights"] for r in read_csv_rows(out / "tiny" / "fig9" / "table.csv")} == {
        "random + DA",
        "random, no DA",
        "init",
    }
    t3 = (out / "tiny" / "table3" / "table.csv").read_text().splitlines()
    assert t3[0].startswith("dataset,model,condition,linear_clean_test,train_acc,") and len(t3) == 6
    t4 = json.loads((out / "tiny" / "table4" / "result.json").read_text())
    assert [c["augment"] for c in t4["runs"].values()].count("iid") == 2 and "i.i.d." in t4["table_md"]
    s, B = (
        table4.SETTINGS["tiny"].s,
        table4.SETTINGS["tiny"].B,
    )  # Definition 4.1's S of an i.i.d. run: the s B images it trains on, not the scale's subset
    assert sum(t4["probed"]["iid/random"]["bank_counts"]) == s * B
    assert sum(t4["probed"]["DA/random"]["bank_counts"]) == TINY.base.subset
    fig8 = (out / "tiny" / "fig8" / "table.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in fig8[1:]] == ["2", "10", "100", "per-sample"]
    assert "decomposition.png" in json.loads((out / "tiny" / "fig8" / "result.json").read_text())["outputs"]
    fig9 = (out / "tiny" / "fig9" / "table.csv").read_text()
    assert all(f"{t},{w}," in fig9 for t in ("cifar10", "cifar100", "stl10") for w in ("random + DA", "init"))
    fig11 = (out / "tiny" / "fig11" / "table.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in fig11[1:]] == ["0.0", "0.33", "0.67", "1.0"]  # the released code's strengths
    assert all(
        c["randaugment_mapping"] == "strength"
        for c in json.loads((out / "tiny" / "fig11" / "result.json").read_text())["runs"].values()
    )
    code, _, err = run(capsys, ["reproduce", "fig13", *args])
    assert code == 0, err
    assert (out / "tiny" / "fig13" / "heatmap.png").exists() and "C_t =" in (
        out / "tiny" / "fig13" / "result.json"
    ).read_text()


@pytest.mark.slow
def test_benign_preset_reads_its_runs_and_seeds(capsys, tiny):
    """The headline preset at a tiny scale: memorization is the runs' own final accuracy, the Definition 4.1 K-NN
    (k = 20, bank S) at the final weights and at init equals what the trainer measured at its last and first probes,
    every probe's packed per-test outcomes give its accuracy, and the findings' arms are the seeds' numbers."""
    import numpy as np

    from bm.analyses.def41 import unpack
    from bm.findings import render

    args, out = tiny
    code, stdout, err = run(capsys, ["reproduce", "benign", *args])
    assert code == 0, err
    folder = out / "tiny" / "benign"
    record = json.loads((folder / "result.json").read_text())
    assert len(record["runs"]) == 4 and {"figure.png", "figure.pdf", "table.md"} <= set(record["outputs"])
    rows = {}
    for name, cfg in record["runs"].items():
        metrics = [json.loads(r) for r in (out / "tiny" / "runs" / name / "metrics.jsonl").read_text().splitlines()]
        rows[(cfg["seed"], cfg["augment"])] = metrics
    seeds = record["seeds"]
    assert [s["seed"] for s in seeds] == [0, 1]
    for s in seeds:
        da, twin = rows[(s["seed"], "ssl")], rows[(s["seed"], "none")]
        probed = [r for r in da if "knn_banks" in r]
        assert s["final_accuracy"] == da[-1]["train_acc"] and s["final_accuracy_no_aug"] == twin[-1]["train_acc"]
        reached = [r["epoch"] for r in da if r.get("train_acc") == 1.0]
        assert s["memorized"] == bool(reached) and s["step_memorized"] == (reached[0] * 3 if reached else None)
        assert probed[-1]["epoch"] == da[-1]["epoch"]
        assert s["accuracy"]["trained"]["knn_k20"] == pytest.approx(probed[-1]["knn_banks"]["train"], abs=1e-12)
        assert s["accuracy"]["init"]["knn_k20"] == pytest.approx(da[0]["knn_banks"]["train"], abs=1e-12)
        assert s["accuracy"]["trained"]["knn_all_k20"] == pytest.approx(probed[-1]["knn_banks"]["all"], abs=1e-12)
        assert s["accuracy"]["no_aug_init"] == s["accuracy"]["init"]  # one seed, one init
        assert set(s["layers"]["trained"]["O"]) == {"knn_clean_test", "knn_random_train"}
    for f in record["findings"]:
        arm = {
            "trained > init": ("trained", "init"),
            "trained > twin without DA": ("trained", "no_aug"),
            "twin without DA < init": ("no_aug", "init"),
        }[f["claim"]]
        assert f["a"] == [s["accuracy"][arm[0]][f["probe"]] for s in seeds]
        assert f["b"] == [s["accuracy"][arm[1]][f["probe"]] for s in seeds]
        m = seeds[0]["test_size"]
        assert [float(unpack(b, m).mean()) for b in f["items_a"]] == pytest.approx(f["a"], abs=1e-12)
    assert {f["probe"] for f in record["findings"]} == set(record["probes"])
    blocks = render(out)
    assert {"tiny.benign.lead", "tiny.benign.findings", "tiny.benign.seeds", "tiny.benign.probes"} <= set(blocks)
    assert "verdict" in blocks["tiny.benign.findings"] and np.isfinite(seeds[0]["accuracy"]["trained"]["linear"])


def test_a_preset_whose_run_list_changed_rewrites_its_outputs_and_records_it(capsys, monkeypatch, tiny):
    """The preset folder only holds outputs derived from the runs (which guard their own configs): a newer preset
    definition (here: another sweep) rewrites them instead of being refused."""
    args, out = tiny
    assert run(capsys, ["reproduce", "fig7", *args])[0] == 0
    monkeypatch.setitem(sweeps.FIG7, "tiny", sweeps.Sweep((16,)))
    code, _, err = run(capsys, ["reproduce", "fig7", *args])
    assert code == 0, err
    written = json.loads((out / "tiny" / "fig7" / "config.json").read_text())
    assert written["config"]["runs"] == ["cifar10-resnet18-w16-noise1-ssl-seed0"]
    assert written["runtime"][0]["runs"][1] == ["cifar10-resnet18-w16-noise1-ssl-seed0"]
    assert len(read_csv_rows(out / "tiny" / "fig7" / "table.csv")) == 1
