"""`bm capacity toy|deep`: capacity C_t (Definition D.1) and the finite-augmentation B sweep (Fig. 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from bm.commands.common import THREADS, Command, Group, checked_threads, progress, with_jobs
from bm.deep.config import CAPACITY_FIXED, CapacitySweepConfig
from bm.errors import BMError
from bm.jobs import Jobs
from bm.options import config_options
from bm.toy.config import ToyGridConfig

app = typer.Typer(
    cls=Group, help="Capacity C_t (Definition D.1) and the finite-augmentation B sweep (Fig. 5).", no_args_is_help=True
)


def _echo_sweep(record: dict, folder: Path) -> None:
    typer.echo(f"C_t = {record['capacity']}; n = {record['n']}; K-NN at init {record['knn_init']:.3f}")
    for r in record["rows"]:
        typer.echo(
            f"B {r['B']:4d}  labels {'preserved' if r['preserve_labels'] else 'own      '}  n B {r['nB']:6d}  "
            f"memorization {r['memorization']:.3f}  knn {r['knn']:.3f}"
        )
    typer.echo(f"wrote {folder}/capacity.json, sweep.json, sweep.png, sweep.pdf")


SWEEP_TOY = ToyGridConfig(ns=(64,), seeds=(0, 1))  # capacity toy: the B sweep at one n


@app.command("toy", cls=Command)
@config_options(ToyGridConfig, named={"capacity toy": SWEEP_TOY})
def capacity_toy(
    changes: dict,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("runs/capacity-toy"),
    threads: Annotated[int, THREADS] = 0,
) -> None:
    """C_t of the toy model and memorization / K-NN against B at fixed n (labels preserved)."""
    from bm.configs import with_changes
    from bm.figures.sweep import plot_sweep
    from bm.toy.grid import run_grid, sweep_record

    config = with_changes(SWEEP_TOY, changes)
    if len(config.ns) != 1:
        raise BMError(f"the B sweep is at one n: give --ns N (got {','.join(map(str, config.ns))})")
    said = []
    with progress() as start:
        folder = run_grid(config, out, progress=start, threads=checked_threads(threads), log=said.append)
    typer.echo("\n".join(said))
    record = sweep_record(folder)
    plot_sweep(record, folder / "sweep")
    _echo_sweep(record, folder)


@app.command("deep", cls=Command)
@with_jobs
@config_options(CapacitySweepConfig, skip=CAPACITY_FIXED)
def capacity_deep(
    jobs: Optional[Jobs],
    changes: dict,
    out: Annotated[Path, typer.Option(help="Output folder (one run folder per fit under runs/).")] = Path(
        "runs/capacity-deep"
    ),
    config: Annotated[
        Optional[str],
        typer.Option(
            help="A CapacitySweepConfig JSON file or inline JSON (bm reproduce fig5 --print-commands); flags given with it override its fields."
        ),
    ] = None,
    download: Annotated[bool, typer.Option(help="Download the data set if missing (needs internet).")] = False,
) -> None:
    """C_t of a (small) deep model for a budget of t steps, then Fig. 5: memorization and K-NN against B at fixed n."""
    from bm.analyses.capacity import capacity_and_sweep
    from bm.configs import read_config, with_changes
    from bm.deep.config import IMAGE_SIZES
    from bm.deep.datasets import load_dataset
    from bm.figures.sweep import plot_sweep

    base = CapacitySweepConfig.from_json(read_config(config)) if config is not None else CapacitySweepConfig()
    if config is None and "train.model.image_size" not in changes:  # the data set's own image size
        changes["train.model.image_size"] = IMAGE_SIZES.get(changes.get("train.dataset", base.train.dataset), 32)
    cfg = with_changes(base, changes)
    t = cfg.train
    data = (
        load_dataset(t.dataset, Path(t.data_dir), "train", download),
        load_dataset(t.dataset, Path(t.data_dir), "test"),
    )
    record = capacity_and_sweep(cfg, data, out, jobs)
    plot_sweep(record, out / "sweep")
    _echo_sweep(record, out)
