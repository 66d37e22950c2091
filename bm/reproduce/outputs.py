"""What a finished preset leaves: its numbers as CSV and Markdown, line figures as PNG + PDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bm.errors import BMError
from bm.runs import atomic_write_text, write_csv_rows

__all__ = ["Result", "markdown_table", "over_seeds", "save"]


@dataclass
class Result:
    """rows/columns: the preset's numbers (table.csv); summary: headline lines; figures: stems written;
    table: a Markdown table laid out like the paper's (default: the rows as they are); extra: fields added
    to result.json as they are."""

    rows: list[dict]
    columns: list[str]
    summary: list[str]
    figures: list[str] = field(default_factory=list)
    table: str | None = None
    extra: dict = field(default_factory=dict)


def fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _number(value) -> bool:
    """A value averaged over seeds: a number, or a yes / no (its mean: the share of seeds where it holds)."""
    return isinstance(value, (int, float))


def over_seeds(per_seed: dict[int, Result]) -> Result:
    """One preset's results for several seeds as one: table.csv holds every seed's rows (a `seed` column first), the
    table and the summary the mean +- std (numpy's std, ddof 0) of every numeric or yes / no column over the seeds (a
    yes / no column's mean: the share of seeds where it holds), row by row.
    Rows are matched by position; their other columns must agree (the same preset at another seed). A number that is
    missing in some seed (a run that never memorized: None) is averaged over the seeds that have it, their count shown.
    Each seed's own outputs live in seed<k>/, listed under figures; each seed's extra fields under per_seed."""
    seeds = list(per_seed)
    first = per_seed[seeds[0]]
    for seed in seeds[1:]:
        other = per_seed[seed]
        if other.columns != first.columns or len(other.rows) != len(first.rows):
            raise BMError(f"seed {seed}'s rows do not match seed {seeds[0]}'s")
    mean_rows, std_rows, text_rows = [], [], []
    summary = [f"{len(seeds)} seeds ({', '.join(map(str, seeds))}): mean +- std"]
    for i, row in enumerate(first.rows):
        mean, std, text = {}, {}, {}
        for c in first.columns:
            values = [per_seed[s].rows[i].get(c) for s in seeds]
            numbers = [v for v in values if _number(v)]
            if numbers and (len(set(numbers)) > 1 or len(numbers) < len(values)):
                mean[c], std[c] = float(np.mean(numbers)), float(np.std(numbers))
                text[c] = f"{mean[c]:.3f} +- {std[c]:.3f}" + (
                    f" ({len(numbers)} of {len(values)})" if len(numbers) < len(values) else ""
                )
            elif any(v != values[0] for v in values):
                raise BMError(f"row {i} column {c}: the seeds disagree ({values}), so rows cannot be matched")
            else:
                mean[c] = text[c] = values[0]
        mean_rows.append(mean)
        std_rows.append(std)
        text_rows.append(text)
        keys = ", ".join(f"{c} {fmt(row[c])}" for c in first.columns if c not in std and row.get(c) is not None)
        summary.append(f"{keys or f'row {i}'}: " + "; ".join(f"{c} {text[c]}" for c in std))
    for seed in seeds:
        summary += [f"seed {seed}: {line}" for line in per_seed[seed].summary]
    rows = [{"seed": seed, **r} for seed in seeds for r in per_seed[seed].rows]
    table = markdown_table(first.columns, [[t[c] for c in first.columns] for t in text_rows])
    extra = {
        "seeds": seeds,
        "mean": mean_rows,
        "std": std_rows,
        "per_seed": {str(seed): per_seed[seed].extra for seed in seeds if per_seed[seed].extra},
    }
    figures = [f"seed{seed}/{stem}" for seed in seeds for stem in per_seed[seed].figures]
    return Result(rows, ["seed", *first.columns], summary, figures, table=table, extra=extra)


def save(result: Result, folder: Path) -> list[str]:
    """Write table.csv and table.md into `folder`; returns every output file name (figures included)."""
    write_csv_rows(folder / "table.csv", result.rows, result.columns)
    table = result.table or markdown_table(result.columns, [[r.get(c) for c in result.columns] for r in result.rows])
    atomic_write_text(folder / "table.md", table)
    return ["table.csv", "table.md"] + [f"{stem}.{ext}" for stem in result.figures for ext in ("png", "pdf")]
