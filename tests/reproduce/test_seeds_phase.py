"""Presets over several seeds (mean +- std), the phase preset end to end, and the transition-time read-off and fit."""

import json
import math
import shlex
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from bm.analyses.transition import fit_censored, fit_growth, transition_times
from bm.deep.config import DeepTrainConfig
from bm.errors import BMError
from bm.reproduce import SCALES
from bm.reproduce.outputs import Result, over_seeds
from bm.reproduce.presets import phase
from bm.reproduce.presets.phase import PhaseGrid
from bm.reproduce.scales import ONLINE
from bm.runs import read_csv_rows
from bm.toy.config import ToyGridConfig, ToyTrainConfig
from tests.conftest import run, write_cifar10
from tests.reproduce.test_runner import TINY, use_tiny

PHASE = PhaseGrid(
    ns=(8,),  # one n keeps the end-to-end test short; the transition fit is tested on its own below
    Bs=(1, 3, ONLINE),
    widths=(2, 4),
    wide=0,
    wide_ns=(),
    probe_steps=3,
    capacity_n_min=8,
    capacity_n_max=40,  # the tiny data's training set
    capacity_points=2,
    capacity_repeats=1,
    capacity_resolution=0.0,
)
TOY = ToyGridConfig(
    ns=(4, 8),
    Bs=(1, 2),
    seeds=(0,),
    capacity_repeats=1,
    capacity_n_max=16,
    train=ToyTrainConfig(steps=20, track_every=0),
)


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    use_tiny(monkeypatch)
    monkeypatch.setitem(SCALES, "tiny", replace(TINY, toy=TOY))
    monkeypatch.setitem(phase.SETTINGS, "tiny", PHASE)
    write_cifar10(tmp_path / "data", per_batch=8)  # 40 training and 8 test images
    return ["--scale", "tiny", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")], tmp_path / "out"


def result(rows):
    return Result(rows, ["label", "x", "y"], [f"{len(rows)} rows"])


def test_over_seeds_is_numpys_mean_and_std_row_by_row():
    per_seed = {
        0: result([{"label": "a", "x": 0.25, "y": 3}, {"label": "b", "x": 0.5, "y": None}]),
        4: result([{"label": "a", "x": 0.75, "y": 3}, {"label": "b", "x": 0.0, "y": 7}]),
    }
    out = over_seeds(per_seed)
    assert out.columns == ["seed", "label", "x", "y"] and [r["seed"] for r in out.rows] == [0, 0, 4, 4]
    assert out.extra["mean"][0] == {"label": "a", "x": np.mean([0.25, 0.75]), "y": 3}  # equal numbers stay as they are
    assert out.extra["std"][0] == {"x": np.std([0.25, 0.75])}
    assert (
        out.extra["mean"][1]["y"] == 7 and out.extra["std"][1]["y"] == 0.0
    )  # None: averaged over the seeds that have it
    assert "| a | 0.500 +- 0.250 | 3 |" in out.table and "7.000 +- 0.000 (1 of 2)" in out.table
    assert "seed 4: 2 rows" in out.summary
    with pytest.raises(BMError, match="seeds disagree"):
        over_seeds({0: result([{"label": "a", "x": 1.0, "y": 1}]), 1: result([{"label": "b", "x": 1.0, "y": 1}])})
    with pytest.raises(BMError, match="do not match"):
        over_seeds({0: result([{"label": "a", "x": 1.0, "y": 1}]), 1: result([])})


def test_seeds_choose_the_runs_of_every_preset():

    from bm.reproduce import make_plan

    preset, plan = make_plan("benign", "mini", Path("/d"), Path("/o"), seeds=(4, 7))  # a preset with seeds of its own
    assert [r.config.seed for r in preset.all_runs(plan)] == [4, 4, 7, 7]
    preset, plan = make_plan("fig7", "mini", Path("/d"), Path("/o"), seeds=(1, 2))
    runs = preset.all_runs(plan)
    assert [r.config.seed for r in runs] == [1] * 3 + [2] * 3 and all(
        r.name.endswith(f"seed{r.config.seed}") for r in runs
    )
    preset, plan = make_plan("fig7", "mini", Path("/d"), Path("/o"))
    assert {r.config.seed for r in preset.all_runs(plan)} == {0}


def test_the_mini_phase_tests_the_width_law_at_width_16_on_n_128_and_256():
    """Per seed: the 4 x 4 grid, its 8 twins, widths 2 and 8 at every n, then width 16 at n = 128 and 256 only (the
    held-out width of the law); every run trains the scale's step budget (in whole epochs, rounded up)."""
    from bm.reproduce import make_plan
    from bm.reproduce.plan import steps_per_epoch

    preset, plan = make_plan("phase", "mini", Path("/d"), Path("/o"), seeds=(0, 1))
    runs = preset.all_runs(plan)
    assert len(runs) == 2 * (16 + 8 + 8 + 2)
    wide = [r for r in runs if r.config.model.width == 16]
    assert [(r.config.seed, r.config.subset) for r in wide] == [(0, 128), (0, 256), (1, 128), (1, 256)]
    per_epoch = {r.name: steps_per_epoch(r.config, 50000) for r in runs}  # the budget in whole epochs, rounded up
    assert all(0 <= r.config.epochs * per_epoch[r.name] - SCALES["mini"].steps < per_epoch[r.name] for r in runs)


def test_the_phase_estimate_adds_each_seeds_capacity_search():
    """--list's phase time: its runs, plus per seed the C_t search's most runs (3 labelings x 6 sizes at mini, the
    sizes of test_search_sizes_bounds_every_search_and_is_reached), 12,000 steps of batch 32 each."""
    from dataclasses import replace

    from bm.reproduce import make_plan
    from bm.reproduce.runner import estimate_seconds

    preset, plan = make_plan("phase", "mini", Path("/d"), Path("/o"), seeds=(0, 1))
    runs_only = estimate_seconds(replace(preset, extra_seconds=lambda p: 0.0), plan)
    search = 2 * 3 * 6 * 12000 * 32 / SCALES["mini"].images_per_second
    assert estimate_seconds(preset, plan) == pytest.approx(runs_only + search)


def test_fig5_runs_once_per_seed_in_its_own_folder(capsys):
    """Fig. 5 has no deep-train runs: --seeds gives one `bm capacity deep` job per seed, in seed<k>/, whose every
    run has that seed (labels, initialization, views); without --seeds it is seed 0 in the preset's folder."""
    from bm.deep.config import CapacitySweepConfig
    from bm.reproduce import make_plan
    from bm.reproduce.runner import commands, estimate_seconds

    def configs(lines):
        words = [shlex.split(line) for line in lines]
        return [
            (CapacitySweepConfig.from_json(json.loads(w[w.index("--config") + 1])), w[w.index("--out") + 1])
            for w in words
        ]

    preset, plan = make_plan("fig5", "mini", Path("/d"), Path("/o"), seeds=(3, 5))
    assert [(c.train.seed, out) for c, out in configs(commands(preset, plan))] == [
        (3, "/o/mini/fig5/seed3"),
        (5, "/o/mini/fig5/seed5"),
    ]
    one, plan0 = make_plan("fig5", "mini", Path("/d"), Path("/o"))
    assert [(c.train.seed, out) for c, out in configs(commands(one, plan0))] == [(0, "/o/mini/fig5")]
    assert estimate_seconds(preset, plan) == pytest.approx(2 * estimate_seconds(one, plan0))


def reproduced(capsys, tiny, name: str, seeds: str) -> tuple[Path, dict]:
    """`bm reproduce NAME --seeds SEEDS` at the tiny scale: its folder and result.json."""
    args, out = tiny
    code, _, err = run(capsys, ["reproduce", name, "--seeds", seeds, *args])
    assert code == 0, err
    return out / "tiny" / name, json.loads((out / "tiny" / name / "result.json").read_text())


@pytest.mark.slow
def test_a_preset_over_seeds_writes_each_seed_and_their_mean(capsys, tiny):
    args, _ = tiny
    folder, record = reproduced(capsys, tiny, "fig12", "0,1")
    assert len(record["runs"]) == 8 and record["seeds"] == [0, 1]  # 4 runs per seed
    assert {"seed0/figure.png", "seed1/figure.pdf"} <= set(record["outputs"])
    rows = read_csv_rows(folder / "table.csv")
    for seed in (0, 1):
        own = read_csv_rows(folder / f"seed{seed}" / "table.csv")
        assert [{k: v for k, v in r.items() if k != "seed"} for r in rows if r["seed"] == str(seed)] == own
    for i, mean in enumerate(record["mean"]):
        values = [float(read_csv_rows(folder / f"seed{s}" / "table.csv")[i]["knn_train"]) for s in (0, 1)]
        assert mean["knn_train"] == pytest.approx(np.mean(values), abs=1e-12)
    # one seed alone reads the same numbers as its share of the two-seed preset
    code, _, err = run(capsys, ["reproduce", "fig12", "--seeds", "1", *args])
    assert code == 0, err
    assert read_csv_rows(folder / "table.csv") == read_csv_rows(folder / "seed1" / "table.csv")
    for bad, message in ((["--seeds", "0,0"], "distinct seeds"), (["--seeds", "x"], "comma-separated list")):
        code, _, err = run(capsys, ["reproduce", "fig12", *bad, *args])
        assert code == 2 and message in err and err.count("\n") == 1
    code, _, err = run(capsys, ["reproduce", "fig13", "--seeds", "1", *args])
    assert code == 2 and "seeds of its own" in err


@pytest.mark.slow
def test_fig5_over_seeds_measures_each_seed_and_their_mean(capsys, tiny):
    """Each seed is a job of its own (seed<k>/): its sweep, and its C_t search with labelings of its own."""
    folder, record = reproduced(capsys, tiny, "fig5", "1,2")
    assert record["seeds"] == [1, 2] and {"seed1/sweep.png", "seed2/sweep.pdf"} <= set(record["outputs"])
    for seed in (1, 2):
        job = json.loads((folder / f"seed{seed}" / "config.json").read_text())
        assert job["config"]["base"]["seed"] == seed
        labelings = {p.name.rsplit("_s", 1)[1] for p in (folder / f"seed{seed}" / "runs").glob("n*_s*")}
        assert labelings == {str(seed)}  # one labeling per n (tiny): seed s searches C_t with labeling s alone
        sweep = json.loads((folder / f"seed{seed}" / "sweep.json").read_text())
        mine = [r for r in read_csv_rows(folder / "table.csv") if r["seed"] == str(seed)]
        assert [float(r["memorization"]) for r in mine] == [r["memorization"] for r in sweep["rows"]]


@pytest.mark.slow
def test_the_phase_preset_reads_every_cell_against_its_own_capacity(capsys, tiny):
    args, out = tiny
    code, stdout, err = run(capsys, ["reproduce", "phase", *args])
    assert code == 0, err
    folder = out / "tiny" / "phase"
    record = json.loads((folder / "result.json").read_text())
    capacity = json.loads((folder / "capacity" / "capacity.json").read_text())
    c_t = capacity["capacity"]
    assert record["capacity"]["capacity"] == c_t and capacity["budget_steps"] == TINY.steps
    # C_t: every size up to it memorized every labeling, the next size tried did not (or C_t is the whole set)
    curve = {int(n): a for n, a in capacity["curve"].items()}
    assert all(min(a) >= 1.0 for n, a in curve.items() if n <= c_t)
    assert capacity["censored"] or min(curve[min(n for n in curve if n > c_t)]) < 1.0
    rows = read_csv_rows(folder / "table.csv")
    assert [(int(r["n"]), r["B"]) for r in rows] == [(n, b) for n in PHASE.ns for b in ("1", "3", "inf")]
    runs = out / "tiny" / "runs"
    for r in rows:
        kind = "ssl" if r["B"] == "inf" else "finite-B" + r["B"]
        name = f"cifar10-resnet18-w32-noise1-{kind}-n{r['n']}-seed0"
        history = [json.loads(line) for line in (runs / name / "metrics.jsonl").read_text().splitlines()]
        assert float(r["fit"]) == history[-1]["train_acc"] and r["steps"] == str(TINY.steps)
        assert r["memorized"] == str(any(h.get("train_acc") == 1.0 for h in history))
        assert float(r["gain_train"]) == pytest.approx(
            history[-1]["knn_banks"]["train"] - history[0]["knn_banks"]["train"], abs=1e-12
        )
        assert float(r["invariance"]) == history[-1]["invariance"]["embedding"]
        cell = json.loads((runs / name / "cell_measures.json").read_text())
        assert cell["fit_items"] == float(r["fit"])  # the final weights' fit, measured again, is the last logged
        assert (
            float(r["fit_clean"]) == cell["fit_clean"] and float(r["invariance_heldout"]) == cell["invariance_heldout"]
        )
        assert (r["invariance_train"] == "") == (r["B"] in ("1", "inf"))  # training views: finite cells, B > 1
        if r["B"] in ("1", "inf"):  # the trained items are the clean images themselves
            assert r["fit_clean"] == r["fit"]
        assert (runs / name / "definition_probes.json").exists()
        items = math.inf if r["B"] == "inf" else int(r["n"]) * int(r["B"])
        failed = capacity["failed_at"]  # past C_t: beyond the smallest failure; unknown (empty) in the bracket
        above = False if items <= c_t else (True if failed and items >= failed else None)
        assert r["above_capacity"] == ("" if above is None else str(above))
        if r["B"] == "3":  # the twin: the same views, each its own random label; past capacity = not memorized
            twin = runs / f"cifar10-resnet18-w32-noise1-finite-B3-own-n{r['n']}-seed0"
            twin_history = [json.loads(line) for line in (twin / "metrics.jsonl").read_text().splitlines()]
            assert float(r["twin_fit"]) == twin_history[-1]["train_acc"]
            assert r["views_past_capacity"] == str(not any(h.get("train_acc") == 1.0 for h in twin_history))
        else:
            assert r["twin_fit"] == "" and r["views_past_capacity"] == ""
    assert [(t["seed"], t["width"], t["n"]) for t in record["transition"]] == [
        (0, w, n) for w in PHASE.widths for n in PHASE.ns
    ]
    assert (runs / "cifar10-resnet18-w32-noise1-ssl-width2-n8-seed0" / "checkpoint.pt").exists()  # another width
    code, stdout, _ = run(capsys, ["reproduce", "phase", *args, "--status"])  # C_t's search: every run it trained
    searched = [line.split()[0] for line in stdout.splitlines() if line.startswith("capacity/")]
    assert code == 0 and sorted(searched) == sorted(f"capacity/runs/n{n}_s0" for n in curve)
    assert all(line.split()[1] == "finished" for line in stdout.splitlines())
    assert {"figure.png", "figure.pdf"} <= set(record["outputs"])
    bound = f">= {c_t}" if capacity["censored"] else f"{c_t} (fails at {capacity['failed_at']})"
    assert record["summary"][0].startswith(f"C_t = {bound} at t = {TINY.steps} steps")


def test_transition_times_are_the_first_crossings():
    cfg = DeepTrainConfig()
    history = [
        {"epoch": 0, "train_acc": 0.1, "knn": 0.20, "knn_banks": {"train": 0.20, "all": 0.3}},
        {"epoch": 1, "train_acc": 0.4},
        {"epoch": 2, "train_acc": 0.6, "knn": 0.24, "knn_banks": {"train": 0.24}},
        {"epoch": 3, "train_acc": 0.995},
        {"epoch": 4, "train_acc": 0.98, "knn": 0.30, "knn_banks": {"train": 0.30}},
        {"epoch": 6, "train_acc": 1.0, "knn": 0.31, "knn_banks": {"train": 0.31}},
    ]
    t = transition_times(history, cfg, per_epoch=10)
    assert (t["fit_0.5"], t["fit_0.99"], t["fit_1"]) == (20, 30, 60)
    assert (t["knn_init+0.05"], t["knn_final-0.02"]) == (40, 40)  # 0.24 < 0.25; 0.30 >= 0.31 - 0.02
    assert (t["knn_init"], t["knn_final"], t["fit"], t["probe_steps"]) == (0.20, 0.31, 1.0, 20)
    never = transition_times([{**r, "train_acc": 0.3} for r in history], cfg, per_epoch=10)
    assert never["fit_0.5"] is None and never["fit_0.99"] is None and never["fit_1"] is None


def test_the_growth_fit_recovers_a_power_law_and_matches_scipy():
    exact = [{"n": n, "width": w, "t": 3.0 * n**1.5 * w**-0.5} for n in (32, 64, 128, 256) for w in (2, 4, 8)]
    fit = fit_growth(exact, "t", {"n": 50000, "width": 64}, batch_size=32)
    assert fit["exponent_n"] == pytest.approx(1.5, rel=1e-9) and fit["exponent_width"] == pytest.approx(-0.5, rel=1e-9)
    assert fit["steps"][1] == pytest.approx(3.0 * 50000**1.5 * 64**-0.5, rel=1e-8)
    assert fit["steps"][0] == pytest.approx(fit["steps"][2], rel=1e-6)  # no residual, no interval
    assert fit["images"][1] == pytest.approx(32 * fit["steps"][1]) and fit["epochs"][1] == pytest.approx(
        32 * fit["steps"][1] / 50000
    )
    rng = np.random.default_rng(0)
    noisy = [{"n": n, "width": 4, "t": 5.0 * n**1.2 * math.exp(rng.normal(0, 0.2))} for n in (16, 32, 64, 128, 256)]
    fit = fit_growth(noisy + [{"n": 512, "width": 4, "t": None}], "t", {"n": 1000, "width": 4}, batch_size=1)
    line = stats.linregress(np.log([p["n"] for p in noisy]), np.log([p["t"] for p in noisy]))
    assert fit["runs"] == 5 and fit["exponent_width"] is None  # the censored run is left out
    assert fit["exponent_n"] == pytest.approx(line.slope, rel=1e-10) and fit["se_n"] == pytest.approx(
        line.stderr, rel=1e-10
    )
    assert fit["steps"][0] < math.exp(line.intercept + line.slope * math.log(1000)) < fit["steps"][2]
    assert fit_growth(noisy[:2], "t", {"n": 1000, "width": 4}, batch_size=1) is None
    assert fit_growth([{"n": 8, "width": 4, "t": None}], "t", {"n": 1000, "width": 4}, batch_size=1) is None


def test_the_censored_fit_is_least_squares_without_censoring_and_keeps_the_slow_runs_with_it():
    rng = np.random.default_rng(1)
    noisy = [
        {"n": n, "width": w, "t": 5.0 * n**1.5 * w**-1.0 * math.exp(rng.normal(0, 0.3)), "steps": 1e12}
        for n in (16, 32, 64, 128, 256)
        for w in (2, 4, 8)
    ]
    ols, mle = fit_growth(noisy, "t", {"n": 1000, "width": 4}, 1), fit_censored(noisy, "t", {"n": 1000, "width": 4}, 1)
    assert mle["censored"] == 0 and mle["exponent_n"] == pytest.approx(ols["exponent_n"], abs=1e-5)
    assert mle["exponent_width"] == pytest.approx(ols["exponent_width"], abs=1e-5)
    resid = [
        math.log(t["t"])
        - math.log(ols["steps"][1])
        - ols["exponent_n"] * math.log(t["n"] / 1000)
        - ols["exponent_width"] * math.log(t["width"] / 4)
        for t in noisy
    ]
    assert mle["sigma_log"] == pytest.approx(math.sqrt(np.mean(np.square(resid))), rel=1e-4)  # the MLE of sigma
    # censor every time past a budget (40 draws of 30 runs, n = 16 ... 1024, t = 2 n^1.5 e^(0.5 z)): least squares on
    # what crossed flattens the law (by -0.13 here), the censored fit does not (means over the draws: se 0.023)
    exponents, covered = {"ols": [], "mle": []}, 0
    for _ in range(40):
        many = [
            {"n": n, "width": 4, "t": 2.0 * n**1.5 * math.exp(rng.normal(0, 0.5))}
            for n in np.geomspace(16, 1024, 30).round()
        ]
        cut = [{**t, "t": t["t"] if t["t"] <= 2.0 * 200**1.5 else None, "steps": 2.0 * 200**1.5} for t in many]
        mle = fit_censored(cut, "t", {"n": 2000, "width": 4}, 1)
        exponents["ols"].append(fit_growth(cut, "t", {"n": 2000, "width": 4}, 1)["exponent_n"])
        exponents["mle"].append(mle["exponent_n"])
        covered += mle["steps"][0] < 2.0 * 2000**1.5 < mle["steps"][2]
    assert abs(np.mean(exponents["mle"]) - 1.5) < 0.08 and np.mean(exponents["ols"]) < 1.5 - 0.08
    assert covered >= 34  # the 95% interval holds the true value at n = 2000 in (nearly) 95% of the draws


def test_both_conversions_per_width_exponents_and_the_held_out_width():
    """One law over widths 2, 4, 8: each width's own exponent is the law's, the steps conversion is the images one
    times the batch ratio, a held-out width that follows the law falls inside its interval and one that does not
    (width 8 twice as slow) falls outside."""
    from bm.analyses.transition import leave_one_width_out, per_width, predict

    rng = np.random.default_rng(2)
    law = [
        {"n": n, "width": w, "t": 3.0 * n**1.4 * w**-0.9 * math.exp(rng.normal(0, 0.05)), "steps": 1e12}
        for n in (32, 64, 128, 256)
        for w in (2, 4, 8)
        for _ in range(2)
    ]
    at = {"n": 50000, "width": 64, "batch": 256}
    fit = fit_censored(law, "t", at, batch_size=32)
    assert fit["epochs_steps"][1] == pytest.approx(fit["epochs"][1] * 256 / 32)
    assert predict(fit, 50000, 64)[1] == pytest.approx(fit["steps"][1], rel=1e-9)
    for w, own in per_width(law, "t", at, 32).items():
        assert own["exponent_width"] is None and own["exponent_n"] == pytest.approx(1.4, abs=4 * own["se_n"] + 0.02)
    held = leave_one_width_out(law, "t", at, 32)
    assert {h["width"] for h in held} == {2, 4, 8} and len(held) == 12
    assert sum(h["inside"] for h in held) >= 10  # 95% intervals: 12 x 0.05 = 0.6 expected outside (here 2)
    slow8 = [{**t, "t": t["t"] * 2.0} if t["width"] == 8 else t for t in law]
    eight = [h for h in leave_one_width_out(slow8, "t", at, 32) if h["width"] == 8]
    assert len(eight) == 4 and not any(h["inside"] for h in eight)


def test_the_extrapolation_carries_both_conversions_and_the_held_out_widths_that_miss():
    """extrapolate: the censored law's epochs (centre, low, high) by both conversions; where width 8 runs twice as
    slow as the law, the check names width 8 at every n and the floor stays; with two widths no width can be held
    out, so the floor stays with that reason."""
    from bm.analyses.transition import FLOOR_EPOCHS, FULL_SCALE, extrapolate

    law = [
        {"n": n, "width": w, "t": 3.0 * n**1.4 * w**-0.9 * (1.05 if k else 0.95), "steps": 1e12}
        for n in (32, 64, 128, 256)
        for w in (2, 4, 8)
        for k in range(2)
    ]
    fit = fit_censored(law, "t", FULL_SCALE, 32)
    e = extrapolate(law, "t", 32, "made up")
    assert e.epochs == (fit["epochs"][1], fit["epochs"][0], fit["epochs"][2]) and e.source == "made up"
    assert e.epochs_steps == (fit["epochs_steps"][1], fit["epochs_steps"][0], fit["epochs_steps"][2])
    assert e.width_check is None  # the exact law, noise +-5%: every held-out width inside
    slow8 = extrapolate([{**t, "t": t["t"] * 2.0} if t["width"] == 8 else t for t in law], "t", 32, "")
    missed = {part.split(":")[0] for part in slow8.width_check.split("; ")}
    assert {f"width 8 at n = {n}" for n in (32, 64, 128, 256)} <= missed  # (and widths 2, 4: fitted with 8, off too)
    assert slow8.budget()[0] == FLOOR_EPOCHS  # (here the conversions disagree too: the first reason given)
    two = extrapolate([t for t in law if t["width"] != 8], "t", 32, "")
    assert two.width_check == "no width could be held out" and two.budget()[0] == FLOOR_EPOCHS
    assert extrapolate(law[:3], "t", 32, "") is None  # too few crossings for a law
