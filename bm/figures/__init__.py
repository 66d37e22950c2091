"""Every figure of bm, one module per figure (they draw records the library computed), and the figure files: each
written as PNG and PDF beside each other, then closed. The one place matplotlib's backend is chosen (Agg: files,
no display); the figure modules take `plt` from here."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bm.errors import BMError  # noqa: E402

__all__ = ["plt", "save_figure"]


def save_figure(fig, stem: Path | str, dpi: int = 110) -> list[Path]:
    """Write STEM.png and STEM.pdf (each whole or not at all), close the figure; returns the two paths. A path
    that cannot be written is one BMError naming it."""
    paths = [Path(f"{stem}.png"), Path(f"{stem}.pdf")]
    try:
        for p in paths:
            tmp = p.with_name(f".{p.name}.tmp")
            try:
                fig.savefig(tmp, dpi=dpi, format=p.suffix[1:])
                os.replace(tmp, p)
            except OSError as e:
                tmp.unlink(missing_ok=True)
                raise BMError(f"cannot write {p}: {e.strerror or e}") from None
    finally:
        plt.close(fig)
    return paths
