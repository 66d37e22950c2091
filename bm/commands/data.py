"""`bm data`: the data sets bm's documentation uses that no one publishes as such (cifar-10-mini), built exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from bm.commands.common import Command, Group
from bm.errors import BMError

app = typer.Typer(cls=Group, help="Build the data subsets the docs use from the official files.", no_args_is_help=True)


@app.command("cifar10-mini", cls=Command)
def cifar10_mini(
    out: Annotated[Path, typer.Option(help="Folder to hold cifar-10-batches-py (the --data-dir of the mini scale).")],
    source: Annotated[
        Optional[Path],
        typer.Option(
            "--from",
            help="A folder holding the official cifar-10-batches-py (CIFAR-10's python version), or that folder.",
        ),
    ] = None,
    download: Annotated[
        bool, typer.Option(help="Download the official CIFAR-10 into OUT/official first (needs internet).")
    ] = False,
) -> None:
    """cifar-10-mini: the first 1017 images of each official CIFAR-10 batch (5085 train / 1017 test), in order, with
    their labels, checked against the published digests; what the mini scale and the CPU examples train on."""
    from bm.deep.datasets import download_cifar10
    from bm.deep.subsets import build_cifar10_mini

    if (source is None) == (not download):
        raise BMError("give --from DIR (the official files) or --download, one of them")
    if download:
        source = out / "official"
        download_cifar10(source)
    same = build_cifar10_mini(source, out)
    typer.echo(f"wrote {out / 'cifar-10-batches-py'}: 5085 training and 1017 test images, digests checked")
    if not all(same.values()):
        differ = ", ".join(name for name, ok in same.items() if not ok)
        typer.echo(
            f"note: the bytes of {differ} differ from the published files (another numpy pickles arrays "
            "differently); the images and labels are the same"
        )
