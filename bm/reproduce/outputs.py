"""What a finished preset leaves: its numbers as CSV and Markdown, line figures as PNG + PDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bm.plotting import save_figure  # noqa: E402
from bm.runs import atomic_write_text, write_csv_rows  # noqa: E402

__all__ = ["Result", "markdown_table", "plot_lines", "save"]


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


def save(result: Result, folder: Path) -> list[str]:
    """Write table.csv and table.md into `folder`; returns every output file name (figures included)."""
    write_csv_rows(folder / "table.csv", result.rows, result.columns)
    table = result.table or markdown_table(result.columns, [[r.get(c) for c in result.columns] for r in result.rows])
    atomic_write_text(folder / "table.md", table)
    return ["table.csv", "table.md"] + [f"{stem}.{ext}" for stem in result.figures for ext in ("png", "pdf")]


def plot_lines(stem: Path, series: dict[str, tuple[Sequence, Sequence]], xlabel: str, ylabel: str, title: str,
               hlines: dict[str, float] | None = None, xscale: str = "linear", ylim=(0, 1.02)) -> None:
    """One line per series (x values may be strings: categorical), dashed reference levels; PNG + PDF."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
    for i, (label, (xs, ys)) in enumerate(series.items()):
        ax.plot([str(x) for x in xs] if any(isinstance(x, str) for x in xs) else xs, ys, marker="o", color=f"C{i}",
                label=label)
    for j, (label, y) in enumerate((hlines or {}).items()):
        ax.axhline(y, ls="--", color=f"C{len(series) + j}", label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xscale=xscale, ylim=ylim)
    ax.legend(fontsize=7)
    save_figure(fig, stem)
