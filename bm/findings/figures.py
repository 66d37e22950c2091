"""The docs' figures of measured presets, drawn from the results alone (`draw`, run by `bm findings write`): each is
a function of one preset's committed record."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from bm.findings.phase import phase_cells, phase_table, pooled_times
from bm.findings.records import RESULTS, read_record
from bm.findings.tables import PROBE_NAMES
from bm.runs import RunFolder, read_csv_rows

__all__ = ["FIGURES", "draw"]


def _benign(record: dict, folder: Path, stem: Path) -> None:
    """The first seed's panel: its layer probes from the record, its augmented run's metrics from its records."""
    from bm.figures.presets import plot_benign_seed

    seed = record["seeds"][0]
    augmented = next(r for r in record["runs"] if "-none-" not in r and r.endswith(f"-seed{seed['seed']}"))
    plot_benign_seed(seed, RunFolder(folder.parent / "runs" / augmented).metrics(), stem)


def _toy_heatmap(record: dict, folder: Path, stem: Path) -> None:
    """Fig. 13's heatmap from the toy grid's committed grid.csv, its C_t and its config."""
    from bm.figures.heatmap import plot_heatmap
    from bm.toy.grid import load_grid_config
    from bm.toy.summary import read_grid

    plot_heatmap(read_grid(folder / "grid.csv"), int(record["capacity"]), stem, load_grid_config(folder))


def _phase_capacity(record: dict, folder: Path, stem: Path) -> None:
    """C_t's search per seed and the twins' fits (the phase table's finite cells with B > 1)."""
    from bm.figures.phase import plot_capacity

    twins = [
        (r["seed"], int(r["n"]) * int(r["B"]), float(r["twin_fit"]))
        for r in read_csv_rows(folder / "table.csv")
        if r["twin_fit"] not in ("", "None")
    ]
    plot_capacity({str(s): record["per_seed"][str(s)]["capacity"] for s in record["seeds"]}, twins, stem)


def _phase_diagram(record: dict, folder: Path, stem: Path) -> None:
    """The n x B diagram over seeds: memorized, the grid probe's gain with its verdict, views past capacity, C_t."""
    from bm.figures.phase import plot_diagram

    table = read_csv_rows(folder / "table.csv")
    measured = phase_cells(table, record)  # the grid probe chosen once, for the cells and their verdicts
    probe, _, cells = measured
    prefix = f"{PROBE_NAMES[probe]}: cell "
    verdicts = {
        r["finding"].removeprefix(prefix).split(":")[0]: r["verdict"]
        for r in phase_table(measured, table, record)[1]
        if r["finding"].startswith(prefix)
    }
    capacities = {str(s): record["per_seed"][str(s)]["capacity"] for s in record["seeds"]}
    heading = (
        f"Phase diagram of random-label runs over seeds {', '.join(map(str, record['seeds']))}: every cell "
        f"{table[0]['steps']} optimizer steps; the gain judged by the paired t-test, Holm over the cells"
    )
    plot_diagram(cells, verdicts, capacities, PROBE_NAMES[probe], heading, stem)


def _phase_transition(record: dict, folder: Path, stem: Path) -> None:
    """The crossings of every seed's online runs and the censored law of each, pooled over seeds."""
    from bm.analyses.transition import FULL_SCALE, TRANSITION_KEYS, fit_censored
    from bm.figures.phase import plot_transition

    times, batch = pooled_times(record)
    plot_transition(times, {k: fit_censored(times, k, FULL_SCALE, batch) for k in TRANSITION_KEYS}, FULL_SCALE, stem)


# docs file name -> (scale, preset, draw(record, the preset's results folder, stem) writing stem.png)
FIGURES: dict[str, tuple[str, str, Callable[[dict, Path, Path], None]]] = {
    "benign-mini.png": ("mini", "benign", _benign),
    "toy-grid-heatmap.png": ("mini", "fig13", _toy_heatmap),
    "phase-diagram.png": ("mini", "phase", _phase_diagram),
    "phase-capacity.png": ("mini", "phase", _phase_capacity),
    "phase-transition.png": ("mini", "phase", _phase_transition),
}


def draw(docs: Path, results: Path = RESULTS) -> list[Path]:
    """Redraw every figure of FIGURES whose preset has a record in `results` into the folder `docs`; returns them."""
    drawn = []
    for name, (scale, preset, figure) in FIGURES.items():
        record = Path(results) / scale / preset / "result.json"
        if record.is_file():
            with tempfile.TemporaryDirectory() as tmp:
                figure(read_record(record), record.parent, Path(tmp) / "figure")
                (Path(docs) / name).write_bytes((Path(tmp) / "figure.png").read_bytes())
            drawn.append(Path(docs) / name)
    return drawn
