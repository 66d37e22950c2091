"""Fig. 5's findings over seeds: the fit of finite view sets against B with each view its own label (past C_t, not
memorized) and with labels preserved (memorized, and the K-NN rises with B), from the preset's table.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bm.findings.tables import findings_table
from bm.runs import read_csv_rows
from bm.stats import MARGIN, VERDICT_RULE, Finding, judge

__all__ = ["fig5_blocks"]

BANKS = {"knn_train": "K-NN k = 20 on the n images", "knn": "K-NN k = 20 on every training image (released code)"}
AT_INIT = {"knn_train": "knn_init_train", "knn": "knn_init"}  # table.csv's column of each bank at init


def fig5_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """`fig5.sweep` (means over seeds per B, C_t per seed) and `fig5.findings`: with own labels the fit falls from
        B = 1 to the largest B and is below 1 past C_t (per seed, the mean fit of its B with n B > C_t; not stated where
    that is the largest B alone in every seed, the same comparison); with labels
        preserved the fit stays 1 (TOST) and each K-NN bank rises from B = 1 to the largest B, above init, with a
        positive slope against log2 B. `probe` (the scale's headline) does not apply: Fig. 5 probes with K-NN k = 20
        on its two banks (k capped at n - 1)."""
    rows = read_csv_rows(folder / "table.csv")
    seeds = list(dict.fromkeys(r["seed"] for r in rows))
    Bs = sorted({int(r["B"]) for r in rows})
    at = {(r["seed"], int(r["B"]), r["preserve_labels"] == "True"): r for r in rows}
    value = lambda column, B, preserve: np.array([float(at[s, B, preserve][column]) for s in seeds])  # noqa: E731
    first = {s: at[s, Bs[0], False] for s in seeds}
    capacity = {s: int(first[s]["capacity"]) for s in seeds}
    n = int(first[seeds[0]]["nB"]) // Bs[0]
    lines = [
        f"n = {n} images, means over seeds {', '.join(seeds)}; C_t per seed: "
        + ", ".join(f"{capacity[s]}" for s in seeds)
        + "; fit: accuracy on the n B views with their training labels at the budget's end:",
        "",
        "| B | n B | fit, own labels | fit, labels preserved | " + " | ".join(BANKS.values()) + " |",
        "|" + " --- |" * (4 + len(BANKS)),
        "| init | - | - | - | "
        + " | ".join(f"{np.mean([float(first[s][AT_INIT[b]]) for s in seeds]):.3f}" for b in BANKS)
        + " |",
        *(
            f"| {B} | {n * B} | {value('memorization', B, False).mean():.3f} | "
            f"{value('memorization', B, True).mean():.3f} | "
            + " | ".join(f"{value(b, B, True).mean():.3f}" for b in BANKS)
            + " |"
            for B in Bs
        ),
    ]
    low, high, ones = Bs[0], Bs[-1], np.ones(len(seeds))
    findings = [
        Finding(
            f"own labels: fit at B = {high} < at B = {low}",
            "less",
            tuple(value("memorization", high, False)),
            tuple(value("memorization", low, False)),
            MARGIN,
        ),
        Finding(
            f"labels preserved: fit at B = {high} stays 1",
            "absent",
            tuple(value("memorization", high, True)),
            tuple(ones),
            MARGIN,
        ),
    ]
    past = {s: [B for B in Bs if n * B > capacity[s]] for s in seeds}
    if all(past.values()) and any(past[s] != [high] for s in seeds):  # else the row above, counted twice by Holm
        findings.insert(
            1,
            Finding(
                "own labels, n B past C_t: fit below 1",
                "less",
                tuple(float(np.mean([float(at[s, B, False]["memorization"]) for B in past[s]])) for s in seeds),
                tuple(ones),
                MARGIN,
            ),
        )
    x = np.log2(Bs)
    for bank, name in BANKS.items():
        init = np.array([float(first[s][AT_INIT[bank]]) for s in seeds])
        slopes = np.polyfit(x, np.array([value(bank, B, True) for B in Bs]), 1)[0]
        findings += [
            Finding(
                f"{name}, labels preserved: B = {high} > B = {low}",
                "greater",
                tuple(value(bank, high, True)),
                tuple(value(bank, low, True)),
                MARGIN,
            ),
            Finding(
                f"{name}, labels preserved: B = {high} > init",
                "greater",
                tuple(value(bank, high, True)),
                tuple(init),
                MARGIN,
            ),
            Finding(
                f"{name}, labels preserved: rises with B (slope per doubling)",
                "greater",
                tuple(slopes),
                tuple(0 * slopes),
                MARGIN,
            ),
        ]
    return {
        "fig5.sweep": "\n".join(lines) + "\n",
        "fig5.findings": VERDICT_RULE + "\n\n" + findings_table(judge(findings)),
    }
