"""The pieces every findings table is made of: probe names, per-seed arms of a Definition 4.1 probe (accuracies and
per-test outcomes), claims between them, the Markdown rows of bm.stats.judge, and the headline probe's choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bm.runs import read_csv_rows
from bm.stats import MARGIN, Finding, crossed_bootstrap

__all__ = [
    "HEADLINE_FAMILY",
    "PROBE_NAMES",
    "arm",
    "compare",
    "finding_of",
    "findings_table",
    "fits_block",
    "headline_probe",
    "means_table",
    "outcomes",
    "probed_of",
    "signed",
]

HEADLINE_FAMILY = ("knn_k1", "knn_k5", "knn_k10", "knn_k20", "linear")  # probes on S (Def. 4.1)


PROBE_NAMES = {
    "knn_k1": "K-NN k = 1 on S",
    "knn_k5": "K-NN k = 5 on S",
    "knn_k10": "K-NN k = 10 on S",
    "knn_k20": "K-NN k = 20 on S",
    "linear": "linear probe on S (l2 by 5-fold CV)",
    "knn_all_k20": "K-NN k = 20 on every training image (released code)",
}


def outcomes(bits: list[str], m: int) -> np.ndarray:
    return np.stack([np.unpackbits(np.frombuffer(bytes.fromhex(b), dtype=np.uint8), count=m) for b in bits])


def finding_of(f: dict, m: int) -> Finding:
    return Finding(
        f"{PROBE_NAMES.get(f['probe'], f['probe'])}: {f['claim']}",
        f["kind"],
        tuple(f["a"]),
        tuple(f["b"]),
        f["margin"],
        (outcomes(f["items_a"], m), outcomes(f["items_b"], m)),
    )


def headline_probe(record: dict) -> tuple[str, list[dict]]:
    """The Def. 4.1 probe (HEADLINE_FAMILY) whose gain over init has the narrowest crossed-bootstrap 95% interval
    over seeds and test images (the least noisy measurement of the embedding), and each probe's noise record."""
    m = record["seeds"][0]["test_size"]
    noise = []
    for f in record["findings"]:
        if f["claim"] != "trained > init":
            continue
        gain = np.subtract(f["a"], f["b"])
        low, high = crossed_bootstrap(outcomes(f["items_a"], m), outcomes(f["items_b"], m))
        noise.append(
            {
                "probe": f["probe"],
                "gain": float(gain.mean()),
                "sd_over_seeds": float(gain.std(ddof=1)),
                "boot_width": high - low,
                "init_sd_over_seeds": float(np.std(f["b"], ddof=1)),
            }
        )
    best = min((n for n in noise if n["probe"] in HEADLINE_FAMILY), key=lambda n: (n["boot_width"], n["probe"]))
    return best["probe"], noise


def signed(x: float | None, digits: int = 3) -> str:
    return "-" if x is None or x != x else f"{x:+.{digits}f}" if digits == 3 else f"{x:.{digits}g}"


def findings_table(rows: list[dict]) -> str:
    lines = [
        "| finding | effect | 95% CI (seeds, t) | 95% CI (seeds x test images, bootstrap) | seeds | p (Holm) | "
        "TOST p (Holm, margin) | verdict |",
        "|" + " --- |" * 8,
    ]
    for r in rows:
        lines.append(
            f"| {r['finding']} | {signed(r['effect'])} | [{signed(r['ci_low'])}, {signed(r['ci_high'])}] | "
            f"[{signed(r['boot_low'])}, {signed(r['boot_high'])}] | {r['seeds']} | {r['p_holm']:.2g} | "
            f"{r['tost_p_holm']:.2g} ({r['margin']:g}) | {r['verdict']} |"
        )
    return "\n".join(lines) + "\n"


def probed_of(record: dict) -> list[dict]:
    """Each seed's Definition 4.1 probe records by run key (a preset's extra "probed"), in the record's seed order."""
    return [record["per_seed"][str(s)]["probed"] for s in record["seeds"]]


def arm(probed: list[dict], key: str, probe: str, which: str = "trained") -> tuple[tuple[float, ...], np.ndarray]:
    """One arm over seeds: probe `probe`'s test accuracy of run `key` (`which`: trained or init) per seed, and its
    per-test outcomes (seeds, test images) for the crossed bootstrap."""
    m = probed[0][key]["test_size"]
    accuracy = tuple(r[key]["accuracy"][which][probe] for r in probed)
    return accuracy, outcomes([r[key]["probes"][which][probe] for r in probed], m)


def compare(name: str, kind: str, probed: list[dict], a: tuple[str, str], b: tuple[str, str], probe: str) -> Finding:
    """The claim `name` (kind, about a - b) between two (run key, trained / init) arms of one probe, paired by seed."""
    (acc_a, bits_a), (acc_b, bits_b) = arm(probed, a[0], probe, a[1]), arm(probed, b[0], probe, b[1])
    return Finding(f"{PROBE_NAMES[probe]}: {name}", kind, acc_a, acc_b, MARGIN, (bits_a, bits_b))


def means_table(
    probed: list[dict],
    probe: str,
    label: str,
    seeds: list,
    rows: list[tuple[str, list[tuple[str, str]]]] | None = None,
    columns: tuple[str, ...] = ("trained", "init"),
) -> str:
    """Mean test accuracy over seeds: per row (its label and the (run key, trained or init) of each of `columns`);
    default every run key, trained and at init."""
    mean = lambda key, which: np.mean(arm(probed, key, probe, which)[0])  # noqa: E731
    if rows is None:
        rows = [(key, [(key, "trained"), (key, "init")]) for key in probed[0]]
    return (
        "\n".join(
            [
                f"{PROBE_NAMES[probe]}, test accuracy, mean over seeds {', '.join(map(str, seeds))}:",
                "",
                f"| {label} | " + " | ".join(columns) + " |",
                "|" + " --- |" * (1 + len(columns)),
                *(f"| {name} | " + " | ".join(f"{mean(*cell):.3f}" for cell in cells) + " |" for name, cells in rows),
            ]
        )
        + "\n"
    )


def fits_block(folder: Path, keys: tuple[str, ...]) -> str:
    """Per run of a preset (its table.csv rows, named by `keys`) and seed: the fit of the trained items with their
    training labels at the last step and, in brackets, the first step at which it was 1 ("never": not within the
    budget, so not memorized)."""
    rows = read_csv_rows(folder / "table.csv")
    seeds = list(dict.fromkeys(r["seed"] for r in rows))
    runs = list(dict.fromkeys(tuple(r[k] for k in keys) for r in rows))
    at = {(r["seed"], tuple(r[k] for k in keys)): r for r in rows}
    cell = lambda r: f"{float(r['train_acc']):.3f} ({r['steps_to_memorize'] or 'never'})"  # noqa: E731
    lines = [
        "Fit of the trained items with their training labels at the last step (first step at 1), per seed:",
        "",
        f"| {' / '.join(keys)} | " + " | ".join(f"seed {s}" for s in seeds) + " |",
        "|" + " --- |" * (1 + len(seeds)),
        *(f"| {' / '.join(run)} | " + " | ".join(cell(at[s, run]) for s in seeds) + " |" for run in runs),
    ]
    return "\n".join(lines) + "\n"
