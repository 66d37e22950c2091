"""A toy grid's rows read as results: means per (n, B) cell, the n B = C_t curve, the headline claims (numpy only)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["COLUMNS", "boundary", "capacity_cells", "headline", "read_grid", "summarize"]

COLUMNS = ["n", "B", "seed", "mem_aug", "mem_clean", "knn", "knn_init", "inv", "bias", "loss", "invariance", "seconds"]


def read_grid(path) -> list[dict]:
    """A grid.csv's rows, every column of COLUMNS checked (n, B, seed integers; the rest numbers)."""
    from bm.runs import read_csv_rows

    return read_csv_rows(path, integers=("n", "B", "seed"), numbers=tuple(COLUMNS[3:]))


def summarize(rows: list[dict]) -> dict[tuple[int, int], dict[str, float]]:
    """Mean over seeds of every numeric column, per (n, B)."""
    cells: dict[tuple[int, int], list[dict]] = {}
    for r in rows:
        cells.setdefault((int(r["n"]), int(r["B"])), []).append(r)
    return {
        key: {c: float(np.mean([float(r[c]) for r in group])) for c in COLUMNS if c not in ("n", "B", "seed")}
        for key, group in cells.items()
    }


def capacity_cells(rows: list[dict], capacity: int) -> list[tuple[int, int]]:
    """The (n, B) cells with n B below C_t."""
    return sorted({(int(r["n"]), int(r["B"])) for r in rows if int(r["n"]) * int(r["B"]) < capacity})


def boundary(ns: list[int], capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """The curve n B = C_t on a fine log grid of n."""
    n = np.geomspace(min(ns) / math.sqrt(2), max(ns) * math.sqrt(2), 200)
    return n, capacity / n


def headline(rows: list[dict], capacity: int) -> dict[str, float]:
    """The grid's claims in numbers (means over seeds): at the largest n, K-NN accuracy at the
    largest and smallest B and at init; the lowest memorization among cells with n B < C_t."""
    cells = summarize(rows)
    n = max(n for n, _ in cells)
    Bs = sorted(B for m, B in cells if m == n)
    below = [cells[c]["mem_aug"] for c in capacity_cells(rows, capacity)]
    return {
        "n": n,
        "B_max": Bs[-1],
        "knn_B_max": cells[(n, Bs[-1])]["knn"],
        "knn_B_min": cells[(n, Bs[0])]["knn"],
        "knn_init": cells[(n, Bs[-1])]["knn_init"],
        "min_mem_aug_below_capacity": min(below) if below else float("nan"),
        "capacity": capacity,
    }
