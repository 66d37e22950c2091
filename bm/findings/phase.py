"""The phase grid's findings over seeds (`bm reproduce phase`), from its committed record: per cell the fits, how many
seeds memorized (accuracy 1), the probe's gain over init and the invariance; the capacity argument paired by seed;
C_t's accuracy-against-n curve per seed and labeling; the benign transition's power law over every seed's online
runs, per width, with the held-out width and both conversions to full-scale epochs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bm.analyses.transition import (
    BUDGET_CROSSING,
    FULL_SCALE,
    TRANSITION_KEYS,
    as_extrapolation,
    extrapolate,
    fit_censored,
    leave_one_width_out,
    per_width,
)
from bm.errors import BMError
from bm.findings.tables import PROBE_NAMES, arm, compare, findings_table, probed_of
from bm.runs import read_csv_rows
from bm.stats import MARGIN, VERDICT_RULE, Finding, crossed_bootstrap, judge

__all__ = [
    "MEASURED_HEADER",
    "grid_probe",
    "measured_source",
    "phase_blocks",
    "phase_cells",
    "phase_table",
    "pooled_times",
]


def _side(row: dict) -> str:
    """A cell's side of capacity in one seed: its twin's measurement where it has one (the n B views, each its own
    label, not fitted: "True"), else for B = 1 its n against that seed's C_t ("" inside C_t's bracket and for the
    online cells, which have no finite item count)."""
    return row["views_past_capacity"] or (row.get("above_capacity", "") if row["B"] == "1" else "")


def grid_probe(probed: list[dict]) -> tuple[str, dict[str, float]]:
    """The grid's probe on S and each candidate's noise. Candidates: the probes with one meaning at every n of the
    grid, K-NN at k scaled to the bank (the paper's k / per-class ratio, each cell's record's scaled_k) where one k
    serves every cell (mini: k = 1), and the linear probe on S. Chosen as headline_probe chooses the scale's: the
    narrowest crossed-bootstrap 95% interval (seeds x test images) of the gain over init, here its median over the
    cells. The scale's headline (K-NN k = 20, chosen at n = 128) on the grid's n = 32 bank (3 - 4 images per class)
    would count the bank's class balance as much as the embedding."""
    ks = {r[key]["scaled_k"] for r in probed for key in r}
    held = set.intersection(*(set(r[key]["accuracy"]["trained"]) for r in probed for key in r))
    candidates = [p for p in ([f"knn_k{ks.pop()}"] if len(ks) == 1 else []) + ["linear"] if p in held]
    if not candidates:
        raise BMError("the phase record has no probe with one meaning at every n (one scaled k, or linear)")

    def width(probe: str, key: str) -> float:
        low, high = crossed_bootstrap(arm(probed, key, probe)[1], arm(probed, key, probe, "init")[1])
        return high - low

    noise = {p: float(np.median([width(p, key) for key in probed[0]])) for p in candidates}
    return min(candidates, key=lambda p: (noise[p], p)), noise


def phase_cells(table: list[dict], record: dict) -> tuple[str, dict[str, float], list[dict]]:
    """The grid probe, its candidates' noise (grid_probe) and per cell (the record's keys, n/B, in order) over the
    seeds: `key`, `n`, `B`; `memorized` and `past` (the seeds whose fit reached 1 / whose views are past capacity by
    the twin; None without twins), `seeds`; the means `fit`, `fit_clean`, `twin_fit`, `invariance_train`,
    `invariance_heldout` (None where no seed has one) and the per-seed `gains` of the grid probe over init."""
    probed, seeds = probed_of(record), [str(s) for s in record["seeds"]]
    probe, noise = grid_probe(probed)
    at = {(r["seed"], f"{r['n']}/{r['B']}"): r for r in table}

    def mean(key: str, column: str) -> float | None:
        values = [float(at[s, key][column]) for s in seeds if at[s, key].get(column, "") not in ("", "None")]
        return float(np.mean(values)) if values else None

    def count(key: str, column: str) -> int | None:
        values = [at[s, key].get(column, "") for s in seeds]
        return None if "" in values else values.count("True")

    cells = [
        {
            "key": k,
            "n": int(k.split("/")[0]),
            "B": k.split("/")[1],
            "seeds": len(seeds),
            "memorized": count(k, "memorized"),
            "past": count(k, "views_past_capacity"),
            "gains": np.subtract(arm(probed, k, probe)[0], arm(probed, k, probe, "init")[0]),
            **{c: mean(k, c) for c in ("fit", "fit_clean", "twin_fit", "invariance_train", "invariance_heldout")},
        }
        for k in probed[0]
    ]
    return probe, noise, cells


def phase_table(
    measured: tuple[str, dict[str, float], list[dict]], table: list[dict], record: dict
) -> tuple[str, list[dict]]:
    """The cells' table (means over seeds) and the judged findings of the grid probe (`measured`: phase_cells of
    table and record): per cell gain > init; cells past capacity gain more than cells within it and fit their clean
    images perfectly; cells within capacity show no gain (TOST)."""
    probed, seeds = probed_of(record), [str(s) for s in record["seeds"]]
    probe, noise, cells = measured
    at = {(r["seed"], f"{r['n']}/{r['B']}"): r for r in table}
    keys = [c["key"] for c in cells]
    gain = {c["key"]: c["gains"] for c in cells}
    number = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
    share = lambda x: "-" if x is None else f"{x} of {len(seeds)}"  # noqa: E731
    lines = [
        f"Means over seeds {', '.join(seeds)}; memorized: the seeds whose fit of the trained items reached accuracy 1 "
        f"within the budget; gain: {PROBE_NAMES[probe]} minus its value at init (grid_probe: of the probes with one "
        "meaning at every bank of the grid, the narrowest crossed-bootstrap 95% interval of the gain, median over "
        f"cells: {', '.join(f'{PROBE_NAMES[p]} {w:.3f}' for p, w in noise.items())}); twin: the same views, each with "
        "its own random label (not fitted: the n B views are past capacity):",
        "",
        "| n / B | fit (trained items) | memorized | fit (clean images) | twin's fit | seeds past capacity | gain | "
        "invariance (training views) | invariance (held-out views) |",
        "|" + " --- |" * 9,
    ]
    lines += [
        f"| {c['key']} | {number(c['fit'])} | {share(c['memorized'])} | {number(c['fit_clean'])} | "
        f"{number(c['twin_fit'])} | {share(c['past'])} | {c['gains'].mean():+.3f} | {number(c['invariance_train'])} | "
        f"{number(c['invariance_heldout'])} |"
        for c in cells
    ]
    findings = [
        compare(f"cell {k}: trained > init", "greater", probed, (k, "trained"), (k, "init"), probe) for k in keys
    ]
    sided = [k for k in keys if all(_side(at[s, k]) for s in seeds)]
    groups = {side: [[k for k in sided if _side(at[s, k]) == side] for s in seeds] for side in ("True", "False")}

    def per_seed(side: str, values) -> tuple[float, ...]:
        return tuple(float(np.mean([values(k, i) for k in groups[side][i]])) for i in range(len(seeds)))

    ones, zeros = (1.0,) * len(seeds), (0.0,) * len(seeds)
    by_gain = lambda k, i: gain[k][i]  # noqa: E731
    if all(groups["True"]) and all(groups["False"]):
        findings.append(
            Finding(
                "capacity argument: cells past capacity gain more than cells within it",
                "greater",
                per_seed("True", by_gain),
                per_seed("False", by_gain),
                MARGIN,
            )
        )
    if all(groups["False"]):
        findings.append(
            Finding(
                "capacity argument: cells within capacity show no gain over init",
                "absent",
                per_seed("False", by_gain),
                zeros,
                MARGIN,
            )
        )
    if all(groups["True"]):
        findings.append(
            Finding(
                "capacity argument: cells past capacity still fit their clean images (accuracy 1 within the margin)",
                "absent",
                per_seed("True", lambda k, i: float(at[seeds[i], k]["fit_clean"])),
                ones,
                MARGIN,
            )
        )
    return "\n".join(lines) + "\n", judge(findings)


def _verdict(rows: list[dict], steps: int, seeds: int) -> str:
    """What the diagram says about the capacity hypothesis, read off the capacity rows' verdicts."""
    verdicts = {r["finding"].split(": ", 1)[1]: r for r in rows if r["finding"].startswith("capacity argument")}
    more = verdicts.get("cells past capacity gain more than cells within it")
    none = verdicts.get("cells within capacity show no gain over init")
    if more is None:
        return (
            f"At t = {steps} steps over {seeds} seeds the grid has no cell on one side of capacity in some seed, so "
            "it cannot test the capacity hypothesis.\n"
        )
    said = "; ".join(
        f"{name}: {r['effect']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}], **{r['verdict']}**"
        for name, r in verdicts.items()
    )
    if more["verdict"] == "shown" and (none is None or none["verdict"].startswith("shown absent")):
        reading = "the deep diagram supports the capacity hypothesis"
    elif more["verdict"] == "not shown":
        reading = "the deep diagram contradicts the capacity hypothesis: crossing capacity does not raise the gain"
    else:
        reading = "the deep diagram does not decide the capacity hypothesis at this budget and number of seeds"
    return f"At t = {steps} steps over {seeds} seeds: {said}. So {reading}.\n"


def _capacity(record: dict) -> str:
    """C_t per seed and the accuracy against n of each labeling the seed's search tried (Definition D.1: every
    labeling at 1)."""
    seeds = [str(s) for s in record["seeds"]]
    capacity = {s: record["per_seed"][s]["capacity"] for s in seeds}
    ns = sorted({int(n) for s in seeds for n in capacity[s]["curve"]})

    def cell(s: str, n: int) -> str:
        accuracies = capacity[s]["curve"].get(str(n))
        if accuracies is None:
            return "-"
        return f"{min(accuracies):.3f} ({sum(a >= 1.0 for a in accuracies)} of {len(accuracies)} at 1)"

    def bound(c: dict) -> str:
        return f">= {c['capacity']}" if c["censored"] else f"{c['capacity']} (fails at {c['failed_at']})"

    lines = [
        f"C_t at t = {capacity[seeds[0]]['budget_steps']} steps (random labels, no augmentation; every labeling "
        "tried must reach accuracy 1), per seed: "
        + ", ".join(f"seed {s}: {bound(capacity[s])}" for s in seeds)
        + ". The search's fits, the smallest over the seed's labelings (how many reached 1):",
        "",
        "| n | " + " | ".join(f"seed {s}" for s in seeds) + " |",
        "|" + " --- |" * (1 + len(seeds)),
        *(f"| {n} | " + " | ".join(cell(s, n) for s in seeds) + " |" for n in ns),
    ]
    return "\n".join(lines) + "\n"


def _law(fit: dict | None) -> str:
    if fit is None:
        return "too few crossings | - | - | - | -"
    width = f"{fit['exponent_width']:+.2f} +- {fit['se_width']:.2f}" if fit["exponent_width"] is not None else "-"
    low, centre, high = fit["epochs"]
    low_s, centre_s, high_s = fit["epochs_steps"]
    return (
        f"{fit['runs']} ({fit.get('censored', 0)}) | {fit['exponent_n']:+.2f} +- {fit['se_n']:.2f} | {width} | "
        f"{centre:.0f} ({low:.0f} .. {high:.0f}) | {centre_s:.0f} ({low_s:.0f} .. {high_s:.0f})"
    )


def _exponent(fit: dict | None) -> str:
    return "-" if fit is None else f"{fit['exponent_n']:+.2f} +- {fit['se_n']:.2f} ({fit['runs']})"


def pooled_times(record: dict) -> tuple[list[dict], int]:
    """Every seed's online runs' crossings (bm.analyses.transition.transition_times rows) and the runs' batch size."""
    times = [t for s in record["seeds"] for t in record["per_seed"][str(s)]["transition"]]
    return times, next(iter(record["runs"].values()))["batch_size"]


def _transition(folder: Path, record: dict) -> str:
    """The censored power law of each crossing over every seed's online runs (widths together), each width's own
    exponent, the leave-one-width-out check, both conversions to epochs at the full scale, and the budget rule."""
    seeds = [str(s) for s in record["seeds"]]
    times, batch = pooled_times(record)
    widths = sorted({t["width"] for t in times})
    at = FULL_SCALE
    lines = [
        f"Online runs of seeds {', '.join(seeds)} at widths {', '.join(map(str, widths))} and n = "
        f"{', '.join(str(n) for n in sorted({t['n'] for t in times}))} ({len(times)} runs, batch {batch}, "
        f"{times[0]['steps']} steps each); log t = a + b log n + c log width by maximum likelihood, runs that never "
        f"crossed kept as censored; extrapolated to n = {at['n']}, width {at['width']}, in epochs by images seen "
        f"(t x {batch} / n) and by optimizer steps carried over (t x {at['batch']} / n); held out: each width "
        "predicted by the law of the others (95% interval), per n:",
        "",
        "| crossing | runs crossed (censored) | b (n) | c (width) | epochs, images seen (95%) | epochs, steps carried "
        "over (95%) | held-out width inside its interval |",
        "|" + " --- |" * 7,
    ]
    laws = {}
    for key in TRANSITION_KEYS:
        law, held = fit_censored(times, key, at, batch), leave_one_width_out(times, key, at, batch)
        laws[key] = (law, held)
        inside = f"{sum(h['inside'] for h in held)} of {len(held)}" if held else "-"
        lines.append(f"| {key} | {_law(law)} | {inside} |")
    lines += [
        "",
        "Each width alone (t ~ n^b, censored fit): b +- its standard error (runs crossed):",
        "",
        "| crossing | " + " | ".join(f"width {w}" for w in widths) + " |",
        "|" + " --- |" * (1 + len(widths)),
    ]
    for key in TRANSITION_KEYS:
        own = per_width(times, key, at, batch)
        lines.append(f"| {key} | " + " | ".join(_exponent(own[w]) for w in widths) + " |")
    law, held = laws[BUDGET_CROSSING]
    if law is None:
        rule = f"too few crossings of {BUDGET_CROSSING} for a law, so the floor stays"
    else:
        epochs, why = as_extrapolation(law, held, f"{folder.parent.name}/phase, seeds {', '.join(seeds)}").budget()
        rule = f"{epochs} epochs: {why}"
    lines += [
        "",
        f"The full-scale budget rule reads {BUDGET_CROSSING} (the first step at accuracy 1: memorized): {rule}.",
    ]
    return "\n".join(lines) + "\n"


MEASURED_HEADER = (
    '"""Generated by `bm findings write` from results/mini/phase: the benign transition measured by the mini phase '
    "preset\nand extrapolated to the full scale (bm.analyses.transition.extrapolate), None before its records are "
    'committed.\nNever edited by hand: `bm findings check` fails where it differs from what the results give."""\n'
)


def measured_source(results: Path) -> str:
    """The source of bm/reproduce/measured.py: TRANSITION_FULL, the Extrapolation of BUDGET_CROSSING over the
    committed mini phase record's online runs (at least 2 seeds), or None (no such record, or no law)."""
    record_file = Path(results) / "mini" / "phase" / "result.json"
    found = None
    if record_file.is_file():
        from bm.findings.records import read_record

        record = read_record(record_file)
        if len(record.get("seeds", ())) >= 2:
            times, batch = pooled_times(record)
            seeds = ", ".join(str(s) for s in record["seeds"])
            found = extrapolate(times, BUDGET_CROSSING, batch, f"results/mini/phase, seeds {seeds}")
    value = (
        "None"
        if found is None
        else (
            f"Extrapolation(\n    {found.crossing!r},\n    {found.epochs!r},\n    {found.source!r},\n"
            f"    {found.epochs_steps!r},\n    {found.width_check!r},\n)"
        )
    )
    return (
        MEASURED_HEADER
        + "\nfrom bm.analyses.transition import Extrapolation\n\n"
        + f"TRANSITION_FULL: Extrapolation | None = {value}\n"
    )


def phase_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """`phase.cells`, `phase.findings` (the VERDICT_RULE table), `phase.verdict`, `phase.capacity` and
    `phase.transition` (bm.findings.blocks names them mini.phase.*). `probe` (the scale's headline) does not apply:
    the grid probes with grid_probe."""
    table = read_csv_rows(folder / "table.csv")  # every seed's rows of the grid (its seed column)
    cells, rows = phase_table(phase_cells(table, record), table, record)
    steps = int(table[0]["steps"])
    return {
        "phase.cells": cells,
        "phase.findings": VERDICT_RULE + "\n\n" + findings_table(rows),
        "phase.verdict": _verdict(rows, steps, len(record["seeds"])),
        "phase.capacity": _capacity(record),
        "phase.transition": _transition(folder, record),
    }
