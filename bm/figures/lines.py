"""Line plots of a preset's sweep (Figs. 7, 8, 11, 12): one line per series, reference levels."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bm.figures import plt, save_figure

__all__ = ["plot_lines"]


def plot_lines(
    stem: Path,
    series: dict[str, tuple[Sequence, Sequence]],
    xlabel: str,
    ylabel: str,
    title: str,
    hlines: dict[str, float] | None = None,
    xscale: str = "linear",
    ylim=(0, 1.02),
) -> None:
    """One line per series (x values may be strings: categorical), dashed reference levels; PNG + PDF."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
    for i, (label, (xs, ys)) in enumerate(series.items()):
        ax.plot(
            [str(x) for x in xs] if any(isinstance(x, str) for x in xs) else xs,
            ys,
            marker="o",
            color=f"C{i}",
            label=label,
        )
    for j, (label, y) in enumerate((hlines or {}).items()):
        ax.axhline(y, ls="--", color=f"C{len(series) + j}", label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xscale=xscale, ylim=ylim)
    ax.legend(fontsize=7)
    save_figure(fig, stem)
