"""Fig. 13's findings over the toy grid's seeds (the toy model's n x B diagram, bm toy-grid): the K-NN against init
without and with augmentation, the capacity argument paired by seed, and perfect fit within and past C_t."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bm.findings.tables import findings_table
from bm.stats import MARGIN, VERDICT_RULE, Finding, judge
from bm.toy.summary import read_grid

__all__ = ["fig13_blocks"]


def _matrix(title: str, ns: list[int], Bs: list[int], cell, past) -> list[str]:
    """A Markdown n x B table of cell(n, B) (a number), cells past C_t marked with *."""
    return [
        title,
        "",
        "| n \\ B | " + " | ".join(map(str, Bs)) + " |",
        "|" + " --- |" * (1 + len(Bs)),
        *(f"| {n} | " + " | ".join(f"{cell(n, B):+.3f}{'*' if past(n, B) else ''}" for B in Bs) + " |" for n in ns),
        "",
    ]


def fig13_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """`fig13.cells` (means over seeds: the K-NN's gain over init and the fit of the augmented items, per n and B)
    and `fig13.findings`, paired by seed: at the largest n the K-NN falls below init without augmentation and rises
    above it with the most views; cells past C_t gain more than cells within it; cells within C_t, and the smallest
    n with the most views, fit their augmented items perfectly (TOST). `probe` does not apply: the toy's K-NN is its
    own (k of its config, a bank of clean training points)."""
    rows = read_grid(folder / "grid.csv")
    capacity = int(record["capacity"])
    seeds = sorted({int(r["seed"]) for r in rows})
    ns, Bs = sorted({int(r["n"]) for r in rows}), sorted({int(r["B"]) for r in rows})
    at = {(int(r["n"]), int(r["B"]), int(r["seed"])): r for r in rows}
    value = lambda n, B, c: np.array([float(at[n, B, s][c]) for s in seeds])  # noqa: E731
    gain = lambda n, B: value(n, B, "knn") - value(n, B, "knn_init")  # noqa: E731
    past = lambda n, B: n * B > capacity  # noqa: E731
    lines = [
        f"C_t = {capacity}; means over seeds {', '.join(map(str, seeds))}; * marks the cells past C_t (n B > C_t).",
        "",
        *_matrix("K-NN gain over init:", ns, Bs, lambda n, B: gain(n, B).mean(), past),
        *_matrix(
            "Fit of the augmented items with their random labels, minus 1 (0: memorized):",
            ns,
            Bs,
            lambda n, B: value(n, B, "mem_aug").mean() - 1,
            past,
        ),
    ]
    n, low, high = ns[-1], Bs[0], Bs[-1]
    within = [(m, B) for m in ns for B in Bs if not past(m, B)]
    beyond = [(m, B) for m in ns for B in Bs if past(m, B)]
    ones = np.ones(len(seeds))
    claims = [  # (claim, kind, arm a, arm b), each arm per seed
        (f"n = {n}, B = {low}: K-NN < init", "less", value(n, low, "knn"), value(n, low, "knn_init")),
        (f"n = {n}, B = {high}: K-NN > init", "greater", value(n, high, "knn"), value(n, high, "knn_init")),
        (f"n = {n}: K-NN at B = {high} > at B = {low}", "greater", value(n, high, "knn"), value(n, low, "knn")),
    ]
    if within and beyond:
        claims.append(
            (
                "capacity argument: cells past C_t gain more over init than cells within it",
                "greater",
                np.mean([gain(*c) for c in beyond], axis=0),
                np.mean([gain(*c) for c in within], axis=0),
            )
        )
    if within:
        fit = np.mean([value(*c, "mem_aug") for c in within], axis=0)
        claims.append(("cells within C_t: augmented items fitted (fit = 1)", "absent", fit, ones))
    if past(ns[0], high):
        fit = value(ns[0], high, "mem_aug")
        claims.append((f"n = {ns[0]}, B = {high} (past C_t): augmented items fitted (fit = 1)", "absent", fit, ones))
    findings = [Finding(name, kind, tuple(a), tuple(b), MARGIN) for name, kind, a, b in claims]
    return {
        "fig13.cells": "\n".join(lines),
        "fig13.findings": VERDICT_RULE + "\n\n" + findings_table(judge(findings)),
    }
