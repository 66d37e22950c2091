"""Figure files: every figure is written as PNG and PDF beside each other, then closed."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["save_figure"]


def save_figure(fig, stem: Path | str, dpi: int = 110) -> list[Path]:
    """Write STEM.png and STEM.pdf, close the figure; returns the two paths."""
    paths = [Path(f"{stem}.png"), Path(f"{stem}.pdf")]
    for p in paths:
        fig.savefig(p, dpi=dpi)
    plt.close(fig)
    return paths
