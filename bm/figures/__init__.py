"""Every figure of bm, one module per figure (they draw records the library computed), and the figure files: each
written as PNG and PDF beside each other, then closed. The one place matplotlib's backend is chosen (Agg: files,
no display); the figure modules take `plt` from here."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bm.runs import atomic_write  # noqa: E402

__all__ = ["plt", "save_figure"]


def save_figure(fig, stem: Path | str, dpi: int = 110) -> list[Path]:
    """Write STEM.png and STEM.pdf (each whole or not at all), close the figure; returns the two paths. A path
    that cannot be written is one BMError naming it."""
    paths = [Path(f"{stem}.png"), Path(f"{stem}.pdf")]
    try:
        for p in paths:  # a fresh temporary file each (never through a link), renamed over p
            atomic_write(p, lambda f, fmt=p.suffix[1:]: fig.savefig(f, dpi=dpi, format=fmt))
    finally:
        plt.close(fig)
    return paths
