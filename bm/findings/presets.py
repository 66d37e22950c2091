"""Each measured preset's generated blocks (RENDERERS: preset -> (its results folder, its record, the headline probe)
-> {block name: Markdown}); Fig. 5's in bm.findings.capacity, Fig. 13's in bm.findings.toy, the phase grid's in bm.findings.phase, Stephenson et al.'s in bm.findings.geometry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from bm.findings.capacity import fig5_blocks
from bm.findings.geometry import doubledescent_blocks, gradients_preset_blocks, seed003_blocks
from bm.findings.phase import phase_blocks
from bm.findings.tables import (
    PROBE_NAMES,
    arm,
    compare,
    finding_of,
    findings_table,
    fits_block,
    headline_probe,
    means_table,
    probed_of,
)
from bm.findings.toy import fig13_blocks
from bm.runs import read_csv_rows
from bm.stats import MARGIN, VERDICT_RULE, Finding, judge

__all__ = ["RENDERERS"]


def _benign_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    seeds, m = record["seeds"], record["seeds"][0]["test_size"]
    chosen, noise = headline_probe(record)
    by_probe: dict[str, list[dict]] = {}
    for f in record["findings"]:
        by_probe.setdefault(f["probe"], []).append(f)
    headline = judge([finding_of(f, m) for p in (chosen, "knn_all_k20") for f in by_probe[p]])
    sensitivity = judge(
        [finding_of(f, m) for p in record["probes"] for f in by_probe[p] if f["claim"] == "trained > init"]
    )
    perfect = sum(bool(s["memorized"]) for s in seeds)
    steps = [s["step_memorized"] for s in seeds]
    finals = ", ".join(f"{s['final_accuracy']:.3f}" for s in seeds)
    counts = seeds[0]["bank_counts"]
    mean = {w: float(np.mean([s["accuracy"][w][chosen] for s in seeds])) for w in ("trained", "init", "no_aug")}
    gain = next(r for r in headline if r["finding"] == f"{PROBE_NAMES[chosen]}: trained > init")
    lead = (
        f"Over {len(seeds)} seeds ({seeds[0]['steps']} optimizer steps each), the network trained on random "
        f"labels with augmentation fits them perfectly (accuracy 1 on the trained images) within the budget in "
        f"{perfect} of {len(seeds)} seeds (first step at 1: {', '.join(str(s) for s in steps)}; accuracy at the last "
        f"step {finals}: under fresh views an image or two "
        f"is lost and refitted between measurements); its twin without augmentation in "
        f"{sum(bool(s['memorized_no_aug']) for s in seeds)} of {len(seeds)}. Probed as Definition 4.1 asks (bank S: "
        f"the {sum(counts)} trained images with their true labels, {min(counts)}-{max(counts)} per class; test: "
        f"the {m} held-out images) with the {PROBE_NAMES[chosen]}, its test accuracy is {mean['trained']:.3f} "
        f"against {mean['init']:.3f} at init and {mean['no_aug']:.3f} for the twin: a gain of "
        f"{gain['effect']:+.3f} (95% CI [{gain['ci_low']:+.3f}, {gain['ci_high']:+.3f}] over seeds; "
        f"[{gain['boot_low']:+.3f}, {gain['boot_high']:+.3f}] over seeds and test images), verdict: "
        f"**{gain['verdict']}**.\n"
    )
    per_seed = [
        "| seed | final accuracy on the random labels (first step at 1) | twin | "
        + " | ".join(f"{PROBE_NAMES[p]}: trained / init / twin" for p in record["probes"])
        + " |",
        "|" + " --- |" * (3 + len(record["probes"])),
    ]
    for s in seeds:
        per_seed.append(
            f"| {s['seed']} | {s['final_accuracy']:.3f} ({s['step_memorized']}) | "
            f"{s['final_accuracy_no_aug']:.3f} | "
            + " | ".join(
                f"{s['accuracy']['trained'][p]:.3f} / {s['accuracy']['init'][p]:.3f} / {s['accuracy']['no_aug'][p]:.3f}"
                for p in record["probes"]
            )
            + " |"
        )
    noise_table = [
        "| probe | gain over init | sd of the gain over seeds | bootstrap 95% interval width | sd at init over seeds |",
        "|" + " --- |" * 5,
    ]
    noise_table += [
        f"| {PROBE_NAMES[n['probe']]} | {n['gain']:+.3f} | {n['sd_over_seeds']:.3f} | {n['boot_width']:.3f} "
        f"| {n['init_sd_over_seeds']:.3f} |"
        for n in noise
    ]
    choice = (
        f"The headline probe is the {PROBE_NAMES[chosen]}: among the probes on S it has the narrowest bootstrap "
        f"interval of its gain over init (seeds and test images resampled; table below). The paper's k / "
        f"per-class ratio ({20}/{5000}) gives k = {seeds[0]['scaled_k']} on this bank.\n"
    )
    return {
        "benign.lead": lead,
        "benign.findings": VERDICT_RULE + "\n\n" + findings_table(headline),
        "benign.seeds": "\n".join(per_seed) + "\n",
        "benign.probes": choice + "\n" + "\n".join(noise_table) + "\n\n" + findings_table(sensitivity),
    }


def _fig12_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """Fig. 12 over seeds: DA against no augmentation at each label-noise level, and whether DA's advantage falls
    with the noise (the per-seed least-squares slope of the advantage against the noise fraction, tested < 0)."""
    seeds = [str(s) for s in record["seeds"]]
    probed = probed_of(record)
    levels = sorted({float(k.split("/")[1]) for k in probed[0]})
    findings = []
    for p in (probe, "knn_all_k20"):
        for x in levels:
            claim = f"DA > no augmentation at label noise {x:g}"
            findings.append(compare(claim, "greater", probed, (f"DA/{x:g}", "trained"), (f"none/{x:g}", "trained"), p))
        advantage = np.array(
            [np.subtract(arm(probed, f"DA/{x:g}", p)[0], arm(probed, f"none/{x:g}", p)[0]) for x in levels]
        )
        slopes = np.polyfit(levels, advantage, 1)[0]  # per seed
        findings.append(
            Finding(
                f"{PROBE_NAMES[p]}: DA's advantage falls with label noise (slope per unit noise)",
                "less",
                tuple(slopes),
                tuple(np.zeros_like(slopes)),
                MARGIN,
            )
        )
    rows = judge(findings)
    per_level = [
        (f"{x:g}", [(f"DA/{x:g}", "trained"), (f"none/{x:g}", "trained"), (f"DA/{x:g}", "init")]) for x in levels
    ]
    levels_table = means_table(probed, probe, "label noise", seeds, per_level, ("DA", "no augmentation", "init"))
    return {"fig12.findings": VERDICT_RULE + "\n\n" + findings_table(rows), "fig12.levels": levels_table}


def _table1_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """Table 1 over seeds: per layer, the clean-label K-NN of the network trained on random labels without
    augmentation against the same layer at init (claim: trained < init, paired by seed; TOST margin MARGIN)."""
    rows = read_csv_rows(folder / "table.csv", integers=("seed",), numbers=("knn_trained", "knn_init"))
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    seeds = sorted({int(r["seed"]) for r in rows})
    value = {(int(r["seed"]), r["layer"], w): float(r[f"knn_{w}"]) for r in rows for w in ("trained", "init")}
    arm = lambda layer, w: tuple(value[s, layer, w] for s in seeds)  # noqa: E731
    findings = [
        Finding(
            f"layer {layer}: trained (random labels, no DA) < init",
            "less",
            arm(layer, "trained"),
            arm(layer, "init"),
            MARGIN,
        )
        for layer in layers
    ]
    lead = (
        f"Per-layer K-NN (k = 20; bank: the trained images with their true labels; test: the held-out images) of the "
        f"network trained on random labels without augmentation, against the same layer at init, over seeds "
        f"{', '.join(map(str, seeds))}:"
    )
    return {"table1.findings": lead + "\n\n" + VERDICT_RULE + "\n\n" + findings_table(judge(findings))}


def _fig3_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """Fig. 3 over seeds, from its table.csv (seed, epoch, layer, knn_clean_test, knn_random_train): per layer the
    clean-label K-NN at the end against init, and where the random labels enter: the random-label K-NN on the trained
    images of each of the last four layers against the layer below (each claim greater, paired by seed)."""
    clean, noise = "knn_clean_test", "knn_random_train"
    rows = read_csv_rows(folder / "table.csv", integers=("seed", "epoch"), numbers=(clean, noise))
    value = {(int(r["seed"]), int(r["epoch"]), r["layer"], m): float(r[m]) for r in rows for m in (clean, noise)}
    seeds = sorted({int(r["seed"]) for r in rows})
    epochs = sorted({int(r["epoch"]) for r in rows})
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    arm = lambda e, layer, m: tuple(value[s, e, layer, m] for s in seeds)  # noqa: E731
    end = epochs[-1]
    findings = [
        Finding(
            f"{layer}: clean-label K-NN trained > init",
            "greater",
            arm(end, layer, clean),
            arm(0, layer, clean),
            MARGIN,
        )
        for layer in layers
    ] + [
        Finding(
            f"random-label K-NN on the trained images: {top} > {below}",
            "greater",
            arm(end, top, noise),
            arm(end, below, noise),
            MARGIN,
        )
        for below, top in zip(layers[-5:-1], layers[-4:])  # from layer3 up: where the random labels enter
    ]
    mean = lambda e, layer, m: f"{np.mean(arm(e, layer, m)):.3f}"  # noqa: E731
    table = [
        f"Mean over seeds {', '.join(map(str, seeds))}: the clean-label K-NN (k = 20; bank: the trained images with "
        "their true labels; test: the held-out images) at each epoch, and the random-label K-NN (bank and test: the "
        "trained images with their random labels, each image left out of its own vote) at the end:",
        "",
        "| layer | " + " | ".join(f"clean, epoch {e}" for e in epochs) + f" | random, epoch {end} |",
        "|" + " --- |" * (len(epochs) + 2),
        *(
            f"| {layer} | " + " | ".join(mean(e, layer, clean) for e in epochs) + f" | {mean(end, layer, noise)} |"
            for layer in layers
        ),
    ]
    return {
        "fig3.means": "\n".join(table) + "\n",
        "fig3.findings": VERDICT_RULE + "\n\n" + findings_table(judge(findings)),
    }


def _probing_blocks(key: str, probes: dict[str, str]) -> Callable[..., dict[str, str]]:
    """Tables 2 and 3 over seeds, from table.csv (seed, dataset, model, condition, one column per probe in `probes`:
    column -> its name): per data set and model, the benign gain (random+DA > init), the malign loss (random < init),
    DA under random labels (random+DA > random) and under clean labels (clean+DA > clean), each paired by seed."""
    claims = (
        ("random labels + DA > init", "greater", "random+DA", "init"),
        ("random labels without DA < init", "less", "random", "init"),
        ("random labels: DA > no DA", "greater", "random+DA", "random"),
        ("clean labels: DA > no DA", "greater", "clean+DA", "clean"),
    )

    def blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
        rows = read_csv_rows(folder / "table.csv", integers=("seed",), numbers=tuple(probes))
        value = {
            (int(r["seed"]), r["dataset"], r["model"], r["condition"], c): float(r[c]) for r in rows for c in probes
        }
        seeds = sorted({int(r["seed"]) for r in rows})
        groups = list(dict.fromkeys((r["dataset"], r["model"]) for r in rows))
        conditions = list(dict.fromkeys(r["condition"] for r in rows))
        arm = lambda g, cond, c: tuple(value[(s, *g, cond, c)] for s in seeds)  # noqa: E731
        findings = [
            Finding(f"{' '.join(g)}, {name}: {claim}", kind, arm(g, a, c), arm(g, b, c), MARGIN)
            for g in groups
            for c, name in probes.items()
            for claim, kind, a, b in claims
        ]
        means = [
            f"Test accuracy, mean over seeds {', '.join(map(str, seeds))}:",
            "",
            "| data set / model | condition | " + " | ".join(probes.values()) + " |",
            "|" + " --- |" * (2 + len(probes)),
            *(
                f"| {' / '.join(g)} | {cond} | " + " | ".join(f"{np.mean(arm(g, cond, c)):.3f}" for c in probes) + " |"
                for g in groups
                for cond in conditions
            ),
        ]
        return {
            f"{key}.means": "\n".join(means) + "\n",
            f"{key}.findings": VERDICT_RULE + "\n\n" + findings_table(judge(findings)),
        }

    return blocks


def _fig2_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """Fig. 2 over seeds: every condition's final accuracy on its trained items and the first step at accuracy 1;
    the claim that augmentation delays memorization (first step at 1, DA - no DA > 0, paired by seed; TOST margin one
    memorization measurement interval)."""
    seeds = [str(s) for s in record["seeds"]]
    memorized = [record["per_seed"][s]["memorized"] for s in seeds]
    conditions = list(memorized[0])
    lines = [
        f"Accuracy on the trained items with their training labels at the last step, and (in brackets) the first "
        f"step at which it was 1, per seed ({', '.join(seeds)}):",
        "",
        "| condition | " + " | ".join(f"seed {s}" for s in seeds) + " |",
        "|" + " --- |" * (1 + len(seeds)),
        *(
            f"| {c} | " + " | ".join(f"{m[c]['train_acc']:.3f} ({m[c]['steps_to_memorize']})" for m in memorized) + " |"
            for c in conditions
        ),
    ]
    never = [c for c in conditions if any(m[c]["steps_to_memorize"] is None for m in memorized)]
    steps = lambda c: tuple(float(m[c]["steps_to_memorize"]) for m in memorized)  # noqa: E731
    interval = record["per_seed"][seeds[0]]["measured_every"]
    findings = [
        Finding(
            f"{labels} labels: DA delays memorization (first step at accuracy 1)",
            "greater",
            steps(f"{labels}+DA"),
            steps(labels),
            interval,
        )
        for labels in ("clean", "random")
        if f"{labels}+DA" not in never and labels not in never
    ]
    table = VERDICT_RULE + "\n\n" + findings_table(judge(findings)) if findings else ""
    return {"fig2.memorized": "\n".join(lines) + "\n", "fig2.findings": table}


def _table4_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """Table 4 over seeds: i.i.d. augmentations (same-class images) and the scale's DA, clean and random labels,
    each against init, and random i.i.d. against random DA; "random i.i.d. is not benign" as an absence claim."""
    probed = probed_of(record)
    findings = []
    for p in (probe, "knn_all_k20"):
        findings += [
            compare(
                "i.i.d., clean labels: trained > init",
                "greater",
                probed,
                ("iid/clean", "trained"),
                ("iid/clean", "init"),
                p,
            ),
            compare(
                "i.i.d., random labels: no gain over init (not benign)",
                "absent",
                probed,
                ("iid/random", "trained"),
                ("iid/random", "init"),
                p,
            ),
            compare(
                "DA, random labels: trained > init (benign)",
                "greater",
                probed,
                ("DA/random", "trained"),
                ("DA/random", "init"),
                p,
            ),
            compare(
                "random labels: DA > i.i.d.", "greater", probed, ("DA/random", "trained"), ("iid/random", "trained"), p
            ),
        ]
    return {
        "table4.fits": fits_block(folder, ("protocol", "labels")),
        "table4.means": means_table(probed, probe, "protocol / labels", record["seeds"]),
        "table4.findings": VERDICT_RULE + "\n\n" + findings_table(judge(findings)),
    }


def _fig6_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """Fig. 6 over seeds: the random-label DA ResNet18 and MLP encoders, each against init, and ResNet18 > MLP."""
    probed = probed_of(record)
    findings = []
    for p in (probe, "knn_all_k20"):
        findings += [
            compare(f"{m}: trained > init", "greater", probed, (m, "trained"), (m, "init"), p) for m in probed[0]
        ]
        findings.append(compare("ResNet18 > MLP", "greater", probed, ("ResNet18", "trained"), ("MLP", "trained"), p))
    return {
        "fig6.means": means_table(probed, probe, "encoder", record["seeds"]),
        "fig6.findings": VERDICT_RULE + "\n\n" + findings_table(judge(findings)),
    }


def _sweep_blocks(
    key: str, label: str, folder_key: str, x: Callable[[str, dict], float], unit: str
) -> Callable[..., dict[str, str]]:
    """The blocks of a one-knob sweep (Fig. 7, 8, 11) over seeds: every knob value against init, and the claim the
    paper's figure makes, that the K-NN rises with the knob (per-seed least-squares slope against x(value), > 0)."""

    def blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
        probed = probed_of(record)
        values = list(probed[0])
        xs = [x(v, probed[0][v]) for v in values]
        findings = []
        for p in (probe, "knn_all_k20"):
            findings += [
                compare(f"{label} {v}: trained > init", "greater", probed, (v, "trained"), (v, "init"), p)
                for v in values
            ]
            acc = np.array([arm(probed, v, p)[0] for v in values])  # (values, seeds)
            slopes = np.polyfit(xs, acc, 1)[0]
            findings.append(
                Finding(
                    f"{PROBE_NAMES[p]}: K-NN rises with {label} (slope per {unit})",
                    "greater",
                    tuple(slopes),
                    tuple(np.zeros_like(slopes)),
                    MARGIN,
                )
            )
        return {
            f"{key}.fits": fits_block(folder, (folder_key,)),
            f"{key}.means": means_table(probed, probe, label, record["seeds"]),
            f"{key}.findings": VERDICT_RULE + "\n\n" + findings_table(judge(findings)),
        }

    return blocks


def _classes(value: str, probes: dict) -> float:
    """Fig. 8's x: log2 of the number of random classes (per-sample: one class per trained image)."""
    return float(np.log2(sum(probes["bank_counts"]) if value == "per-sample" else int(value)))


RENDERERS: dict[str, Callable[[Path, dict, str], dict[str, str]]] = {
    "benign": _benign_blocks,
    "fig12": _fig12_blocks,
    "table1": _table1_blocks,
    "fig2": _fig2_blocks,
    "table2": _probing_blocks(
        "table2",
        {"knn_clean_test": "K-NN k = 20 on S", "knn_all": "K-NN k = 20 on every training image (released code)"},
    ),
    "table3": _probing_blocks("table3", {"linear_clean_test": "linear probe on S"}),
    "fig3": _fig3_blocks,
    "table4": _table4_blocks,
    "fig6": _fig6_blocks,
    "fig7": _sweep_blocks(
        "fig7", "projector width", "projector_width", lambda v, _: float(np.log2(int(v))), "doubling"
    ),
    "fig8": _sweep_blocks("fig8", "random classes", "random_classes", _classes, "doubling"),
    "fig5": fig5_blocks,
    "fig13": fig13_blocks,
    "phase": phase_blocks,
    "doubledescent": doubledescent_blocks,
    "seed003": seed003_blocks,
    "gradients": gradients_preset_blocks,
    "fig11": _sweep_blocks("fig11", "RandAugment strength", "strength", lambda v, _: float(v), "unit of strength"),
}
