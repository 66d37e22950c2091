"""Reproducing the paper and reading results: `bm reproduce`, `bm report`, `bm results`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from bm.commands.common import Command, progress, with_jobs
from bm.errors import BMError
from bm.jobs import Jobs
from bm.options import config_options
from bm.reproduce.options import ReproduceOptions

app = typer.Typer()


@app.command("reproduce", cls=Command)
@with_jobs
@config_options(ReproduceOptions, into="options", built=True)
def reproduce_cmd(
    jobs: Optional[Jobs],
    options: ReproduceOptions,
    name: Annotated[Optional[str], typer.Argument(metavar="NAME", help="Preset (see --list).")] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the presets, their runs and expected times, and exit.")
    ] = False,
    print_commands: Annotated[
        bool,
        typer.Option("--print-commands", help="Print one shell line per run (for a job scheduler) instead of running."),
    ] = False,
    status: Annotated[
        bool,
        typer.Option(
            "--status",
            help="Show each run's state (finished, running, failed, cut short, pending), then those of the runs its "
            "own jobs started (a C_t search's), and exit.",
        ),
    ] = False,
) -> None:
    """Regenerate a table or figure of the paper: train (or resume) its runs, skip finished ones, write its outputs."""
    from bm.reproduce import PRESETS, commands, make_plan, reproduce

    o = options
    if list_:
        from bm.reproduce.listing import listing

        typer.echo("\n".join(listing(o.data_dir, o.out)))
        return
    if name is None:
        raise BMError("give a preset name (bm reproduce --list shows them)")
    if status:
        from bm.reproduce import status as run_states

        rows = run_states(name, o.scale, o.data_dir, o.out, o.recipe, o.datasets, o.seeds)
        if not rows:
            typer.echo(f"{name}: no runs yet (its own job adds its runs as it starts them)")
            return
        width = max(len(r["run"]) for r in rows)
        for r in rows:
            typer.echo(f"{r['run']:{width}s}  {r['state']:9s}  {r['epochs']:>11s}  {r['error']}".rstrip())
        return
    device = o.chosen_device(print_commands)
    preset, plan = make_plan(name, o.scale, o.data_dir, o.out, device, o.datasets, o.recipe, o.seeds)  # checked first
    if print_commands:
        typer.echo("\n".join(commands(preset, plan)))
        return
    if jobs is not None and name in PRESETS and PRESETS[name].command is not None:
        raise BMError(
            f"{name} is one job of its own (bm reproduce {name} --print-commands shows it): run it without "
            "--launcher, or give that command --launcher"
        )
    with progress() as start:
        record = reproduce(
            name,
            o.scale,
            o.data_dir,
            o.out,
            device,
            o.datasets,
            o.download,
            progress=start,
            recipe=o.recipe,
            jobs=jobs,
            seeds=o.seeds,
            command=shlex.join(["bm", *sys.argv[1:]]),
        )
    if "submitted" in record:
        typer.echo(
            f"submitted {len(record['submitted'])} runs as SLURM job(s) {', '.join(record['submitted'])}; "
            f"bm reproduce {name} --status shows their state, bm reproduce {name} writes the outputs once done"
        )
        return
    typer.echo("\n".join(record["summary"]))
    typer.echo(f"wrote {record['folder']}/: " + ", ".join(record["outputs"]) + ", result.json")


@app.command("report", cls=Command)
def report_cmd(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="The --out of bm reproduce.")] = Path("runs/reproduce"),
) -> None:
    """Gather every finished preset under OUT into OUT/report.md (tables, figures, headline numbers)."""
    from bm.reproduce.report import report

    typer.echo(f"wrote {report(out)}")


@app.command("results", cls=Command)
def results_cmd(
    root: Annotated[
        Path, typer.Argument(metavar="ROOT", help="A folder holding run folders and toy grids, at any depth.")
    ],
    where: Annotated[
        Optional[str],
        typer.Option(
            help="Keep rows matching a pandas query, e.g. 'augment == \"ssl\" and `model.width` == 4' (dotted names in backticks)."
        ),
    ] = None,
    columns: Annotated[
        Optional[str],
        typer.Option(
            help="Comma-separated columns to show and write (default: the config columns that vary, then the main metrics)."
        ),
    ] = None,
    csv: Annotated[Optional[Path], typer.Option(help="Write the table as CSV.")] = None,
    parquet: Annotated[
        Optional[Path],
        typer.Option(
            help="Write the table as Parquet (needs the parquet extra: pip install 'benign-memorization[parquet]')."
        ),
    ] = None,
) -> None:
    """One row per deep run and per toy-grid cell under ROOT: config fields, epoch reached, last and best metrics."""
    from rich.console import Console
    from rich.table import Table

    from bm.results import collect, save_table, select

    frame = collect(root)
    if frame.empty:
        raise BMError(f"no runs under {root} (no run folder or toy grid with a config.json)")
    frame = select(frame, where, [c for c in columns.split(",") if c] if columns else None)
    for path, is_parquet in ((csv, False), (parquet, True)):
        if path is not None:
            save_table(frame, path, is_parquet)
            typer.echo(f"wrote {path} ({len(frame)} rows)")
    if csv is None and parquet is None:
        table = Table(show_lines=False)
        for c in frame.columns:
            table.add_column(c, overflow="fold")
        for _, row in frame.iterrows():
            table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
        Console(width=max(120, 14 * len(frame.columns))).print(table)
