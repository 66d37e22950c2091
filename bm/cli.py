"""The `bm` command line: thin wrappers over library code.

Library errors (BMError) and bad arguments end as one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from bm import __version__
from bm.errors import BMError
from bm.toy.data import ToyDataConfig as D
from bm.toy.grid import ToyGridConfig as G
from bm.toy.model import ToyModelConfig as M
from bm.toy.train import ToyTrainConfig as T

app = typer.Typer(
    name="bm",
    help="Benign memorization toolkit: theory, probes and the toy model of Anagnostidis et al. (ICLR 2023).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


def int_list(text: str, name: str) -> tuple[int, ...]:
    """'8,16,32' -> (8, 16, 32); anything else is a one-line BMError."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise BMError(f"--{name} must be a comma-separated list of integers, got {text!r}") from None
    if not values:
        raise BMError(f"--{name} is empty")
    return values


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


QUICK = {"ns": (8, 32, 128), "Bs": (1, 8, 64), "seeds": (0,), "steps": 600, "capacity_repeats": 2}


@app.command("toy-grid")
def toy_grid(
    out: Annotated[Path, typer.Option(help="Output folder (config.json, grid.csv, capacity.json, heatmap.png/.pdf).")] = Path("runs/toy-grid"),
    ns: Annotated[str, typer.Option("--ns", help="Comma-separated sample sizes n.")] = ",".join(map(str, G.ns)),
    Bs: Annotated[str, typer.Option("--Bs", help="Comma-separated views per sample B (B=1: no augmentation).")] = ",".join(map(str, G.Bs)),
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds; results are averaged over them.")] = ",".join(map(str, G.seeds)),
    quick: Annotated[bool, typer.Option("--quick", help="Small smoke grid: n=8,32,128, B=1,8,64, one seed, 600 steps.")] = False,
    device: Annotated[str, typer.Option(help="Torch device: cpu, cuda, cuda:N.")] = "cpu",
    classes: Annotated[int, typer.Option(help="True classes C of the mixture.")] = D.num_classes,
    dim: Annotated[int, typer.Option(help="Input dimension d.")] = D.dim,
    signal_dim: Annotated[int, typer.Option(help="Coordinates d1 that carry the class.")] = D.signal_dim,
    sigma: Annotated[float, typer.Option(help="Noise std: Sigma2 = Sigma3 = sigma^2 I = 10 Sigma1.")] = D.sigma,
    center_scale: Annotated[float, typer.Option(help="Cluster-centre std in units of the within-class std sigma1.")] = D.center_scale,
    task_seed: Annotated[int, typer.Option(help="Seed of the cluster centres.")] = D.task_seed,
    augment: Annotated[str, typer.Option(help="finite (B views drawn once), online (fresh views every step) or iid (same-class samples).")] = D.augment,
    label_noise: Annotated[float, typer.Option(help="Fraction of random training labels: 0 clean, 1 random.")] = D.label_noise,
    random_classes: Annotated[Optional[int], typer.Option(help="Random classes C' (default: C).")] = None,
    probe_train: Annotated[int, typer.Option(help="Clean labelled points the K-NN probe is fitted on.")] = D.probe_train,
    test: Annotated[int, typer.Option(help="Clean test points.")] = D.test,
    prototypes: Annotated[int, typer.Option(help="Prototypes K of the projector.")] = M.prototypes,
    init_scale: Annotated[float, typer.Option(help="Encoder init: W ~ N(0, init_scale^2 / d).")] = M.init_scale,
    optimizer: Annotated[str, typer.Option(help="adam or gd.")] = T.optimizer,
    lr: Annotated[float, typer.Option(help="Learning rate.")] = T.lr,
    steps: Annotated[int, typer.Option(help="Training budget t (steps).")] = T.steps,
    batch_size: Annotated[int, typer.Option(help="Points per step and model; 0 = full batch.")] = T.batch_size,
    track_every: Annotated[int, typer.Option(help="Steps between Inv/Bias measurements (curves.csv); 0 = end only.")] = T.track_every,
    k: Annotated[int, typer.Option(help="K-NN neighbours.")] = G.k,
    knn_normalize: Annotated[bool, typer.Option(help="L2-normalize embeddings before K-NN.")] = G.knn_normalize,
    capacity_repeats: Annotated[int, typer.Option(help="Random labelings tried per n when estimating C_t.")] = G.capacity_repeats,
    capacity_n_max: Annotated[int, typer.Option(help="Largest n the capacity search tries.")] = G.capacity_n_max,
) -> None:
    """Train the Appendix-E toy model over an n x B grid and seeds: grid.csv, capacity.json, heatmap.

    Rerunning with the same arguments resumes; other arguments in the same --out are refused.
    """
    from bm.runs import read_csv_rows
    from bm.toy.grid import headline, run_grid

    grid = {"ns": int_list(ns, "ns"), "Bs": int_list(Bs, "Bs"), "seeds": int_list(seeds, "seeds"),
            "capacity_repeats": capacity_repeats}
    if quick:
        grid.update({key: QUICK[key] for key in ("ns", "Bs", "seeds", "capacity_repeats")})
        steps = QUICK["steps"]
    config = G(
        **grid, k=k, knn_normalize=knn_normalize, capacity_n_max=capacity_n_max, device=device,
        data=D(num_classes=classes, dim=dim, signal_dim=signal_dim, sigma=sigma, center_scale=center_scale,
                           task_seed=task_seed, augment=augment, label_noise=label_noise,
                           random_classes=random_classes, probe_train=probe_train, test=test),
        model=M(prototypes=prototypes, init_scale=init_scale),
        train=T(optimizer=optimizer, lr=lr, steps=steps, batch_size=batch_size, track_every=track_every),
    )
    with _progress() as start:
        folder = run_grid(config, out, progress=start)
    h = headline(read_csv_rows(folder / "grid.csv"), json.loads((folder / "capacity.json").read_text())["capacity"])
    typer.echo(f"C_t = {h['capacity']}; at n = {h['n']}: K-NN {h['knn_B_max']:.3f} with B = {h['B_max']}, "
               f"{h['knn_B_min']:.3f} without augmentation, {h['knn_init']:.3f} at init; "
               f"lowest memorization below C_t: {h['min_mem_aug_below_capacity']:.3f}")
    typer.echo(f"wrote {folder}/grid.csv, capacity.json, heatmap.png, heatmap.pdf")


@app.command("augment-grid")
def augment_grid(
    data_dir: Annotated[Path, typer.Option(help="Folder holding the data set's official folder.")],
    dataset: Annotated[str, typer.Option(help="cifar10, cifar100, stl10 or tinyimagenet.")] = "cifar10",
    out: Annotated[Path, typer.Option(help="Output stem: writes OUT.png and OUT.pdf.")] = Path("augmentations"),
    rows: Annotated[int, typer.Option(help="Rows: the originals, then rows - 1 views.")] = 4,
    cols: Annotated[int, typer.Option(help="Images, one column each.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the finite augmentation set.")] = 0,
    download: Annotated[bool, typer.Option(help="Download the data set if it is missing (needs internet).")] = False,
) -> None:
    """Save a grid of SSL-augmented views of real images beside the originals."""
    from bm.deep.datasets import load_dataset
    from bm.deep.figures import augmentation_grid

    if rows < 1 or cols < 1:
        raise BMError(f"rows and cols must be >= 1; got {rows}, {cols}")
    if out.parent and not out.parent.is_dir():
        raise BMError(f"folder {out.parent} does not exist")
    paths = augmentation_grid(load_dataset(dataset, data_dir, "train", download), out, rows, cols, seed)
    typer.echo("wrote " + ", ".join(map(str, paths)))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line on stderr and exit code 2 for any bad input."""
    try:
        code = app(args=argv, prog_name="bm", standalone_mode=False)
    except typer.Abort:
        print("bm: interrupted", file=sys.stderr)
        sys.exit(130)
    except BMError as e:
        print(f"bm: error: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:  # click's usage errors (typer vendors click in recent releases)
        if not (hasattr(e, "format_message") and hasattr(e, "exit_code")):
            raise
        print(f"bm: error: {e.format_message()}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
