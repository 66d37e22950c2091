"""The docs' figures of measured presets, drawn from the results alone (`draw`, run by `bm findings write`): each is
a function of one preset's committed record."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from bm.findings.records import RESULTS, read_record
from bm.runs import RunFolder

__all__ = ["FIGURES", "draw"]


def _benign(record: dict, runs: Path, stem: Path) -> None:
    """The first seed's panel: its layer probes from the record, its augmented run's metrics from its records."""
    from bm.figures.presets import plot_benign_seed

    seed = record["seeds"][0]
    augmented = next(r for r in record["runs"] if "-none-" not in r and r.endswith(f"-seed{seed['seed']}"))
    plot_benign_seed(seed, RunFolder(runs / augmented).metrics(), stem)


# docs file name -> (scale, preset, draw(record, the scale's run records, stem) writing stem.png)
FIGURES: dict[str, tuple[str, str, Callable[[dict, Path, Path], None]]] = {
    "benign-mini.png": ("mini", "benign", _benign)
}


def draw(docs: Path, results: Path = RESULTS) -> list[Path]:
    """Redraw every figure of FIGURES whose preset has a record in `results` into the folder `docs`; returns them."""
    drawn = []
    for name, (scale, preset, figure) in FIGURES.items():
        record = Path(results) / scale / preset / "result.json"
        if record.is_file():
            with tempfile.TemporaryDirectory() as tmp:
                figure(read_record(record), Path(results) / scale / "runs", Path(tmp) / "figure")
                (Path(docs) / name).write_bytes((Path(tmp) / "figure.png").read_bytes())
            drawn.append(Path(docs) / name)
    return drawn
