"""`bm toy-grid`: the Appendix-E toy model over an n x B grid (Fig. 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from bm.commands.common import THREADS, Command, checked_threads, progress, with_jobs
from bm.errors import BMError
from bm.jobs import Jobs
from bm.options import config_options
from bm.toy.config import ToyGridConfig, ToyTrainConfig

app = typer.Typer()


QUICK = ToyGridConfig(
    ns=(8, 32, 128), Bs=(1, 8, 64), seeds=(0,), capacity_repeats=2, train=ToyTrainConfig(steps=600)
)  # --quick


@app.command("toy-grid", cls=Command)
@with_jobs
@config_options(ToyGridConfig)
def toy_grid(
    jobs: Optional[Jobs],
    changes: dict,
    out: Annotated[
        Optional[Path],
        typer.Option(
            help="Output folder (config.json, grid.csv, capacity.json, heatmap.png/.pdf); default runs/toy-grid, "
            "with --quick runs/toy-grid-quick."
        ),
    ] = None,
    config: Annotated[
        Optional[str],
        typer.Option(
            help="A config JSON file, a grid folder (its config.json) or inline JSON; flags given with it override its fields."
        ),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Small smoke grid: n=8,32,128, B=1,8,64, one seed, 600 steps, 2 capacity repeats (flags given win).",
        ),
    ] = False,
    threads: Annotated[int, THREADS] = 0,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Empty --out first if it holds a grid (any config).")
    ] = False,
    tensorboard: Annotated[
        bool,
        typer.Option(
            "--tensorboard",
            help="Also write TensorBoard event files, one run per cell under OUT/tensorboard (needs the tensorboard extra).",
        ),
    ] = False,
) -> None:
    """Train the Appendix-E toy model over an n x B grid and seeds: grid.csv, capacity.json, heatmap.

    Rerunning with the same arguments resumes; other arguments in the same --out are refused.
    """
    from bm.configs import read_config, with_changes
    from bm.figures.heatmap import grid_heatmap
    from bm.runs import read_json
    from bm.toy.grid import run_grid
    from bm.toy.summary import headline, read_grid

    if config is not None and quick:
        raise BMError("give --config or --quick, not both")
    base = ToyGridConfig.from_json(read_config(config)) if config is not None else QUICK if quick else ToyGridConfig()
    config = with_changes(base, changes)
    out = out or Path("runs/toy-grid-quick" if quick else "runs/toy-grid")
    said = []
    with progress() as start:
        folder = run_grid(
            config,
            out,
            progress=start,
            threads=checked_threads(threads),
            overwrite=overwrite,
            log=said.append,
            tensorboard=tensorboard,
            jobs=jobs,
        )
    typer.echo("\n".join(said))
    grid_heatmap(folder)
    h = headline(
        read_grid(folder / "grid.csv"), read_json(folder / "capacity.json", {"capacity": (int, float)})["capacity"]
    )
    typer.echo(
        f"C_t = {h['capacity']}; at n = {h['n']}: K-NN {h['knn_B_max']:.3f} with B = {h['B_max']}, "
        f"{h['knn_B_min']:.3f} without augmentation, {h['knn_init']:.3f} at init; "
        f"lowest memorization below C_t: {h['min_mem_aug_below_capacity']:.3f}"
    )
    typer.echo(f"wrote {folder}/grid.csv, capacity.json, heatmap.png, heatmap.pdf")
