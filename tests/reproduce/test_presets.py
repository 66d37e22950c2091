"""Preset expansion: valid configs, shared run folders, the printed commands rebuild the same configs."""

import json
import re
import shlex
from dataclasses import replace
from pathlib import Path

import pytest

import bm.deep.config
import bm.deep.datasets
import bm.deep.train
from bm.cli import main
from bm.configs import layered, read_config, with_changes
from bm.deep.config import PAPER, TRAIN_SIZES, CapacitySweepConfig
from bm.errors import BMError
from bm.reproduce import PRESETS, SCALES, commands, estimate_seconds, make_plan
from bm.reproduce.plan import deep_train_command, steps_per_epoch
from bm.reproduce.presets import benign, doubledescent, fig5, fig12, sweeps
from bm.reproduce.presets import phase as phase_preset
from bm.toy.config import ToyGridConfig

PLANS = [(name, scale) for name in PRESETS for scale in SCALES]


def plan_of(name, scale, **kw):
    return make_plan(name, scale, Path("/data"), Path("/out"), **kw)


@pytest.mark.parametrize("name,scale", PLANS)
def test_every_preset_expands_to_distinct_runs_at_its_scale(name, scale):
    preset, plan = plan_of(name, scale)
    runs = preset.runs(plan)
    assert len({r.name for r in runs}) == len(runs)  # no run twice within a preset
    s = SCALES[scale]
    phase = name == "phase"  # the phase preset varies n, B (finite views) and the width by design
    dd = doubledescent.SETTINGS[scale]  # so does the width sweep, at a budget of its own
    widths, ns, steps = {
        "phase": (
            (*phase_preset.SETTINGS[scale].widths, phase_preset.SETTINGS[scale].wide),  # the held-out width too
            phase_preset.SETTINGS[scale].ns,
            s.steps,
        ),
        "doubledescent": (dd.widths, (dd.n,), dd.steps),
    }.get(name, ((s.base.model.width,), None, s.steps))
    for r in runs:
        assert (r.config.batch_size, r.config.lr) == (s.base.batch_size, s.base.lr)
        assert r.config.model.width in widths
        # every cell trains the preset's step budget, within one epoch, whatever its items per epoch
        per_epoch = steps_per_epoch(r.config, TRAIN_SIZES[r.config.dataset])
        assert steps <= r.config.epochs * per_epoch < steps + per_epoch
        assert r.config.augment != "DA" and (r.config.augment != s.da) == (
            r.config.augment in ("none", "iid", "randaugment", *(("finite",) if phase else ()))
        )
        # iid draws from the whole set
        assert r.config.subset in (ns or ((0,) if r.config.augment == "iid" else (s.base.subset,)))
        assert (r.config.model.width == s.base.model.width and r.config.subset == s.base.subset) == (
            re.search(r"-width\d+|-n(\d+|all)-", r.name) is None
        ) or r.config.augment == "iid"  # a run off the scale's width or n says so in its name
        assert r.config.data_dir == "/data" and r.config.knn_bank == s.base.knn_bank
        assert plan.folder(r) == Path("/out") / scale / "runs" / r.name
    assert preset.kind in ("table", "figure") and estimate_seconds(preset, plan) > 0
    assert (not runs) == (preset.command is not None)  # presets without deep-train runs have their own command


def test_presets_share_the_runs_they_have_in_common():
    names = {p: {r.name for r in PRESETS[p].runs(plan_of(p, "mini")[1])} for p in PRESETS}
    random_da = "cifar10-resnet18-w4096-noise1-ssl-seed0"
    assert "cifar10-resnet18-w4096-noise1-ssl-snapshots-seed0" in names["fig3"]  # the same run, snapshots kept
    for p in ("benign", "table2", "table3", "fig6", "fig9", "fig7", "fig8", "table4", "fig12"):
        assert random_da in names[p], p
    assert names["table2"] == names["table3"]
    cifar10_rows = {n for n in names["table2"] if n.startswith("cifar10-")}
    assert len(cifar10_rows) == 4 and cifar10_rows <= names["fig12"]
    assert len(names["fig12"]) == 2 * len(fig12.SETTINGS["mini"].noise_levels)
    assert "cifar10-resnet18-w4096-noise0.5-ssl-snapshots-seed0" in names["seed003"]
    assert len(names["benign"]) == 2 * len(benign.SETTINGS["mini"].seeds)


def test_table_rows_follow_datasets_and_sweeps_follow_the_scale():
    preset, plan = plan_of("table2", "full")
    assert {(r.config.dataset, r.config.model.arch) for r in preset.runs(plan)} == {
        ("cifar10", "resnet18"),
        ("cifar100", "resnet18"),
        ("tinyimagenet", "resnet18"),
        ("tinyimagenet", "vgg11"),
    }
    assert all(
        r.config.model.image_size == (64 if r.config.dataset == "tinyimagenet" else 32) for r in preset.runs(plan)
    )
    preset, plan = plan_of("table2", "mini", datasets=("cifar10",))
    assert [(r.config.label_noise, r.config.augment) for r in preset.runs(plan)] == [
        (0.0, "none"),
        (0.0, "ssl"),
        (1.0, "none"),
        (1.0, "ssl"),
    ]
    preset, plan = plan_of("fig8", "full")
    assert [r.config.random_classes for r in preset.runs(plan)] == [2, None, 100, 1000, 10000, "per-sample"]
    preset, plan = plan_of("fig7", "mini")
    assert [r.config.model.projector_width for r in preset.runs(plan)] == list(sweeps.FIG7["mini"].values)
    preset, plan = plan_of("table4", "full")
    iid = [r.config for r in preset.runs(plan) if r.config.augment == "iid"]
    assert [(c.iid_subset, c.views, c.label_noise) for c in iid] == [(1000, 50, 0.0), (1000, 50, 1.0)]
    with pytest.raises(BMError, match="no rows left"):
        plan_of("table2", "mini", datasets=("mnist",))
    with pytest.raises(BMError, match="selects rows of table2, table3; fig3 has none"):
        plan_of("fig3", "mini", datasets=("cifar10",))
    with pytest.raises(BMError, match="unknown preset"):
        plan_of("table9", "mini")
    with pytest.raises(BMError, match="unknown scale"):
        plan_of("fig3", "huge")


@pytest.mark.parametrize("name,scale", [(n, s) for n, s in PLANS if PRESETS[n].command is None])
def test_printed_commands_rebuild_the_preset_configs(monkeypatch, capsys, name, scale):
    """Each `bm deep-train` line, parsed by the real CLI, yields exactly the config the preset trains."""
    preset, plan = plan_of(name, scale, device="cuda")
    captured = []
    monkeypatch.setattr(bm.deep.datasets, "load_dataset", lambda *a, **k: None)
    monkeypatch.setattr(
        bm.deep.train,
        "train_or_resume",
        lambda cfg, out, data, on_epoch, tensorboard: captured.append((cfg, out)) or out,
    )
    lines = commands(preset, plan)
    for line in lines:
        argv = shlex.split(line)
        assert argv[:2] == ["bm", "deep-train"] and "--skip-finished" in argv
        with pytest.raises(SystemExit) as info:
            main(argv[1:])
        assert info.value.code == 0, capsys.readouterr().err
    assert [(c, Path(o)) for c, o in captured] == [(r.config, plan.folder(r)) for r in preset.runs(plan)]


def test_print_commands_cli_and_own_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "fig12", "--scale", "mini", "--print-commands", "--out", "/o"])
    out = capsys.readouterr().out.strip().splitlines()
    assert info.value.code == 0 and len(out) == 6
    assert all(line.startswith("bm deep-train --config '{") and " --out /o/mini/runs/" in line for line in out)
    for name, start in (("fig5", "bm capacity deep "), ("fig13", "bm toy-grid ")):
        with pytest.raises(SystemExit):
            main(["reproduce", name, "--scale", "mini", "--print-commands", "--out", "/o"])
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(start) and f"/o/mini/{name}" in lines[0]
    words = shlex.split(lines[0])  # fig13's line carries the scale's whole toy config
    assert ToyGridConfig.from_json(json.loads(words[words.index("--config") + 1])) == SCALES["mini"].toy


def test_a_new_config_field_reaches_the_printed_command_and_back():
    """The three-copies test: a field added to DeepTrainConfig (here by a subclass standing in for an edit) reaches
    `--print-commands` output and comes back through what `bm deep-train --config` does with it (read_config, laid
    over the named config, the command line's flags over that) with no other edit; so do fields that have no flag
    (probe_k)."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class WithNewField(bm.deep.config.DeepTrainConfig):
        warmup_epochs: int = 0

    preset, plan = plan_of("fig3", "mini")
    cfg = WithNewField(
        **{f: getattr(preset.runs(plan)[0].config, f) for f in bm.deep.config.DeepTrainConfig.__dataclass_fields__},
        warmup_epochs=7,
    )
    cfg = replace(cfg, probe_k=5)
    line = deep_train_command(cfg, Path("/o/run"))
    assert '"warmup_epochs":7' in line and '"probe_k":5' in line
    words = shlex.split(line)
    data = read_config(words[words.index("--config") + 1])  # what bm deep-train --config reads, then lays over
    paper = WithNewField(**{f: getattr(PAPER, f) for f in PAPER.__dataclass_fields__})  # the named config
    assert with_changes(layered(WithNewField, paper, data), {"seed": 3}) == replace(cfg, seed=3)


def test_config_files_refuse_unknown_keys_and_wrong_types(tmp_path, capsys):
    """Missing keys layer on the named config (bm.configs.layered); unknown ones and wrong types are one line."""
    from bm.deep.config import DeepTrainConfig

    good = DeepTrainConfig().to_json()
    for change, needle in (
        ({"bogus": 1}, "unknown key(s) bogus"),
        ({"model": {"arch": "mlp", "wide": 3}}, "unknown key(s) model.wide"),
        ({"model": {"width": "wide"}}, "width"),
    ):
        (tmp_path / "c.json").write_text(__import__("json").dumps({**good, **change}))
        with pytest.raises(SystemExit) as info:
            main(["deep-train", "--config", str(tmp_path / "c.json"), "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert info.value.code == 2 and needle in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_list_shows_every_preset_with_runs_and_times(capsys):
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "--list"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    for name in PRESETS:
        assert f"\n{name} " in out
    assert "16/16" in out and "H200, measured" in out and "CPU" in out


def test_recipes_produce_the_stated_full_scale_configs():
    """table6 (the paper, the default) and released (the authors' README command) differ exactly as documented."""
    from bm.reproduce.scales import RECIPES

    runs = {}
    for recipe in ("table6", "released"):
        preset, plan = plan_of("table2", "full", recipe=recipe, datasets=("cifar10",))
        runs[recipe] = {(r.config.label_noise, r.config.augment != "none"): r for r in preset.runs(plan)}
        assert plan.root == Path("/out") / ("full" if recipe == "table6" else "full-released")
    paper, released = runs["table6"][(1.0, True)].config, runs["released"][(1.0, True)].config
    assert (paper.lr, paper.augment, paper.mix_targets, paper.epochs, paper.batch_size) == (
        4e-3,
        "ssl+mixup",
        True,
        5000,
        256,
    )
    assert (released.lr, released.augment, released.epochs, released.batch_size, released.probe_every) == (
        3e-4,
        "ssl",
        10000,
        256,
        50,
    )
    assert paper.model == released.model and paper.model.projector_width == 65536
    # every cell of a comparison trains the same steps: the clean runs as long as random + DA
    assert [runs[r][(0.0, False)].config.epochs for r in ("table6", "released")] == [5000, 10000]
    assert plan_of("fig3", "full")[1].root == plan_of("fig3", "full", recipe="table6")[1].root
    assert set(RECIPES) == {"table6", "released"}
    with pytest.raises(BMError, match="full-scale protocol"):
        plan_of("fig3", "mini", recipe="released")
    with pytest.raises(BMError, match="unknown recipe"):
        plan_of("fig3", "full", recipe="fast")


def test_list_shows_both_recipes_and_the_benign_preset(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["reproduce", "--list"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "table6" in out.splitlines()[0] and "released" in out.splitlines()[0]
    assert any(line.startswith("benign ") for line in out.splitlines())


def test_list_gives_the_measured_transition_of_a_scale_and_its_cost(capsys, monkeypatch):
    from bm.analyses.transition import Extrapolation

    t = Extrapolation("knn_final-0.02", (1500.0, 400.0, 6000.0), "a test")
    monkeypatch.setitem(SCALES, "full", replace(SCALES["full"], transition=t))
    with pytest.raises(SystemExit):
        main(["reproduce", "--list"])
    line = next(x for x in capsys.readouterr().out.splitlines() if "the benign transition (" in x)
    from bm.reproduce.listing import duration

    seconds = 1500 * 50000 / SCALES["full"].images_per_second  # epochs x images per epoch / images per second
    assert line.startswith(
        "full: the benign transition (knn_final-0.02) is extrapolated at 1.5e+03 epochs (95% 400 .. 6e+03;"
    )
    assert f"{duration(seconds)} at the rate above) from a test; every full-scale run trains 5000 epochs' steps" in line


def test_the_full_budget_is_the_measured_upper_end_but_never_below_the_floor():
    from bm.analyses.transition import FLOOR_EPOCHS, Extrapolation

    assert Extrapolation("k", (900.0, 400.0, 2394.0), "").budget_epochs() == FLOOR_EPOCHS == 5000
    assert Extrapolation("k", (3.3e4, 1.6e4, 68604.0), "").budget_epochs() == 69000  # a slower law raises it
    from bm.reproduce.measured import TRANSITION_FULL

    full = SCALES["full"]  # the committed measurement's budget (none committed: the floor), 196 steps per epoch
    budget = TRANSITION_FULL.budget_epochs() if TRANSITION_FULL is not None else FLOOR_EPOCHS
    assert full.transition == TRANSITION_FULL and full.steps == budget * 196 and budget >= FLOOR_EPOCHS


def test_the_measurement_sets_the_budget_only_where_it_supports_it():
    from bm.analyses.transition import FLOOR_EPOCHS, Extrapolation

    fast = (1604.6, 628.2, 4098.7)
    agree = Extrapolation("k", fast, "", epochs_steps=(3000.0, 1000.0, 4900.0))
    assert agree.budget() == (5000, f"the interval's upper end rounded up to 1000, at least {FLOOR_EPOCHS}")
    disagree = Extrapolation("k", fast, "", epochs_steps=(12840.0, 5025.0, 32790.0))
    epochs, why = disagree.budget()
    assert epochs == FLOOR_EPOCHS and "conversions disagree" in why and "32790" in why
    slow = Extrapolation("k", (3.3e4, 1.6e4, 68604.0), "", epochs_steps=(5e4, 2e4, 9e4), width_check="width 8 outside")
    assert slow.budget() == (FLOOR_EPOCHS, "the floor of 5000: the width law is not trusted (width 8 outside)")


def test_fig5_at_full_scale_is_the_papers_setup():
    """Fig. 5: t = 5000 x 196 steps with "the same setup as in Sec. 4": ResNet18 width 64, projector 65536, batch 256,
    Adam 4e-3, all of CIFAR-10 (the old full scale was width 16, projector 4096, t = 2000, n = 500)."""
    preset, plan = plan_of("fig5", "full")
    f = fig5.SETTINGS["full"]
    assert (f.train.model.width, f.train.model.projector_width, f.steps, f.n, f.train.batch_size, f.train.lr) == (
        64,
        65536,
        5000 * 196,
        50000,
        256,
        4e-3,
    )
    words = shlex.split(preset.command(plan, Path("/out/fig5")))  # the printed command carries that config whole
    printed = CapacitySweepConfig.from_json(json.loads(words[words.index("--config") + 1]))
    assert printed == replace(f, train=replace(f.train, data_dir="/data", device="cpu"))
