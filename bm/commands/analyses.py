"""The analyses of a finished run: `bm probe`, `bm geometry`, `bm rewind` (computed by bm.analyses, drawn and written
here with bm.figures)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from bm.analyses.config import GeometryConfig, GradientsConfig, ProbeConfig, RewindConfig
from bm.commands.common import Command
from bm.errors import BMError
from bm.options import config_options, int_list

app = typer.Typer()


@app.command("probe", cls=Command)
@config_options(ProbeConfig, into="options", built=True)
def probe(
    options: ProbeConfig,
    run: Annotated[
        Optional[Path],
        typer.Argument(
            metavar="RUN",
            help="A deep run folder, or a checkpoint file inside one; probe.json, probe.png and probe.pdf are written into the run folder.",
        ),
    ] = None,
    list_layers: Annotated[
        bool, typer.Option("--list-layers", help="Print the probe-able layer names and exit.")
    ] = False,
) -> None:
    """Per-layer K-NN (and linear) probing of a deep run: probe.json and a plot in the style of Figure 3."""
    from dataclasses import asdict

    from bm.analyses.probing import load_run, probe_layers
    from bm.deep.config import ModelConfig
    from bm.deep.models import Network
    from bm.figures.probe import write_probe
    from bm.runs import lock_folder

    if list_layers:
        cfg = load_run(run)[1].model if run is not None else ModelConfig(projector_width=1)
        typer.echo(" ".join(Network(cfg).layer_names))
        return
    if run is None:
        raise BMError("give a run folder or checkpoint (or --list-layers)")
    lock_folder(load_run(run)[0].path)  # before the work: one writer of this folder at a time
    record = probe_layers(run, **asdict(options))
    write_probe(record, Path(record["run"]))
    for which, per_layer in record["results"].items():
        for name, row in per_layer.items():
            typer.echo(f"{which:8s} {name:22s} " + "  ".join(f"{key} {val:.3f}" for key, val in row.items()))
    typer.echo(f"wrote {Path(record['run']) / 'probe.json'}, probe.png, probe.pdf")


@app.command("geometry", cls=Command)
@config_options(GeometryConfig, into="options", built=True)
def geometry(
    options: GeometryConfig,
    run: Annotated[
        Path,
        typer.Argument(
            metavar="RUN",
            help="A deep run folder or a toy-grid folder; geometry*.json, .png and .pdf are written into it.",
        ),
    ],
) -> None:
    """Manifold capacity, radius and dimension (MFTMA) per layer and epoch: geometry.json and a plot."""

    from bm.figures.geometry import write_geometry
    from bm.probe.manifolds import geometry_lines
    from bm.runs import RunFolder, lock_folder

    o = options
    if not run.is_dir():
        raise BMError(f"{run} is not a folder; give a deep run folder or a toy-grid folder")
    if RunFolder(run).is_deep_run():
        from bm.analyses.geometry import run_geometry

        lock_folder(run)  # before the work: one writer of this folder at a time
        record = run_geometry(run, list(o.layers) or None, list(o.epochs) or None, o.project_dim, o.device, o.mftma)
        stem, title = (
            Path(record["run"]) / "geometry",
            f"{Path(record['run']).name}: MFTMA per layer (epochs by colour)",
        )
    else:
        from bm.analyses.geometry import toy_geometry
        from bm.toy.grid import load_grid_config

        if o.layers or o.epochs:
            raise BMError(
                "--layers and --epochs apply to deep runs; a toy cell always gives input, embedding and "
                "output at init and after training"
            )
        load_grid_config(run)  # a toy-grid folder, or one error before anything is written
        lock_folder(run)
        record = toy_geometry(run, *(o.cell or (None, None)), o.seed, o.mftma)
        c = record["cell"]
        stem, title = (
            run / f"geometry_n{c['n']}_B{c['B']}_s{c['seed']}",
            f"toy n={c['n']} B={c['B']} seed={c['seed']}: MFTMA per layer",
        )
    write_geometry(record, stem, title)
    typer.echo("\n".join(geometry_lines(record)))
    typer.echo(f"wrote {stem}.json, {stem.name}.png, {stem.name}.pdf")


@app.command("rewind", cls=Command)
@config_options(RewindConfig, into="options", built=True)
def rewind_cmd(
    options: RewindConfig,
    run: Annotated[
        Path,
        typer.Argument(
            metavar="RUN",
            help="A deep run folder; rewind.json, rewind.png and rewind.pdf are written into it. Epoch 0 (init) and the last epoch need nothing more; other epochs need the run trained with --snapshots.",
        ),
    ],
    to_epoch: Annotated[
        str,
        typer.Option(
            help="Comma-separated epochs E to rewind to (0 = init, always available; others: the run's --snapshots)."
        ),
    ],
) -> None:
    """Layer rewinding (Stephenson et al.): last k layers from epoch E, the rest from the end; rewind.json and a plot."""
    from bm.analyses.probing import load_run
    from bm.analyses.rewind import rewind, rewind_lines
    from bm.figures.rewind import write_rewind
    from bm.runs import lock_folder

    lock_folder(load_run(run)[0].path)  # before the work: one writer of this folder at a time
    record = rewind(run, list(int_list(to_epoch, "to-epoch")), list(options.layers), options.k, options.device)
    write_rewind(record, Path(record["run"]) / "rewind")
    typer.echo("\n".join(rewind_lines(record)))
    typer.echo(f"wrote {run / 'rewind.json'}, rewind.png, rewind.pdf")


@app.command("gradients", cls=Command)
@config_options(GradientsConfig, into="options", built=True)
def gradients_cmd(
    options: GradientsConfig,
    run: Annotated[
        Path,
        typer.Argument(
            metavar="RUN",
            help="A deep run folder trained with random labels on part of its images (--label-noise below 1); gradients.json, gradients.png and gradients.pdf are written into it. Train with --snapshots to see the early epochs.",
        ),
    ],
) -> None:
    """The permuted examples' gradient against the others' per layer and epoch (Stephenson et al.): gradients.json and a plot."""
    from bm.analyses.gradients import gradient_lines, permuted_gradients
    from bm.analyses.probing import load_run
    from bm.figures.rewind import write_gradients
    from bm.runs import lock_folder

    folder = load_run(run)[0].path
    lock_folder(folder)  # before the work: one writer of this folder at a time
    record = permuted_gradients(run, list(options.epochs) or None, options.device)
    write_gradients(record, folder / "gradients")
    typer.echo("\n".join(gradient_lines(record)))
    typer.echo(f"wrote {folder / 'gradients.json'}, gradients.png, gradients.pdf")
