"""The deep runs: `bm deep-train`, `bm convert-run`, `bm augment-grid`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from bm.commands.common import Command
from bm.deep.config import IMAGE_SIZES, NAMED_CONFIGS, AugmentGridConfig, DeepTrainConfig, named_config
from bm.errors import BMError
from bm.options import config_options
from bm.reproduce.options import RECIPE_HELP
from bm.reproduce.plan import recipe_config  # noqa: F401  (registers the recipes' named configs)

app = typer.Typer()
NAMED = {name: named_config(name) for name in NAMED_CONFIGS}  # deep-train's bases, whose defaults its help shows


@app.command("augment-grid", cls=Command)
@config_options(AugmentGridConfig, into="options", built=True)
def augment_grid(
    options: AugmentGridConfig,
    out: Annotated[Path, typer.Option(help="Output stem: writes OUT.png and OUT.pdf.")] = Path("augmentations"),
    download: Annotated[bool, typer.Option(help="Download the data set if it is missing (needs internet).")] = False,
) -> None:
    """Save a grid of SSL-augmented views of real images beside the originals."""
    from bm.deep.datasets import load_dataset
    from bm.figures.augmentations import augmentation_grid

    o = options
    if not out.parent.is_dir():
        raise BMError(f"folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise BMError(f"folder {out.parent} is not writable")
    paths = augmentation_grid(load_dataset(o.dataset, Path(o.data_dir), "train", download), out, o.rows, o.cols, o.seed)
    typer.echo("wrote " + ", ".join(map(str, paths)))


def _deep_config(changes: dict, preset: str | None, recipe: str | None, config: str | None):
    """The run's DeepTrainConfig: a named config (--preset / --recipe, default paper), a --config JSON (file, run
    folder or inline; a partial one layers on the named config: {"epochs": 3} changes only the epochs), then every
    flag given on the command line over it."""
    from bm.configs import layered, read_config, with_changes

    if preset is not None and recipe is not None:
        raise BMError("give --preset or --recipe, not both")
    base = named_config(recipe or preset or "paper")
    if config is not None:
        base = layered(DeepTrainConfig, base, read_config(config))
    elif "model.image_size" not in changes:  # a named config follows the data set's own image size
        changes["model.image_size"] = IMAGE_SIZES.get(changes.get("dataset", base.dataset), 32)
    return with_changes(base, changes)


@app.command("deep-train", cls=Command)
@config_options(DeepTrainConfig, named=NAMED)
def deep_train(
    changes: dict,
    out: Annotated[Path, typer.Option(help="Run folder.")] = Path("runs/deep"),
    config: Annotated[
        Optional[str],
        typer.Option(
            help="A config JSON file, a run folder (its config.json) or inline JSON, whole or partial (a partial one changes only its keys of --preset / --recipe); flags given with it override its fields."
        ),
    ] = None,
    preset: Annotated[
        Optional[str],
        typer.Option(
            help="A named config: paper (the default: Table 6's model, optimizer and batch on CIFAR-10 with SSL augmentation, no mixup, 1000 epochs; Table 6 in full, with mixup and its budget, is --recipe table6), smoke (tiny model and subset, under a minute on a CPU), table6 or released (the full-scale recipes' random-label DA run); flags given with it override it."
        ),
    ] = None,
    recipe: Annotated[
        Optional[str], typer.Option(help="The same as --preset for a full-scale recipe: " + RECIPE_HELP)
    ] = None,
    download: Annotated[bool, typer.Option(help="Download the data set if missing (needs internet).")] = False,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out from its checkpoint.")] = False,
    skip_finished: Annotated[
        bool,
        typer.Option(
            "--skip-finished",
            help="Leave a finished run in --out as it is, resume one cut short, else start (for job schedulers).",
        ),
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Empty --out first if it holds a run (any config).")
    ] = False,
    tensorboard: Annotated[
        bool,
        typer.Option(
            "--tensorboard",
            help="Also write TensorBoard event files beside metrics.jsonl (tags Loss/train, Misc/knn_acc as the released code; needs the tensorboard extra).",
        ),
    ] = False,
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
    data = (
        load_dataset(cfg.dataset, Path(cfg.data_dir), "train", download),
        load_dataset(cfg.dataset, Path(cfg.data_dir), "test"),
    )

    def report(row: dict) -> None:
        acc = f"  train acc {row['train_acc']:.3f}" if "train_acc" in row else ""
        extra = f"  knn {row['knn']:.3f}  inv {row['inv']:.4f}  bias {row['bias']:.4f}" if "knn" in row else ""
        typer.echo(f"epoch {row['epoch']:5d}  loss {row['loss']:.4f}{acc}  {row['img_per_s']:.0f} img/s{extra}")

    if skip_finished:
        folder = train_or_resume(cfg, out, data=data, on_epoch=report, tensorboard=tensorboard)
    else:
        folder = train(
            cfg, out, resume=resume, data=data, on_epoch=report, overwrite=overwrite, tensorboard=tensorboard
        )
    typer.echo(f"wrote {folder}/metrics.jsonl, checkpoint.pt")


@app.command("convert-run", cls=Command)
def convert_run(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="A run folder whose .pt files bm refuses to load.")],
    trust: Annotated[
        bool,
        typer.Option(
            "--trust",
            help="I trust this folder's source: unpickle its .pt files fully (which runs any code they hold) and rewrite them as data only.",
        ),
    ] = False,
) -> None:
    """Rewrite a run folder's .pt files so that they load with weights_only=True (tensors, dicts, numbers, strings).

    bm reads run files only that way; a folder written by other code (numpy arrays, pickled objects) is refused.
    This command unpickles such files fully, so it asks for --trust, and then writes them back as data only.
    """
    from bm.errors import RunFolderError
    from bm.runs import convert_saved, lock_folder

    if not trust:
        raise BMError(
            "convert-run unpickles every .pt file of RUN fully, which runs any code they hold; pass --trust "
            "only for a folder whose source you trust"
        )
    if not run.is_dir():
        raise RunFolderError(f"{run} is not a folder")
    lock_folder(run)
    files = sorted(run.glob("*.pt"))
    changed = [p.name for p in files if convert_saved(p)]
    typer.echo(
        f"converted {', '.join(changed)}" if changed else f"all {len(files)} .pt files of {run} already load safely"
    )
