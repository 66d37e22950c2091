"""The numbers of the README and docs/findings.md are generated from the committed results (bm findings)."""

import gzip
import json
import re
from pathlib import Path

import pytest

from bm.errors import BMError
from bm.findings import BLOCK, render, stale, write

ROOT = Path(__file__).resolve().parents[1]
QUOTING = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]  # bm findings' default pages


@pytest.fixture(scope="module")
def blocks():
    """The committed results rendered once for the tests that read them (a rendering takes seconds)."""
    return render(ROOT / "results")


def test_every_generated_block_matches_the_committed_results(blocks):
    assert stale(QUOTING, blocks=blocks) == []


def test_stale_and_write_render_the_results_themselves_when_given_no_blocks(blocks, monkeypatch):
    import bm.findings.blocks

    monkeypatch.setattr(bm.findings.blocks, "render", lambda results: blocks)  # the one rendering, by the same path
    assert stale(QUOTING, ROOT / "results") == []


def test_every_quoted_block_is_given_by_the_results_and_none_is_empty(blocks):
    quoted = [m for f in QUOTING for m in BLOCK.finditer(f.read_text())]
    assert quoted and all(m["name"] in blocks and m["body"].strip() for m in quoted)


def test_write_regenerates_emptied_blocks_identically(tmp_path, blocks):
    quoting = [p for p in QUOTING if BLOCK.search(p.read_text())]
    assert len(quoting) >= 3 and len({p.name for p in quoting}) == len(quoting)  # README, home, findings
    for path in quoting:
        emptied = BLOCK.sub(lambda m: m.group(1) + m.group(4), path.read_text())
        (tmp_path / path.name).write_text(emptied)
    copies = [tmp_path / p.name for p in quoting]
    assert write(copies, blocks=blocks) == copies
    assert [c.read_text() for c in copies] == [p.read_text() for p in quoting]


def test_a_block_the_results_do_not_give_is_one_error(tmp_path, blocks):
    page = tmp_path / "page.md"
    page.write_text("<!-- bm:mini.nothing -->\n<!-- /bm:mini.nothing -->\n")
    with pytest.raises(BMError, match="mini.nothing"):
        write([page], blocks=blocks)
    assert stale([page], blocks=blocks) == [f"{page}: mini.nothing"]


def test_a_missing_results_folder_is_one_line_and_exit_2(capsys, tmp_path):
    from tests.conftest import run

    page = tmp_path / "page.md"
    page.write_text("no blocks\n")
    for command in ("write", "check"):
        code, out, err = run(capsys, ["findings", command, str(page), "--results", str(tmp_path / "none")])
        assert (
            code == 2
            and err.strip()
            == f"bm: error: {tmp_path / 'none'} is not a results folder (bm findings collect OUT writes one)"
        )


def test_the_full_scales_measured_transition_is_generated_from_the_committed_results():
    """bm/reproduce/measured.py is what bm findings write generates from results/ (bm findings check fails otherwise)."""
    from bm.findings.phase import measured_source

    assert (ROOT / "bm" / "reproduce" / "measured.py").read_text() == measured_source(ROOT / "results")


def test_findings_write_and_check_cover_the_generated_module(capsys, tmp_path, monkeypatch):
    """With made-up phase records, check names the stale module and exits 1, write regenerates it (an Extrapolation
    equal to extrapolate's over the pooled runs), and check then passes; the module's text is valid Python."""
    import bm.commands.findings
    from bm.analyses.transition import BUDGET_CROSSING, extrapolate
    from bm.findings.phase import measured_source, pooled_times
    from tests.conftest import run

    _phase_results(tmp_path)
    module = tmp_path / "measured.py"
    module.write_text(measured_source(tmp_path / "none"))  # the module before any record: None
    monkeypatch.setattr(bm.commands.findings, "_measured", lambda: module)
    monkeypatch.chdir(tmp_path)  # no README or docs/ here: the pages are none, the module is checked alone
    code, _, err = run(capsys, ["findings", "check", "--results", str(tmp_path)])
    assert code == 1 and f"{module}: TRANSITION_FULL" in err
    code, out, err = run(capsys, ["findings", "write", "--results", str(tmp_path)])
    assert code == 0 and str(module) in out, err
    namespace: dict = {}
    exec(module.read_text(), namespace)
    times, batch = pooled_times(json.loads((tmp_path / "mini" / "phase" / "result.json").read_text()))
    expected = extrapolate(times, BUDGET_CROSSING, batch, "results/mini/phase, seeds 0, 1, 2")
    assert namespace["TRANSITION_FULL"] == expected and expected is not None
    assert run(capsys, ["findings", "check", "--results", str(tmp_path)])[0] == 0


def test_numbers_in_the_headline_are_not_typed_outside_the_blocks(blocks):
    """The benign lead's numbers appear in the README only inside generated blocks."""
    readme = (ROOT / "README.md").read_text()
    outside = BLOCK.sub("", readme)
    lead = blocks["mini.benign.lead"]
    numbers = set(re.findall(r"[+-]?0\.\d{3}", lead))
    assert numbers and not numbers & set(re.findall(r"[+-]?0\.\d{3}", outside))


def test_the_gradient_blocks_are_the_seeds_means_and_a_paired_test_of_the_log_ratio(tmp_path):
    """A made-up gradients preset record (3 seeds): the table's means and ranges, the early-epoch claim's effect = the
    mean log ratio with its t-interval, and the claim until half the permuted images are fitted (epoch 100 in every
    seed: the mean over epochs 0 and 10 of each seed's log ratio)."""

    import numpy as np
    from scipy import stats

    label = {"0": [0.5, 0.6, 0.7], "10": [0.9, 1.0, 1.1], "100": [1.2, 1.3, 1.4]}
    fit = {"0": 0.1, "10": 0.2, "100": 0.6}
    per_seed = {
        str(k): {
            "gradients": {
                "epochs": {
                    e: {
                        "label_total": {"ratio": r[k]},
                        "total": {"ratio": 1.0 + k / 10},
                        "permuted_fit": fit[e] + k / 100,
                    }
                    for e, r in label.items()
                }
            }
        }
        for k in range(3)
    }
    folder = tmp_path / "mini" / "gradients"
    folder.mkdir(parents=True)
    _write_record(folder, [0, 1, 2], per_seed)
    blocks = render(tmp_path)
    table = blocks["mini.gradients.table"]
    assert "| 0 | 0.600 [0.500, 0.700] | 1.100 [1.000, 1.200] | 0.110 |" in table
    assert "| 100 | 1.300 [1.200, 1.400] |" in table
    rows = [line for line in blocks["mini.gradients.findings"].splitlines() if line.startswith("| label term")]
    assert len(rows) == 3  # epochs 0 and 10 (the early ones), and until fitted
    logs = np.log(label["0"])
    low, high = stats.t.interval(0.95, 2, loc=logs.mean(), scale=stats.sem(logs))
    assert f"{logs.mean():+.3f}" in rows[0] and f"[{low:+.3f}, {high:+.3f}]" in rows[0]
    before = [np.mean(np.log([label["0"][k], label["10"][k]])) for k in range(3)]
    assert "until half the permuted images are fitted" in rows[2] and f"{np.mean(before):+.3f}" in rows[2]


def _probe_record(outcomes: dict, bank: int = 128) -> dict:
    """One run's Definition 4.1 record (bm.analyses.def41's layout) from per-test outcomes by which (trained / init)
    and probe."""
    import numpy as np

    m = len(next(iter(next(iter(outcomes.values())).values())))
    return {
        "test_size": m,
        "bank_counts": [bank // 10] * 10,
        "probes": {
            w: {p: np.packbits(o.astype(np.uint8)).tobytes().hex() for p, o in v.items()} for w, v in outcomes.items()
        },
        "accuracy": {w: {p: float(o.mean()) for p, o in v.items()} for w, v in outcomes.items()},
    }


def _sweep_results(tmp_path, preset: str, gains: dict[str, list[float]]) -> Path:
    """results/mini/<preset>/result.json with 3 seeds: run key -> per-seed share of 200 test images right when trained
    (init: 0.2 in every seed), for the headline probe and the released code's."""

    import numpy as np

    m, per_seed = 200, {}
    for k in range(3):
        probed = {}
        for key, acc in gains.items():
            outcome = lambda a: np.arange(m) < round(a * m)  # noqa: E731
            probed[key] = _probe_record(
                {
                    w: {p: outcome(acc[k] if w == "trained" else 0.2) for p in ("knn_k20", "knn_all_k20")}
                    for w in ("trained", "init")
                }
            )
        per_seed[str(k)] = {"probed": probed}
    folder = tmp_path / "mini" / preset
    folder.mkdir(parents=True)
    _write_record(folder, [0, 1, 2], per_seed)
    return folder


def _write_record(folder, seeds: list, per_seed: dict) -> None:
    """A made-up preset record (result.json) with the fields bm findings reads."""
    import json

    record = {"seeds": seeds, "per_seed": per_seed, "runs": {}, "command": "c", "provenance": {"git_sha": "0" * 40}}
    (folder / "result.json").write_text(json.dumps(record))


def _row(block: str, start: str) -> list[str]:
    line = next(x for x in block.splitlines() if x.startswith(f"| {start}"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_table4_states_random_iid_not_benign_as_an_absence_claim_and_the_gains_paired_by_seed(tmp_path):
    """Made-up Table 4 records: i.i.d. random at init's accuracy in every seed (shown absent within the margin), DA
    random well above init (shown), effects the mean of the per-seed differences."""
    from scipy import stats

    _sweep_results(
        tmp_path,
        "table4",
        {
            "iid/clean": [0.50, 0.52, 0.55],
            "iid/random": [0.2, 0.2, 0.2],
            "DA/clean": [0.6, 0.6, 0.6],
            "DA/random": [0.30, 0.31, 0.32],
        },
    )
    block = render(tmp_path)["mini.table4.findings"]
    absent = _row(block, "K-NN k = 20 on S: i.i.d., random labels")
    assert absent[1] == "+0.000" and absent[-1] == "shown absent within 0.02"
    gain = _row(block, "K-NN k = 20 on S: DA, random labels")
    diffs = [0.10, 0.11, 0.12]
    low, high = stats.t.interval(0.95, 2, loc=sum(diffs) / 3, scale=stats.sem(diffs))
    assert gain[1] == f"{sum(diffs) / 3:+.3f}" and gain[2] == f"[{low:+.3f}, {high:+.3f}]" and gain[-1] == "shown"
    better = _row(block, "K-NN k = 20 on S: random labels: DA > i.i.d.")
    assert better[1] == f"{sum(diffs) / 3:+.3f}"


def test_fig3_pairs_each_layer_with_init_and_the_random_labels_with_the_layer_below_by_seed(tmp_path):
    """A made-up Fig. 3 table (seed, epoch, layer, clean-label and random-label K-NN): the clean claims pair the end
    with epoch 0 of the same seed, the random-label claims each of the last four layers with the one below, and the
    means table averages over seeds."""
    import csv

    import numpy as np
    from scipy import stats

    folder = tmp_path / "mini" / "fig3"
    folder.mkdir(parents=True)
    _write_record(folder, [0, 1, 2], {})
    layers = ["stem", "layer1", "layer2", "layer3", "layer4", "embedding", "P", "O"]
    rng = np.random.default_rng(0)
    value = {}
    for seed in range(3):
        for epoch in (0, 50, 100):
            for i, layer in enumerate(layers):
                clean = 0.15 + (0.01 * i + 0.01 * seed) * (epoch == 100) + rng.uniform(0, 0.005)
                value[seed, epoch, layer] = (clean, 0.1 + 0.1 * i * (epoch == 100) + 0.002 * seed)
    with open(folder / "table.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seed", "epoch", "layer", "knn_clean_test", "knn_random_train"])
        w.writerows([s, e, layer, *v] for (s, e, layer), v in value.items())
    blocks = render(tmp_path)
    row = _row(blocks["mini.fig3.findings"], "layer4: clean-label K-NN trained > init")
    diffs = [value[s, 100, "layer4"][0] - value[s, 0, "layer4"][0] for s in range(3)]
    low, high = stats.t.interval(0.95, 2, loc=np.mean(diffs), scale=stats.sem(diffs))
    assert row[1] == f"{np.mean(diffs):+.3f}" and row[2] == f"[{low:+.3f}, {high:+.3f}]"
    above = [r for r in blocks["mini.fig3.findings"].splitlines() if "random-label K-NN" in r]
    assert [r.split(":")[1].split("|")[0].strip() for r in above] == [
        "layer4 > layer3",
        "embedding > layer4",
        "P > embedding",
        "O > P",
    ]
    assert all(_row(blocks["mini.fig3.findings"], r.strip("| ").split(" |")[0])[1] == "+0.100" for r in above)
    means = _row(blocks["mini.fig3.means"], "O")
    assert means[1:] == [f"{np.mean([value[s, e, 'O'][0] for s in range(3)]):.3f}" for e in (0, 50, 100)] + [
        f"{np.mean([value[s, 100, 'O'][1] for s in range(3)]):.3f}"
    ]


def test_tables_2_and_3_pair_each_condition_with_its_comparison_by_seed(tmp_path):
    """A made-up Table 2 (seed, data set, model, condition, two K-NN columns; init a row of its own): random + DA
    above init by 0.1 in every seed is shown, its effect and interval those of the per-seed differences; random
    without DA below init, and the means are over seeds."""
    import csv

    import numpy as np
    from scipy import stats

    folder = tmp_path / "mini" / "table2"
    folder.mkdir(parents=True)
    _write_record(folder, [0, 1, 2], {})
    base = {"clean": 0.20, "clean+DA": 0.30, "random": 0.10, "random+DA": 0.25, "init": 0.15}
    value = {
        (s, c): v + 0.01 * s + (0.002 * s * s if c == "random+DA" else 0) for s in range(3) for c, v in base.items()
    }
    with open(folder / "table.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seed", "dataset", "model", "condition", "knn_clean_test", "knn_all"])
        w.writerows([s, "cifar10", "resnet18", c, v, v + 0.05] for (s, c), v in value.items())
    blocks = render(tmp_path)
    gain = _row(blocks["mini.table2.findings"], "cifar10 resnet18, K-NN k = 20 on S: random labels + DA > init")
    diffs = [value[s, "random+DA"] - value[s, "init"] for s in range(3)]
    low, high = stats.t.interval(0.95, 2, loc=np.mean(diffs), scale=stats.sem(diffs))
    assert gain[1] == f"{np.mean(diffs):+.3f}" and gain[2] == f"[{low:+.3f}, {high:+.3f}]" and gain[-1] == "shown"
    loss = _row(blocks["mini.table2.findings"], "cifar10 resnet18, K-NN k = 20 on S: random labels without DA < init")
    assert loss[1] == "-0.050"
    means = _row(blocks["mini.table2.means"], "cifar10 / resnet18 | init")
    assert means[2:] == [f"{np.mean([value[s, 'init'] for s in range(3)]) + d:.3f}" for d in (0, 0.05)]


def test_the_docs_figures_are_drawn_from_the_committed_results_alone(tmp_path):
    """bm findings write redraws docs/benign-mini.png (the benign record and its runs' metrics) and
    docs/toy-grid-heatmap.png (the fig13 record's grid, C_t and config) from results/: each figure it draws has the
    committed one's size, and a results folder without the records draws nothing."""
    from PIL import Image

    from bm.findings.figures import FIGURES, draw

    drawn = draw(tmp_path, ROOT / "results")
    held = [name for name, (scale, preset, _) in FIGURES.items() if (ROOT / "results" / scale / preset).is_dir()]
    assert {"benign-mini.png", "toy-grid-heatmap.png"} <= set(held) and drawn == [tmp_path / name for name in held]
    for figure in drawn:
        with Image.open(figure) as new, Image.open(ROOT / "docs" / figure.name) as committed:
            assert new.size == committed.size
    assert draw(tmp_path, tmp_path / "empty") == []


def test_a_sweep_tests_the_per_seed_slope_against_log2_of_the_knob(tmp_path):
    """Made-up Fig. 7 records (K-NN rising by 0.04 - 0.06 per doubling of the projector width, by seed): the slope
    claim's effect is the mean of the per-seed least-squares slopes against log2(width), with its t-interval."""
    import numpy as np
    from scipy import stats

    widths, slopes = (256, 1024, 4096), [0.04, 0.05, 0.06]
    gains = {str(w): [0.3 + s * np.log2(w / 256) + k / 100 for k, s in enumerate(slopes)] for w in widths}
    _sweep_results(tmp_path, "fig7", gains)
    block = render(tmp_path)["mini.fig7.findings"]
    row = _row(block, "K-NN k = 20 on S: K-NN rises with projector width")
    kept = np.array([[round(a * 200) / 200 for a in gains[str(w)]] for w in widths])  # whole test images
    fitted = np.polyfit(np.log2(widths), kept, 1)[0]
    low, high = stats.t.interval(0.95, 2, loc=fitted.mean(), scale=stats.sem(fitted))
    assert row[1] == f"{fitted.mean():+.3f}" and row[2] == f"[{low:+.3f}, {high:+.3f}]"
    assert _row(block, "K-NN k = 20 on S: projector width 4096: trained > init")[-1] == "shown"


def _phase_results(tmp_path) -> Path:
    """Made-up phase records (3 seeds): cells 8/1 (n within C_t), 8/4 (its twin fits its views: within capacity),
    16/4 (its twin never does: past capacity) and 16/inf; C_t 32 (fails at 64) with 3 labelings; the online runs of
    widths 2, 4, 8 at n = 32 .. 256 crossing fit_1 (memorized) at t = 3 n^1.4 width^-0.9 steps (x 0.96, 1, 1.04 by seed),
    no run crossing the other levels."""
    import csv

    gains = {"8/1": [0.22] * 3, "8/4": [0.2] * 3, "16/4": [0.30, 0.31, 0.32], "16/inf": [0.3] * 3}
    folder = _sweep_results(tmp_path, "phase", gains)
    record = json.loads((folder / "result.json").read_text())
    for k in range(3):
        for cell in record["per_seed"][str(k)]["probed"].values():  # every bank's scaled k is 1, as at mini
            cell["scaled_k"] = 1
            for by in (cell["probes"], cell["accuracy"]):
                for which in by.values():
                    which["knn_k1"] = which.pop("knn_k20")
        record["per_seed"][str(k)]["capacity"] = {
            "capacity": 32,
            "censored": False,
            "failed_at": 64,
            "budget_steps": 100,
            "curve": {"32": [1.0, 1.0, 1.0], "64": [1.0, 0.99 - k / 100, 0.98]},
        }
        record["per_seed"][str(k)]["transition"] = [
            {
                "seed": k,
                "width": w,
                "n": n,
                "fit_0.5": None,
                "fit_0.99": None,
                "fit_1": 3.0 * n**1.4 * w**-0.9 * (0.96, 1.0, 1.04)[k],
                "knn_init+0.05": None,
                "knn_final-0.02": None,
                "steps": 10**6,
            }
            for w in (2, 4, 8)
            for n in (32, 64, 128, 256)
        ]
    record["runs"] = {"a-run": {"batch_size": 32}}
    (folder / "result.json").write_text(json.dumps(record))
    columns = ["seed", "n", "B", "above_capacity", "views_past_capacity", "twin_fit", "fit", "memorized", "fit_clean"]
    columns += ["steps", "invariance_train", "invariance_heldout"]
    with open(folder / "table.csv", "w", newline="") as f:
        w = csv.DictWriter(f, columns)
        w.writeheader()
        for seed in range(3):
            for key in gains:
                n, B = key.split("/")
                past = {"8/4": "False", "16/4": "True"}.get(key, "")
                w.writerow(
                    {
                        "seed": seed,
                        "n": n,
                        "B": B,
                        "above_capacity": "" if B == "inf" else str(int(n) * int(B) > 32),
                        "views_past_capacity": past,
                        "twin_fit": {"8/4": 1.0, "16/4": 0.5}.get(key, ""),
                        "fit": 1.0,
                        "memorized": str(key != "16/inf" or seed > 0),
                        "fit_clean": 1.0,
                        "steps": 100,
                        "invariance_train": "",
                        "invariance_heldout": 0.5,
                    }
                )
    return folder


def test_the_phase_findings_pair_cells_past_and_within_capacity_by_seed(tmp_path):
    """The capacity claim's effect is the mean over seeds of gain(16/4) minus the mean gain of the cells within
    capacity (8/4 by its twin, 8/1 by n <= C_t): 0.110 - 0.010; the within-capacity claim is an absence claim on that
    mean (0.010, inside the margin); the cells past capacity fit their clean images (absent against 1); the table
    gives the shares of seeds memorized and past capacity, and the verdict reads the capacity rows."""
    _phase_results(tmp_path)
    blocks = render(tmp_path)
    cells = blocks["mini.phase.cells"]
    assert "| 16/4 | 1.000 | 3 of 3 | 1.000 | 0.500 | 3 of 3 | +0.110 |" in cells
    assert "| 8/4 | 1.000 | 3 of 3 | 1.000 | 1.000 | 0 of 3 | +0.000 |" in cells
    assert "| 16/inf | 1.000 | 2 of 3 | 1.000 | - | - | +0.100 |" in cells
    findings = blocks["mini.phase.findings"]
    more = _row(findings, "capacity argument: cells past capacity gain more")
    assert more[1] == "+0.100" and more[-1] == "shown"
    within = _row(findings, "capacity argument: cells within capacity")
    assert within[1] == "+0.010" and within[-1] == "shown absent within 0.02"
    clean = _row(findings, "capacity argument: cells past capacity still fit")
    assert clean[1] == "+0.000" and clean[-1] == "shown absent within 0.02"
    assert _row(findings, "K-NN k = 1 on S: cell 16/inf: trained > init")[-1] == "shown"  # online cells judged too
    assert "gain: K-NN k = 1 on S minus" in cells  # not the scale's headline (k = 20): one k for every bank
    verdict = blocks["mini.phase.verdict"]
    assert verdict.startswith("At t = 100 steps over 3 seeds: ") and "supports the capacity hypothesis" in verdict


def test_the_grid_probe_is_the_less_noisy_of_the_scaled_k_and_the_linear_probe():
    """Candidates: K-NN at the one scaled k of every bank, and the linear probe; chosen: the narrower median over cells
    of the gain's crossed-bootstrap interval (the widths are bm.stats.crossed_bootstrap's). A probe whose gain is the
    same 20 test images in every seed varies with the test images only; one whose outcomes are drawn afresh per seed
    varies with both, and more. Banks without one scaled k (full scale: 1 at n = 1000, 20 at 50,000) leave the linear
    probe."""
    import numpy as np

    from bm.findings.phase import grid_probe
    from bm.stats import crossed_bootstrap

    m, cells, rng = 200, ("32/1", "256/inf"), np.random.default_rng(0)
    fixed = {"trained": np.arange(m) < 60, "init": np.arange(m) < 40}
    for steady, noisy in (("linear", "knn_k1"), ("knn_k1", "linear")):
        drawn = {
            (s, c, w): rng.random(m) < (0.3 if w == "trained" else 0.2) for s in range(3) for c in cells for w in fixed
        }
        probed = [
            {
                c: {**_probe_record({w: {steady: fixed[w], noisy: drawn[s, c, w]} for w in fixed}), "scaled_k": 1}
                for c in cells
            }
            for s in range(3)
        ]
        chosen, noise = grid_probe(probed)
        widths = [
            np.subtract(*crossed_bootstrap(*(np.stack([drawn[s, c, w] for s in range(3)]) for w in fixed))[::-1])
            for c in cells
        ]
        low, high = crossed_bootstrap(*(np.stack([fixed[w]] * 3) for w in fixed))
        assert noise[steady] == pytest.approx(high - low) and noise[noisy] == pytest.approx(np.median(widths))
        assert chosen == steady and noise[noisy] > 1.5 * noise[steady]
    probed[1] = {c: {**cell, "scaled_k": 20} for c, cell in probed[1].items()}
    assert grid_probe(probed)[0] == "linear" and set(grid_probe(probed)[1]) == {"linear"}


def test_the_phase_capacity_curve_gives_each_seeds_labelings(tmp_path):
    """Per seed its C_t bracket and, per n its search tried, the smallest fit over its labelings and how many were 1."""
    _phase_results(tmp_path)
    block = render(tmp_path)["mini.phase.capacity"]
    assert "seed 0: 32 (fails at 64), seed 1: 32 (fails at 64), seed 2: 32 (fails at 64)." in block
    assert "| 32 | 1.000 (3 of 3 at 1) | 1.000 (3 of 3 at 1) | 1.000 (3 of 3 at 1) |" in block
    assert "| 64 | 0.980 (1 of 3 at 1) | 0.980 (1 of 3 at 1) | 0.970 (1 of 3 at 1) |" in block


def test_the_phase_figures_draw_c_ts_search_the_twins_and_the_pooled_crossings(tmp_path, monkeypatch):
    """docs/phase-capacity.png gets each seed's capacity record and the twins' (seed, n B, fit); docs/phase-diagram.png
    each cell's seeds memorized and past capacity, its gains and the verdict of its row in the findings block; every
    phase figure is drawn (PNG) from the made-up records alone."""
    from PIL import Image

    import bm.figures.phase
    from bm.findings.figures import draw

    _phase_results(tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    names = ["phase-diagram.png", "phase-capacity.png", "phase-transition.png"]
    assert draw(docs, tmp_path) == [docs / name for name in names]
    for name in names:
        with Image.open(docs / name) as image:
            assert image.size[0] > 500
    seen = {}

    def capture(capacities, twins, stem):
        seen.update(c=capacities, twins=twins)
        Path(f"{stem}.png").write_bytes(b"")

    def diagram(cells, verdicts, capacities, probe, heading, stem):
        seen.update(cells=cells, verdicts=verdicts, capacities=capacities, probe=probe)
        Path(f"{stem}.png").write_bytes(b"")

    monkeypatch.setattr(bm.figures.phase, "plot_capacity", capture)
    monkeypatch.setattr(bm.figures.phase, "plot_diagram", diagram)
    draw(docs, tmp_path)
    assert sorted(seen["c"]) == ["0", "1", "2"] and seen["c"]["1"]["curve"]["64"] == [1.0, 0.98, 0.98]
    assert sorted(seen["twins"]) == [(str(s), items, fit) for s in range(3) for items, fit in ((32, 1.0), (64, 0.5))]
    findings = render(tmp_path)["mini.phase.findings"]
    cells = {c["key"]: c for c in seen["cells"]}
    assert seen["probe"] == "K-NN k = 1 on S" and seen["capacities"] == seen["c"]
    assert seen["verdicts"] == {k: _row(findings, f"K-NN k = 1 on S: cell {k}: trained > init")[-1] for k in cells}
    assert [(k, c["memorized"], c["past"]) for k, c in cells.items()] == [
        ("8/1", 3, None),
        ("8/4", 3, 0),
        ("16/4", 3, 3),
        ("16/inf", 2, None),
    ]
    assert cells["16/4"]["gains"] == pytest.approx([0.10, 0.11, 0.12])  # 0.30 .. 0.32 against init's 0.2


def test_the_phase_transition_fits_every_seeds_online_runs_and_states_the_budget_rule(tmp_path):
    """The pooled law recovers the exponents of the made-up crossings (b = 1.4, c = -0.9), every held-out width
    falls inside its interval, each width alone gives b, the centre matches the true law at the full scale by both
    conversions, and the budget rule keeps the floor (both upper ends below it); the other crossings have no law."""
    import math

    from bm.analyses.transition import FLOOR_EPOCHS

    _phase_results(tmp_path)
    block = render(tmp_path)["mini.phase.transition"]
    law = _row(block, "fit_1 | 36")
    assert (
        law[1] == "36 (0)" and abs(float(law[2].split()[0]) - 1.4) < 0.02 and abs(float(law[3].split()[0]) + 0.9) < 0.02
    )
    truth = 3.0 * 50000**1.4 * 64**-0.9
    assert float(law[4].split()[0]) == pytest.approx(truth * 32 / 50000, rel=0.05)
    assert float(law[5].split()[0]) == pytest.approx(truth * 256 / 50000, rel=0.05)
    assert law[6] == "12 of 12"
    assert _row(block, "knn_init+0.05")[1] == "too few crossings"
    widths = _row(block, "fit_1 | +")
    assert [abs(float(c.split()[0]) - 1.4) < 0.02 and c.endswith("(12)") for c in widths[1:]] == [True] * 3
    assert not math.isnan(truth) and block.rstrip().endswith(
        f"reads fit_1 (the first step at accuracy 1: memorized): {FLOOR_EPOCHS} epochs: the interval's upper end rounded up to 1000, at least "
        f"{FLOOR_EPOCHS}."
    )


def test_the_double_descent_findings_pair_the_threshold_with_its_neighbours_by_seed(tmp_path):
    """Made-up double-descent records (3 seeds, widths 1, 2, 4; threshold 2 in every seed) with a test-accuracy dip
    at the threshold of 0.05 - 0.07 by seed and a permuted-capacity peak there: the peak claim's effect is the mean of
    the per-seed differences (shown), and so is each capacity claim's; the widths table gives the means."""
    import csv

    import numpy as np

    seeds, widths = (0, 1, 2), (1, 2, 4)
    accuracy = {1: [0.30, 0.31, 0.32], 2: [0.25, 0.25, 0.25], 4: [0.40, 0.41, 0.42]}
    peak = {1: 0.5, 2: 1.0, 4: 0.6}  # the permuted manifolds' capacity at each width (every layer, every seed)
    folder = tmp_path / "mini" / "doubledescent"
    folder.mkdir(parents=True)
    columns = ["seed", "width", "params", "train_fit", "permuted_fit", "kept_fit", "test_acc"]
    with open(folder / "table.csv", "w", newline="") as f:
        w = csv.DictWriter(f, columns)
        w.writeheader()
        for s in seeds:
            for width in widths:
                fit = 1.0 if width >= 2 else 0.5
                row = {"seed": s, "width": width, "params": 10 * width, "train_fit": fit, "permuted_fit": fit}
                w.writerow({**row, "kept_fit": 1.0, "test_acc": accuracy[width][s]})
    geometry = lambda s: {  # noqa: E731  (seed s adds s / 100 to every permuted capacity)
        str(width): {
            layer: {"clean": {"capacity": 0.2}, "randomized": {"capacity": peak[width] + s / 100}}
            for layer in ("conv1", "O")
        }
        for width in widths
    }
    per_seed = {str(s): {"threshold": 2, "geometry": geometry(s)} for s in seeds}
    _write_record(folder, list(seeds), per_seed)
    blocks = render(tmp_path)
    assert "| 2 | 20 | 1.000 | 1.000 | 1.000 | 0.250 |" in blocks["mini.doubledescent.widths"]
    assert "| O | permuted | 0.510 | 1.010 | 0.610 |" in blocks["mini.doubledescent.geometry"]
    findings = blocks["mini.doubledescent.findings"]
    dip = _row(findings, "double-descent peak")
    assert dip[1] == f"{np.mean([-0.05, -0.06, -0.07]):+.3f}" and dip[-1] == "shown"
    assert _row(findings, "layer O: permuted manifolds' capacity at the threshold > at the width below")[1] == "+0.500"
    assert _row(findings, "layer O: permuted manifolds' capacity at the threshold > at the width above")[1] == "+0.400"
    assert _row(findings, "test accuracy: width 4 > width 2")[-1] == "shown"


def test_collect_copies_finished_presets_and_only_the_runs_they_name(tmp_path):
    """bm findings collect: a finished preset's files and the records (no weights) of the runs its record names; a run
    no finished preset names (one still training) stays behind; a record naming a run the folder lacks is one error,
    with nothing copied."""
    import json

    from bm.findings import collect

    out, results = tmp_path / "out", tmp_path / "results"
    for run in ("done-seed0", "training-seed0"):
        (out / "mini" / "runs" / run).mkdir(parents=True)
        for name in ("config.json", "metrics.jsonl", "checkpoint.pt"):
            (out / "mini" / "runs" / run / name).write_text(name)
    (out / "mini" / "fig7").mkdir()
    (out / "mini" / "fig7" / "result.json").write_text(json.dumps({"runs": {"done-seed0": {}}}))
    (out / "mini" / "fig7" / "table.csv").write_text("a\n1\n")
    assert collect(out, results) == ["mini/fig7"]
    assert sorted(p.name for p in (results / "mini" / "runs").iterdir()) == ["done-seed0"]
    assert sorted(p.name for p in (results / "mini" / "runs" / "done-seed0").iterdir()) == [
        "config.json",
        "metrics.jsonl.gz",
    ]
    assert gzip.decompress((results / "mini" / "runs" / "done-seed0" / "metrics.jsonl.gz").read_bytes()) == (
        b"metrics.jsonl"
    )
    assert (results / "mini" / "fig7" / "table.csv").read_text() == "a\n1\n"
    (out / "mini" / "fig8").mkdir()
    (out / "mini" / "fig8" / "result.json").write_text(json.dumps({"runs": {"gone-seed0": {}}}))
    with pytest.raises(BMError, match="gone-seed0"):
        collect(out, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_the_seed003_findings_pair_capacity_and_rewinding_by_seed(tmp_path):
    """Made-up seed003 records (3 seeds): the permuted capacity of O rises by 0.50 - 0.52 by seed, that of stem not at
    all; rewinding the last layer drops the permuted fit from 1 to 0.1 and leaves the K-NN alone. Effects are the
    means of the per-seed differences; the unchanged K-NN is shown absent within the margin."""
    import csv

    seeds = (0, 1, 2)
    folder = tmp_path / "mini" / "seed003"
    folder.mkdir(parents=True)
    with open(folder / "table.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["seed", "epoch", "layer", "group", "capacity"])
        w.writeheader()
        for s in seeds:
            for epoch in (0, 10):
                for layer in ("stem", "embedding", "O"):
                    rise = 0.5 + s / 100 if layer == "O" and epoch == 10 else 0.0
                    w.writerow(
                        {"seed": s, "epoch": epoch, "layer": layer, "group": "randomized", "capacity": 0.2 + rise}
                    )
                    w.writerow({"seed": s, "epoch": epoch, "layer": layer, "group": "clean", "capacity": 0.3})

    def rewind(s):
        return [
            {
                "epoch": 0,
                "layers": k,
                "rewound": ["O"][:k],
                "knn_clean_test": 0.25 + s / 1000,
                "output_test_acc": 0.1,
                "randomized_train_acc": [1.0, 0.1 + s / 100][k],
            }
            for k in (0, 1)
        ]

    per_seed = {str(s): {"rewind": rewind(s)} for s in seeds}
    _write_record(folder, list(seeds), per_seed)
    blocks = render(tmp_path)
    assert "| O | 0.200 | 0.710 | 0.300 | 0.300 |" in blocks["mini.seed003.capacity"]
    assert "| 1 | O | 0.251 | 0.100 | 0.110 |" in blocks["mini.seed003.rewind"]
    findings = blocks["mini.seed003.findings"]
    assert _row(findings, "layer O: permuted manifolds' capacity rises")[1:3] == ["+0.510", "[+0.485, +0.535]"]
    assert _row(findings, "layer stem: permuted manifolds' capacity rises")[1] == "+0.000"
    assert _row(findings, "rewinding the last 1 layers to init: the permuted images' fit falls")[1] == "-0.890"
    assert "rewinding the last 1 layers to init: K-NN" not in findings  # O is past the embedding: no claim


def test_collect_copies_a_presets_own_jobs_and_never_writes_through_a_link(tmp_path):
    """fig5's own jobs (seed<k>/ with their config, capacity and sweep records and the runs under them) come with it,
    without weights or figures; a folder of the results that is a link out of them is one error, and a file there
    that is a link is replaced, its target untouched."""
    import json

    from bm.findings import collect

    out, results = tmp_path / "out", tmp_path / "results"
    fig5 = out / "mini" / "fig5"
    (fig5 / "seed1" / "runs" / "B2_own").mkdir(parents=True)
    (fig5 / "result.json").write_text(json.dumps({"runs": {}, "seeds": [1]}))
    for name in ("config.json", "capacity.json", "sweep.json", "sweep.png"):
        (fig5 / "seed1" / name).write_text(name)
    for name in ("config.json", "metrics.jsonl", "checkpoint.pt", "sweep.json"):
        (fig5 / "seed1" / "runs" / "B2_own" / name).write_text(name)
    assert collect(out, results) == ["mini/fig5"]
    kept = sorted(str(p.relative_to(results / "mini" / "fig5")) for p in (results / "mini" / "fig5").rglob("*.*"))
    assert kept == [
        "result.json",
        "seed1/capacity.json",
        "seed1/config.json",
        "seed1/runs/B2_own/config.json",
        "seed1/runs/B2_own/metrics.jsonl.gz",
        "seed1/sweep.json",
    ]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.json").write_text("mine")
    (results / "mini" / "fig5" / "seed1" / "sweep.json").unlink()
    (results / "mini" / "fig5" / "seed1" / "sweep.json").symlink_to(outside / "victim.json")
    collect(out, results)
    assert (outside / "victim.json").read_text() == "mine"
    assert (results / "mini" / "fig5" / "seed1" / "sweep.json").read_text() == "sweep.json"
    linked = tmp_path / "linked"
    (linked / "mini").mkdir(parents=True)
    (linked / "mini" / "fig5").symlink_to(outside)
    with pytest.raises(BMError, match="through a link"):
        collect(out, linked)
    assert sorted(p.name for p in outside.iterdir()) == ["victim.json"]


def test_the_fig5_findings_pair_the_sweep_by_seed_and_read_c_t_per_seed(tmp_path):
    """Made-up Fig. 5 tables (n = 64, B = 1 .. 8, C_t 100 / 200 / 300 by seed): own labels fit 1 up to C_t and 0.5
    past it, preserved labels fit 1 everywhere (shown absent within the margin) and the K-NN rises by 0.03 + 0.002 s
    per doubling of B. The "past C_t" claim averages each seed's own B past its C_t; the slope claim is the mean of
    the per-seed least-squares slopes against log2 B with its t-interval."""
    import csv

    import numpy as np
    from scipy import stats

    folder = tmp_path / "mini" / "fig5"
    folder.mkdir(parents=True)
    _write_record(folder, [0, 1, 2], {})
    capacity, Bs = {0: 100, 1: 200, 2: 300}, (1, 2, 4, 8)
    knn = lambda s, B: 0.2 + 0.002 * s + (0.03 + 0.002 * s) * np.log2(B)  # noqa: E731
    columns = ["seed", "B", "preserve_labels", "nB", "memorization", "knn", "knn_train", "capacity", "knn_init"]
    with open(folder / "table.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*columns, "knn_init_train"])
        for s in range(3):
            for preserve in (False, True):
                for B in Bs:
                    fit = 1.0 if preserve or 64 * B <= capacity[s] else 0.5
                    w.writerow([s, B, preserve, 64 * B, fit, knn(s, B) + 0.1, knn(s, B), capacity[s], 0.25, 0.15])
    blocks = render(tmp_path)
    table = blocks["mini.fig5.findings"]
    past = [np.mean([0.5 if 64 * B > capacity[s] else 1.0 for B in Bs if 64 * B > capacity[s]]) - 1 for s in range(3)]
    assert _row(table, "own labels, n B past C_t: fit below 1")[1] == f"{np.mean(past):+.3f}"
    assert _row(table, "own labels: fit at B = 8 < at B = 1")[1] == "-0.500"
    assert _row(table, "labels preserved: fit at B = 8 stays 1")[-1].startswith("shown absent")
    slopes = [0.03 + 0.002 * s for s in range(3)]
    low, high = stats.t.interval(0.95, 2, loc=np.mean(slopes), scale=stats.sem(slopes))
    row = _row(table, "K-NN k = 20 on the n images, labels preserved: rises with B")
    assert row[1] == f"{np.mean(slopes):+.3f}" and row[2] == f"[{low:+.3f}, {high:+.3f}]"
    gain = _row(table, "K-NN k = 20 on the n images, labels preserved: B = 8 > init")
    assert gain[1] == f"{np.mean([knn(s, 8) - 0.15 for s in range(3)]):+.3f}" and gain[-1] == "shown"
    means = _row(blocks["mini.fig5.sweep"], "4 | 256")
    assert means[2:] == [
        "0.667",  # 256 images: past C_t in seeds 0 and 1
        "1.000",
        f"{np.mean([knn(s, 4) for s in range(3)]):.3f}",
        f"{np.mean([knn(s, 4) + 0.1 for s in range(3)]):.3f}",
    ]
    assert _row(blocks["mini.fig5.sweep"], "init")[4:] == ["0.150", "0.250"]
    # C_t 300 in every seed: only B = 8 is past it, so the past-C_t row would repeat the B = 8 against B = 1 row
    table_csv = (folder / "table.csv").read_text().splitlines()
    columns = table_csv[0].split(",")
    at = columns.index("capacity")
    rows = [line.split(",") for line in table_csv[1:]]
    (folder / "table.csv").write_text(
        "\n".join([table_csv[0], *(",".join(r[:at] + ["300"] + r[at + 1 :]) for r in rows)]) + "\n"
    )
    again = render(tmp_path)["mini.fig5.findings"]
    assert "n B past C_t" not in again and _row(again, "own labels: fit at B = 8 < at B = 1")[1] == "-0.500"


def test_the_fig13_findings_read_the_toy_grid_against_its_capacity_by_seed(tmp_path):
    """A made-up toy grid (n 8 and 64, B 1 and 16, C_t = 32, seeds 0-2): without augmentation at n = 64 the K-NN
    falls 0.1 + 0.01 s below init; the capacity claim pairs, per seed, the mean gain of the cells past C_t with that of
    the one cell within it; the smallest n with the most views fits perfectly (shown absent within the margin)."""
    import csv

    import numpy as np

    from bm.toy.summary import COLUMNS

    folder = tmp_path / "mini" / "fig13"
    folder.mkdir(parents=True)
    _write_record(folder, [0, 1, 2], {})
    record = json.loads((folder / "result.json").read_text())
    (folder / "result.json").write_text(json.dumps({**record, "capacity": 32}))
    knn = {(8, 1): lambda s: 0.5, (8, 16): lambda s: 0.55, (64, 1): lambda s: 0.4 - 0.01 * s}
    knn[64, 16] = lambda s: 0.6 + 0.005 * s
    with open(folder / "grid.csv", "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS)
        w.writeheader()
        for (n, B), k in knn.items():
            for s in range(3):
                mem = 1.0 if n == 8 else 0.7
                w.writerow(
                    {c: 0.0 for c in COLUMNS}
                    | {"n": n, "B": B, "seed": s, "knn": k(s), "knn_init": 0.5, "mem_aug": mem}
                )
    blocks = render(tmp_path)
    table = blocks["mini.fig13.findings"]
    assert _row(table, "n = 64, B = 1: K-NN < init")[1] == f"{np.mean([-0.1 - 0.01 * s for s in range(3)]):+.3f}"
    per_seed = [(0.05 + (-0.1 - 0.01 * s) + (0.1 + 0.005 * s)) / 3 - 0.0 for s in range(3)]
    assert _row(table, "capacity argument: cells past C_t gain more")[1] == f"{np.mean(per_seed):+.3f}"
    assert _row(table, "n = 8, B = 16 (past C_t): augmented items fitted")[-1] == "shown absent within 0.02"
    assert _row(blocks["mini.fig13.cells"], "64 |")[1:] == ["-0.110*", "+0.105*"]
    assert _row(blocks["mini.fig13.cells"], "8 |")[1:3] == ["+0.000", "+0.050*"]
