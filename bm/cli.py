"""The `bm` command line: thin wrappers over library code.

Library errors (BMError) and bad arguments end as one line on stderr and exit code 2.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.core

from bm import __version__
from bm.errors import BMError
from bm.deep.config import CAPACITY_FIXED, CapacitySweepConfig, DeepTrainConfig
from bm.jobs import Jobs
from bm.options import config_options, int_list
from bm.plugins import load_plugins
from bm.reproduce.plan import NAMED, named_config
from bm.reproduce.scales import RECIPES
from bm.toy.config import ToyGridConfig, ToyTrainConfig

app = typer.Typer(
    name="bm",
    help="Benign memorization toolkit: theory, probes and the toy model of Anagnostidis et al. (ICLR 2023).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


NAMED_CONFIGS = {name: named_config(name) for name in NAMED}  # deep-train's bases, whose defaults its help shows
RECIPE_HELP = "; ".join(f"{r.name} = {r.source}" for r in RECIPES.values()) + " (default table6)."


class _Command(typer.core.TyperCommand):
    """Every bm command's class. Usage lines in the POSIX convention: RUN for a required argument, [RUN] for an
    optional one (typer writes {RUN} for the first)."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
) -> None:
    """Benign memorization toolkit."""


@contextmanager
def _progress():
    """A rich progress bar; yields `start(label, total) -> advance(k)`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=False) as bar:

        def start(label: str, total: int):
            for earlier in bar.tasks:  # a new stage ends the one before
                bar.update(earlier.id, total=earlier.completed)
                bar.stop_task(earlier.id)
            task = bar.add_task(label, total=total or None)
            return lambda k: bar.advance(task, k)

        yield start


def _with_jobs(command):
    """Give `command` the options of bm.jobs.Jobs (--launcher, --max-parallel, --slurm-*), as its `jobs` (None: no
    launcher), checked before anything is written (--slurm-* only with --launcher slurm)."""

    def jobs(given: dict) -> Jobs | None:
        from bm.configs import with_changes

        if given.get("launcher") != "slurm" and any(k.startswith("slurm.") for k in given):
            raise BMError("--slurm-* options apply to --launcher slurm")
        chosen = with_changes(Jobs(), given)
        return None if chosen.launcher is None else chosen

    return config_options(Jobs, into="jobs")(_converted(command, "jobs", jobs))


def _converted(command, name: str, convert):
    """`command` whose keyword argument `name` is convert(value) when it runs."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        kwargs[name] = convert(kwargs[name])
        return command(*args, **kwargs)

    return run


THREADS = typer.Option(help="CPU threads of the toy trainer (0: the faster of 1 and torch's default, timed on 40 "
                                "steps of this grid; results do not depend on it).")


def _threads(requested: int) -> int:
    if requested < 0:
        raise BMError(f"--threads must be >= 0 (0: chosen by timing); got {requested}")
    return requested


QUICK = ToyGridConfig(ns=(8, 32, 128), Bs=(1, 8, 64), seeds=(0,), capacity_repeats=2, train=ToyTrainConfig(steps=600))  # --quick

@app.command("toy-grid", cls=_Command)
@_with_jobs
@config_options(ToyGridConfig)
def toy_grid(
    jobs: Optional[Jobs],
    changes: dict,
    out: Annotated[Path, typer.Option(help="Output folder (config.json, grid.csv, capacity.json, heatmap.png/.pdf).")] = Path("runs/toy-grid"),
    config: Annotated[Optional[str], typer.Option(help="A config JSON file, a grid folder (its config.json) or inline JSON; flags given with it override its fields.")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Small smoke grid: n=8,32,128, B=1,8,64, one seed, 600 steps, 2 capacity repeats (flags given win).")] = False,
    threads: Annotated[int, THREADS] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Empty --out first if it holds a grid (any config).")] = False,
    tensorboard: Annotated[bool, typer.Option("--tensorboard", help="Also write TensorBoard event files, one run per cell under OUT/tensorboard (needs the tensorboard extra).")] = False,
) -> None:
    """Train the Appendix-E toy model over an n x B grid and seeds: grid.csv, capacity.json, heatmap.

    Rerunning with the same arguments resumes; other arguments in the same --out are refused.
    """
    from bm.configs import read_config, with_changes
    from bm.runs import read_csv_rows
    from bm.toy.grid import run_grid
    from bm.toy.summary import headline

    if config is not None and quick:
        raise BMError("give --config or --quick, not both")
    base = ToyGridConfig.from_json(read_config(config)) if config is not None else QUICK if quick else ToyGridConfig()
    config = with_changes(base, changes)
    said = []
    with _progress() as start:
        folder = run_grid(config, out, progress=start, threads=_threads(threads), overwrite=overwrite, log=said.append,
                          tensorboard=tensorboard, jobs=jobs)
    typer.echo("\n".join(said))
    h = headline(read_csv_rows(folder / "grid.csv"), json.loads((folder / "capacity.json").read_text())["capacity"])
    typer.echo(f"C_t = {h['capacity']}; at n = {h['n']}: K-NN {h['knn_B_max']:.3f} with B = {h['B_max']}, "
               f"{h['knn_B_min']:.3f} without augmentation, {h['knn_init']:.3f} at init; "
               f"lowest memorization below C_t: {h['min_mem_aug_below_capacity']:.3f}")
    typer.echo(f"wrote {folder}/grid.csv, capacity.json, heatmap.png, heatmap.pdf")


MAX_PANELS = 64  # a rows x cols figure of 64 x 64 panels is already 83 x 93 inches


@app.command("augment-grid", cls=_Command)
def augment_grid(
    data_dir: Annotated[Path, typer.Option(help="Folder holding the data set's official folder.")] = Path("data"),
    dataset: Annotated[str, typer.Option(help="cifar10, cifar100, stl10 or tinyimagenet.")] = "cifar10",
    out: Annotated[Path, typer.Option(help="Output stem: writes OUT.png and OUT.pdf.")] = Path("augmentations"),
    rows: Annotated[int, typer.Option(help=f"Rows: the originals, then rows - 1 views (at most {MAX_PANELS}).")] = 4,
    cols: Annotated[int, typer.Option(help=f"Images, one column each (at most {MAX_PANELS}).")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the finite augmentation set.")] = 0,
    download: Annotated[bool, typer.Option(help="Download the data set if it is missing (needs internet).")] = False,
) -> None:
    """Save a grid of SSL-augmented views of real images beside the originals."""
    from bm.deep.datasets import load_dataset
    from bm.deep.figures import augmentation_grid

    if not (1 <= rows <= MAX_PANELS and 1 <= cols <= MAX_PANELS):
        raise BMError(f"--rows and --cols must lie in [1, {MAX_PANELS}] (one figure panel each); got {rows}, {cols}")
    if not out.parent.is_dir():
        raise BMError(f"folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise BMError(f"folder {out.parent} is not writable")
    paths = augmentation_grid(load_dataset(dataset, data_dir, "train", download), out, rows, cols, seed)
    typer.echo("wrote " + ", ".join(map(str, paths)))


def _deep_config(changes: dict, preset: str | None, recipe: str | None, config: str | None):
    """The run's DeepTrainConfig: a --config file (or inline JSON) or a named config (--preset / --recipe, default
    paper), then every flag given on the command line over it."""
    from bm.configs import read_config, with_changes
    from bm.deep.config import IMAGE_SIZES

    if sum(x is not None for x in (preset, recipe, config)) > 1:
        raise BMError("give one of --preset, --recipe and --config")
    import bm.deep.config  # looked up when called: the class a run's config is read as

    base = (bm.deep.config.DeepTrainConfig.from_json(read_config(config)) if config is not None
            else named_config(recipe or preset or "paper"))
    if config is None and "model.image_size" not in changes:  # a named config follows the data set's own image size
        changes["model.image_size"] = IMAGE_SIZES.get(changes.get("dataset", base.dataset), 32)
    return with_changes(base, changes)


@app.command("deep-train", cls=_Command)
@config_options(DeepTrainConfig, named=NAMED_CONFIGS)
def deep_train(
    changes: dict,
    out: Annotated[Path, typer.Option(help="Run folder.")] = Path("runs/deep"),
    config: Annotated[Optional[str], typer.Option(help="A config JSON file, a run folder (its config.json) or inline JSON; flags given with it override its fields.")] = None,
    preset: Annotated[Optional[str], typer.Option(help="A named config: paper (Table 6, CIFAR-10; the default), smoke (tiny model and subset, minutes on a CPU), table6 or released (the full-scale recipes' random-label DA run); flags given with it override it.")] = None,
    recipe: Annotated[Optional[str], typer.Option(help="The same as --preset for a full-scale recipe: " + RECIPE_HELP)] = None,
    download: Annotated[bool, typer.Option(help="Download the data set if missing (needs internet).")] = False,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out from its checkpoint.")] = False,
    skip_finished: Annotated[bool, typer.Option("--skip-finished", help="Leave a finished run in --out as it is, resume one cut short, else start (for job schedulers).")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Empty --out first if it holds a run (any config).")] = False,
    tensorboard: Annotated[bool, typer.Option("--tensorboard", help="Also write TensorBoard event files beside metrics.jsonl (tags Loss/train, Misc/knn_acc as the released code; needs the tensorboard extra).")] = False,
) -> None:
    """Train an encoder + projector on (random) labels with augmentation, writing a run folder.

    The config is a named one (--preset / --recipe) or a file (--config); flags given on the command line override
    its fields; the defaults shown are those of the named configs.
    """
    from bm.deep.datasets import load_dataset
    from bm.deep.train import train, train_or_resume

    if overwrite and (resume or skip_finished):
        raise BMError("--overwrite empties the run folder; it cannot be combined with --resume or --skip-finished")
    cfg = _deep_config(changes, preset, recipe, config)
    data = (load_dataset(cfg.dataset, Path(cfg.data_dir), "train", download), load_dataset(cfg.dataset, Path(cfg.data_dir), "test"))

    def report(row: dict) -> None:
        acc = f"  train acc {row['train_acc']:.3f}" if "train_acc" in row else ""
        extra = f"  knn {row['knn']:.3f}  inv {row['inv']:.4f}  bias {row['bias']:.4f}" if "knn" in row else ""
        typer.echo(f"epoch {row['epoch']:5d}  loss {row['loss']:.4f}{acc}  {row['img_per_s']:.0f} img/s{extra}")

    if skip_finished:
        folder = train_or_resume(cfg, out, data=data, on_epoch=report, tensorboard=tensorboard)
    else:
        folder = train(cfg, out, resume=resume, data=data, on_epoch=report, overwrite=overwrite, tensorboard=tensorboard)
    typer.echo(f"wrote {folder}/metrics.jsonl, checkpoint.pt")


@app.command("convert-run", cls=_Command)
def convert_run(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="A run folder whose .pt files bm refuses to load.")],
    trust: Annotated[bool, typer.Option("--trust", help="I trust this folder's source: unpickle its .pt files fully (which runs any code they hold) and rewrite them as data only.")] = False,
) -> None:
    """Rewrite a run folder's .pt files so that they load with weights_only=True (tensors, dicts, numbers, strings).

    bm reads run files only that way; a folder written by other code (numpy arrays, pickled objects) is refused.
    This command unpickles such files fully, so it asks for --trust, and then writes them back as data only.
    """
    from bm.errors import RunFolderError
    from bm.runs import convert_saved, lock_folder

    if not trust:
        raise BMError("convert-run unpickles every .pt file of RUN fully, which runs any code they hold; pass --trust "
                      "only for a folder whose source you trust")
    if not run.is_dir():
        raise RunFolderError(f"{run} is not a folder")
    lock_folder(run)
    files = sorted(run.glob("*.pt"))
    changed = [p.name for p in files if convert_saved(p)]
    typer.echo(f"converted {', '.join(changed)}" if changed else f"all {len(files)} .pt files of {run} already load safely")


@app.command("probe", cls=_Command)
def probe(
    run: Annotated[Optional[Path], typer.Argument(metavar="RUN", help="A deep run folder, or a checkpoint file inside one; probe.json, probe.png and probe.pdf are written into the run folder.")] = None,
    layers: Annotated[str, typer.Option(help="Comma-separated layer names (default: all; see --list-layers).")] = "",
    fit: Annotated[str, typer.Option(help="Comma-separated probes (bm.deep.probing.PROBES): clean (K-NN, true labels, test accuracy), random (K-NN, the run's labels, leave-one-out train accuracy), linear (linear probe, true labels).")] = "clean,random",
    k: Annotated[str, typer.Option(help="K-NN neighbours; several (e.g. 10,20,200) share one neighbour search and add top-1 / top-5 accuracies per k.")] = "20",
    linear: Annotated[bool, typer.Option("--linear", help="Also fit a linear probe on clean labels.")] = False,
    init: Annotated[bool, typer.Option("--init", help="Also probe the run's initial weights.")] = False,
    pool: Annotated[bool, typer.Option("--pool", help="Global-average-pool convolutional maps instead of flattening them.")] = False,
    sketch: Annotated[int, typer.Option(help="Send flattened layers wider than K through a fixed Gaussian projection to K dimensions (a Johnson-Lindenstrauss sketch; 0: none).")] = 0,
    transfer: Annotated[Optional[str], typer.Option(help="Also probe the embedding on this data set (e.g. cifar100, stl10).")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: the run's).")] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
    list_layers: Annotated[bool, typer.Option("--list-layers", help="Print the probe-able layer names and exit.")] = False,
    dump_features: Annotated[Optional[Path], typer.Option(help="Also save the probed features (train and test, per layer) to this file.")] = None,
    features: Annotated[Optional[Path], typer.Option(help="Probe the features a --dump-features file holds for this run instead of embedding the images again.")] = None,
) -> None:
    """Per-layer K-NN (and linear) probing of a deep run: probe.json and a Fig. 3-style plot."""
    from bm.deep.config import ModelConfig
    from bm.deep.models import Network
    from bm.deep.probing import load_run, probe_run

    if list_layers:
        cfg = load_run(run)[1].model if run is not None else ModelConfig(projector_width=1)
        typer.echo(" ".join(Network(cfg).layer_names))
        return
    if run is None:
        raise BMError("give a run folder or checkpoint (or --list-layers)")
    record = probe_run(run, layers=[n for n in layers.split(",") if n] or None, fits=tuple(f for f in fit.split(",") if f),
                       k=int_list(k, "k"), linear=linear, init=init, pool=pool, sketch=sketch, transfer=transfer,
                       data_dir=data_dir,
                       device=device, features=features, dump_features=dump_features)
    for which, per_layer in record["results"].items():
        for name, row in per_layer.items():
            typer.echo(f"{which:8s} {name:22s} " + "  ".join(f"{key} {val:.3f}" for key, val in row.items()))
    typer.echo(f"wrote {Path(record['run']) / 'probe.json'}, probe.png, probe.pdf")


def _csv(text: str, name: str) -> list[int] | None:
    return list(int_list(text, name)) if text else None


@app.command("geometry", cls=_Command)
def geometry(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="A deep run folder or a toy-grid folder; geometry*.json, .png and .pdf are written into it.")],
    layers: Annotated[str, typer.Option(help="Comma-separated layers (deep: see bm probe --list-layers; default all).")] = "",
    epochs: Annotated[str, typer.Option(help="Deep: comma-separated epochs with weights (0 = init, snapshots, the last); default all.")] = "",
    classes: Annotated[str, typer.Option(help="Comma-separated classes whose manifolds are analysed (default all).")] = "",
    samples_per_class: Annotated[int, typer.Option(help="M: points per manifold.")] = 50,
    n_t: Annotated[int, typer.Option(help="Gaussian samples t per manifold.")] = 200,
    kappa: Annotated[float, typer.Option(help="Margin kappa.")] = 0.0,
    reps: Annotated[int, typer.Option(help="Random starts per rank of the centre-correlation fit.")] = 10,
    max_rank: Annotated[Optional[int], typer.Option(help="Cap on the removed centre-correlation rank K (default: the reference rule).")] = None,
    min_rank: Annotated[int, typer.Option(help="Smallest removed rank K: 1 as the reference (checked against LP simulation for P >= 7; docs/mftma-small-p.md), 0 lets the fit remove nothing.")] = 1,
    project_dim: Annotated[int, typer.Option(help="Deep: random-project wider layers to this many dimensions (0: never).")] = 5000,
    cell: Annotated[str, typer.Option(help="Toy: the grid cell 'n,B' (default: largest n and B).")] = "",
    seed: Annotated[Optional[int], typer.Option(help="Toy: the grid seed (default: the first).")] = None,
    device: Annotated[str, typer.Option(help="Deep: cpu, cuda or cuda:N.")] = "cpu",
) -> None:
    """Manifold capacity, radius and dimension (MFTMA) per layer and epoch: geometry.json and a plot."""
    if samples_per_class < 2 or n_t < 1 or reps < 1:
        raise BMError("--samples-per-class must be >= 2, --n-t and --reps >= 1")
    mftma = dict(classes=_csv(classes, "classes"), per_class=samples_per_class, n_t=n_t, kappa=kappa, n_reps=reps,
                 max_rank=max_rank, min_rank=min_rank)
    from bm.probe.manifolds import write_geometry
    from bm.runs import RunFolder, lock_folder

    if not run.is_dir():
        raise BMError(f"{run} is not a folder; give a deep run folder or a toy-grid folder")
    if RunFolder(run).is_deep_run():
        from bm.deep.layer_geometry import run_geometry

        record = run_geometry(run, [n for n in layers.split(",") if n] or None, _csv(epochs, "epochs"),
                              project_dim=project_dim, device=device, **mftma)
        stem, title = Path(record["run"]) / "geometry", f"{Path(record['run']).name}: MFTMA per layer (epochs by colour)"
    else:
        from bm.toy.cell_geometry import toy_geometry

        if layers or epochs:
            raise BMError("--layers and --epochs apply to deep runs; a toy cell always gives input, embedding and "
                          "output at init and after training")
        n, B = (int_list(cell, "cell") + (None, None))[:2] if cell else (None, None)
        record = toy_geometry(run, n, B, seed, **mftma)
        c = record["cell"]
        stem, title = run / f"geometry_n{c['n']}_B{c['B']}_s{c['seed']}", f"toy n={c['n']} B={c['B']} seed={c['seed']}: MFTMA per layer"
    lock_folder(stem.parent)  # computed, then written: one writer of this folder at a time
    write_geometry(record, stem, title)
    sizes = set()
    for epoch, per_layer in record["results"].items():
        for layer, groups in per_layer.items():
            for group, g in groups.items():
                typer.echo(f"epoch {epoch:>6s}  {layer:12s} {group:10s} capacity {g['capacity']:.4f}  "
                           f"radius {g['radius']:.3f}  dimension {g['dimension']:.2f}")
                sizes.add(g["manifolds"])
    if min(sizes, default=6) <= 5:
        typer.echo(f"note: P = {min(sizes)} manifolds; at P <= 5 MFTMA's capacity is a ~10% estimate and the simulated "
                   "one depends on the convention for random labels by as much (docs/mftma-small-p.md)")
    typer.echo(f"wrote {stem}.json, {stem.name}.png, {stem.name}.pdf")


@app.command("rewind", cls=_Command)
def rewind_cmd(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="A deep run folder; rewind.json, rewind.png and rewind.pdf are written into it. Epoch 0 (init) and the last epoch need nothing more; other epochs need the run trained with --snapshots.")],
    to_epoch: Annotated[str, typer.Option(help="Comma-separated epochs E to rewind to (0 = init, always available; others: the run's --snapshots).")],
    layers: Annotated[str, typer.Option(help="Comma-separated k: rewind the last k parameterised layers.")] = "1,2,3",
    k: Annotated[int, typer.Option(help="K-NN neighbours.")] = 20,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
) -> None:
    """Layer rewinding (Stephenson et al.): last k layers from epoch E, the rest from the end; rewind.json and a plot."""
    from bm.deep.rewind import rewind, write_rewind
    from bm.runs import lock_folder

    record = rewind(run, list(int_list(to_epoch, "to-epoch")), list(int_list(layers, "layers")), k, device)
    lock_folder(Path(record["run"]))  # computed, then written: one writer of this folder at a time
    write_rewind(record, Path(record["run"]) / "rewind")
    for r in record["rows"]:
        typer.echo(f"epoch {r['epoch']:4d}  last {r['layers']} ({','.join(r['rewound']) or '-'}): knn {r['knn_clean_test']:.3f}  "
                   f"output test acc {r['output_test_acc']:.3f}  randomized train acc {r['randomized_train_acc']:.3f}")
    typer.echo(f"wrote {run / 'rewind.json'}, rewind.png, rewind.pdf")


capacity_app = typer.Typer(help="Capacity C_t (Definition D.1) and the finite-augmentation B sweep (Fig. 5).",
                           no_args_is_help=True)
app.add_typer(capacity_app, name="capacity")


def _echo_sweep(record: dict, folder: Path) -> None:
    typer.echo(f"C_t = {record['capacity']}; n = {record['n']}; K-NN at init {record['knn_init']:.3f}")
    for r in record["rows"]:
        typer.echo(f"B {r['B']:4d}  labels {'preserved' if r['preserve_labels'] else 'own      '}  n B {r['nB']:6d}  "
                   f"memorization {r['memorization']:.3f}  knn {r['knn']:.3f}")
    typer.echo(f"wrote {folder}/capacity.json, sweep.json, sweep.png, sweep.pdf")


@capacity_app.command("toy", cls=_Command)
def capacity_toy(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("runs/capacity-toy"),
    n: Annotated[int, typer.Option(help="Samples n of the B sweep.")] = 64,
    Bs: Annotated[str, typer.Option("--Bs", help="Comma-separated B.")] = "1,2,4,8,16,32,64",
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds.")] = "0,1",
    steps: Annotated[int, typer.Option(help="Budget t (steps).")] = ToyTrainConfig.steps,
    capacity_repeats: Annotated[int, typer.Option(help="Random labelings per n for C_t.")] = ToyGridConfig.capacity_repeats,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")] = "cpu",
    threads: Annotated[int, THREADS] = 0,
) -> None:
    """C_t of the toy model and memorization / K-NN against B at fixed n (labels preserved)."""
    from bm.toy.grid import run_grid, sweep_record

    config = ToyGridConfig(ns=(n,), Bs=int_list(Bs, "Bs"), seeds=int_list(seeds, "seeds"), capacity_repeats=capacity_repeats,
               device=device, train=ToyTrainConfig(steps=steps))
    said = []
    with _progress() as start:
        folder = run_grid(config, out, progress=start, threads=_threads(threads), log=said.append)
    typer.echo("\n".join(said))
    _echo_sweep(sweep_record(folder), folder)


@capacity_app.command("deep", cls=_Command)
@_with_jobs
@config_options(CapacitySweepConfig, skip=CAPACITY_FIXED)
def capacity_deep(
    jobs: Optional[Jobs],
    changes: dict,
    out: Annotated[Path, typer.Option(help="Output folder (one run folder per fit under runs/).")] = Path("runs/capacity-deep"),
    config: Annotated[Optional[str], typer.Option(help="A CapacitySweepConfig JSON file or inline JSON (bm reproduce fig5 --print-commands); flags given with it override its fields.")] = None,
    download: Annotated[bool, typer.Option(help="Download the data set if missing (needs internet).")] = False,
) -> None:
    """C_t of a (small) deep model for a budget of t steps, then Fig. 5: memorization and K-NN against B at fixed n."""
    from bm.configs import read_config, with_changes
    from bm.deep.capacity import capacity_and_sweep
    from bm.deep.config import IMAGE_SIZES
    from bm.deep.datasets import load_dataset

    base = CapacitySweepConfig.from_json(read_config(config)) if config is not None else CapacitySweepConfig()
    if config is None and "train.model.image_size" not in changes:  # the data set's own image size
        changes["train.model.image_size"] = IMAGE_SIZES.get(changes.get("train.dataset", base.train.dataset), 32)
    cfg = with_changes(base, changes)
    t = cfg.train
    data = (load_dataset(t.dataset, Path(t.data_dir), "train", download), load_dataset(t.dataset, Path(t.data_dir), "test"))
    _echo_sweep(capacity_and_sweep(cfg, data, out, jobs), out)


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{max(1, round(seconds / 60))} min"


@app.command("reproduce", cls=_Command)
@_with_jobs
def reproduce_cmd(
    jobs: Optional[Jobs],
    name: Annotated[Optional[str], typer.Argument(metavar="NAME", help="Preset (see --list).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the presets, their runs and expected times, and exit.")] = False,
    scale: Annotated[str, typer.Option(help="full (the paper's models and data, a GPU) or mini (cifar-10-mini-sized data, CPU-sized models).")] = "full",
    data_dir: Annotated[Path, typer.Option(help="Folder holding the data sets' official folders.")] = Path("data"),
    out: Annotated[Path, typer.Option(help="Results: OUT/<scale>/runs/<run> and OUT/<scale>/<preset>/.")] = Path("runs/reproduce"),
    datasets: Annotated[Optional[str], typer.Option(help="table2/table3: comma-separated data sets to keep (default all rows).")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda or cuda:N (default: cuda where there is one or for --print-commands at full scale, else cpu; --scale full on a CPU only when asked for).")] = None,
    download: Annotated[bool, typer.Option(help="Download missing data sets (needs internet).")] = False,
    print_commands: Annotated[bool, typer.Option("--print-commands", help="Print one shell line per run (for a job scheduler) instead of running.")] = False,
    recipe: Annotated[Optional[str], typer.Option(help="Full scale only: " + RECIPE_HELP)] = None,
    status: Annotated[bool, typer.Option("--status", help="Show each run's state (finished, running, failed, cut short, pending) and exit.")] = False,
    seeds: Annotated[Optional[str], typer.Option(help="Comma-separated seeds: the preset once per seed (seed<k>/), its table the mean +- std (default: seed 0; benign: the scale's seeds).")] = None,
) -> None:
    """Regenerate a table or figure of the paper: train (or resume) its runs, skip finished ones, write its outputs."""
    from bm.reproduce import PRESETS, SCALES, commands, estimate_seconds, make_plan, reproduce

    if list_:
        columns = [("full", "table6"), ("full", "released"), ("mini", None)]
        typer.echo(f"{'preset':8s} {'paper':10s} {'runs full/mini':>14s} {'table6':>8s} {'released':>8s} {'mini':>8s}  what")
        for preset in PRESETS.values():
            plans = [make_plan(preset.name, s, data_dir, out, recipe=r)[1] for s, r in columns]
            runs = "/".join(str(len(preset.all_runs(p))) if preset.all_runs(p) else "own" for p in (plans[0], plans[2]))
            typer.echo(f"{preset.name:8s} {preset.title[:10]:10s} {runs:>14s} "
                       + " ".join(f"{_duration(estimate_seconds(preset, p)):>8s}" for p in plans) + f"  {preset.what}")
        typer.echo("times: " + "; ".join(f"{s.name}: {s.images_per_second:.0f} training images/s at 32 x 32, {s.rate_note}"
                                          for s in SCALES.values()) + ". Runs shared between presets train once. "
                   "table6 / released: the full-scale recipes (--recipe).")
        from bm.deep.config import TRAIN_SIZES

        n = TRAIN_SIZES["cifar10"]
        for s in SCALES.values():
            if s.transition is not None:
                t, per_epoch = s.transition, n * (s.image_size or 32) ** 2 / 32**2 / s.images_per_second
                typer.echo(f"{s.name}: the benign transition ({t.crossing}) is extrapolated at {t.epochs[0]:.3g} epochs "
                           f"(95% {t.epochs[1]:.3g} .. {t.epochs[2]:.3g}; {_duration(t.epochs[0] * per_epoch)} at the rate "
                           f"above) from {t.source}; every {s.name}-scale run trains {s.steps / -(-n // s.base.batch_size):.0f} "
                           "epochs' steps")
        return
    if name is None:
        raise BMError("give a preset name (bm reproduce --list shows them)")
    chosen = None
    if datasets is not None:
        chosen = tuple(d for d in datasets.split(",") if d.strip())
        if not chosen:
            raise BMError("--datasets is empty; name data sets (e.g. cifar10) or leave the option out for all rows")
    seed_list = None if seeds is None else int_list(seeds, "seeds")
    if status:
        from bm.reproduce import status as run_states

        rows = run_states(name, scale, data_dir, out, recipe, chosen, seed_list)
        width = max(len(r["run"]) for r in rows)
        for r in rows:
            typer.echo(f"{r['run']:{width}s}  {r['state']:9s}  {r['epochs']:>11s}  {r['error']}".rstrip())
        return
    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() or (print_commands and scale == "full") else "cpu"
        if device == "cpu" and scale == "full":
            raise BMError("--scale full trains the paper's models for days and this machine has no CUDA; use --scale mini, "
                          "--device cuda on a GPU machine, or --device cpu to run it here anyway")
    if print_commands:
        preset, plan = make_plan(name, scale, data_dir, out, device, chosen, recipe, seed_list)
        typer.echo("\n".join(commands(preset, plan)))
        return
    if jobs is not None and name in PRESETS and PRESETS[name].command is not None:
        raise BMError(f"{name} is one job of its own (bm reproduce {name} --print-commands shows it): run it without "
                      "--launcher, or give that command --launcher")
    with _progress() as start:
        record = reproduce(name, scale, data_dir, out, device, chosen, download, progress=start, recipe=recipe,
                           jobs=jobs, seeds=seed_list)
    if "submitted" in record:
        typer.echo(f"submitted {len(record['submitted'])} runs as SLURM job(s) {', '.join(record['submitted'])}; "
                   f"bm reproduce {name} --status shows their state, bm reproduce {name} writes the outputs once done")
        return
    for line in record["summary"]:
        typer.echo(line)
    typer.echo(f"wrote {record['folder']}/: " + ", ".join(record["outputs"]) + ", result.json")


@app.command("report", cls=_Command)
def report_cmd(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="The --out of bm reproduce.")] = Path("runs/reproduce"),
) -> None:
    """Gather every finished preset under OUT into OUT/report.md (tables, figures, headline numbers)."""
    from bm.reproduce.report import report

    typer.echo(f"wrote {report(out)}")


SHOWN = ("epoch", "last.knn", "best.knn", "last.train_acc", "last.loss", "last.mem_aug")  # bm results' metrics


@app.command("results", cls=_Command)
def results_cmd(
    root: Annotated[Path, typer.Argument(metavar="ROOT", help="A folder holding run folders and toy grids, at any depth.")],
    where: Annotated[Optional[str], typer.Option(help="Keep rows matching a pandas query, e.g. 'augment == \"ssl\" and `model.width` == 4' (dotted names in backticks).")] = None,
    columns: Annotated[Optional[str], typer.Option(help="Comma-separated columns to show and write (default: the config columns that vary, then the main metrics).")] = None,
    csv: Annotated[Optional[Path], typer.Option(help="Write the table as CSV.")] = None,
    parquet: Annotated[Optional[Path], typer.Option(help="Write the table as Parquet (needs the parquet extra: pip install 'benign-memorization\\[parquet]').")] = None,
) -> None:
    """One row per deep run and per toy-grid cell under ROOT: config fields, epoch reached, last and best metrics."""
    from rich.console import Console
    from rich.table import Table

    from bm.results import collect

    frame = collect(root)
    if frame.empty:
        raise BMError(f"no runs under {root} (no run folder or toy grid with a config.json)")
    if where:
        try:
            frame = frame.query(where)
        except Exception as e:  # pandas raises many kinds for a bad expression
            raise BMError(f"--where {where!r}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    if columns:
        chosen = [c for c in columns.split(",") if c]
        unknown = [c for c in chosen if c not in frame.columns]
        if unknown:
            raise BMError(f"unknown column(s) {', '.join(unknown)}; the table has {', '.join(frame.columns)}")
    else:
        varying = [c for c in frame.columns if not c.startswith(("last.", "best.")) and c not in ("path", "epoch")
                   and frame[c].astype(str).nunique() > 1]
        chosen = ["path", *varying, *[c for c in SHOWN if c in frame.columns]]
    frame = frame[chosen]
    for path, write in ((csv, lambda f: frame.to_csv(f, index=False)), (parquet, lambda f: frame.to_parquet(f, index=False))):
        if path is not None:
            try:
                write(path)
            except ImportError:
                raise BMError("--parquet needs pyarrow: pip install 'benign-memorization[parquet]'") from None
            except OSError as e:
                raise BMError(f"cannot write {path}: {e.strerror or e}") from None
            typer.echo(f"wrote {path} ({len(frame)} rows)")
    if csv is None and parquet is None:
        table = Table(show_lines=False)
        for c in chosen:
            table.add_column(c, overflow="fold")
        for _, row in frame.iterrows():
            table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
        Console(width=max(120, 14 * len(chosen))).print(table)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line on stderr and exit code 2 for any bad input."""
    try:
        load_plugins()
        code = app(args=argv, prog_name="bm", standalone_mode=False)
    except KeyboardInterrupt:
        print("bm: interrupted", file=sys.stderr)
        sys.exit(130)
    except typer.Abort:
        print("bm: interrupted", file=sys.stderr)
        sys.exit(130)
    except BMError as e:
        print(f"bm: error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except Exception as e:  # click's usage errors (typer vendors click in recent releases)
        if not (hasattr(e, "format_message") and hasattr(e, "exit_code")):
            raise
        if type(e).__name__ == "NoArgsIsHelpError":  # `bm` or `bm capacity` alone: the help was printed
            sys.exit(0)
        print(f"bm: error: {e.format_message()}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
