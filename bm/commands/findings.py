"""`bm findings`: committed results in, generated findings out (bm.findings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bm.commands.common import Command, Group
from bm.errors import BMError

app = typer.Typer(
    cls=Group,
    help="Findings from committed results: collect a reproduce folder into results/, regenerate every "
    "quoted table, check that none is stale.",
    no_args_is_help=True,
)

RESULTS = typer.Option(help="The results folder (config.json + metrics.jsonl per run, result.json per preset).")
FILES = typer.Argument(metavar="FILES", help="Files quoting generated blocks (<!-- bm:NAME --> ... <!-- /bm:NAME -->).")


def quoting() -> list[Path]:
    """The pages that may quote generated blocks: README.md and every Markdown page under docs/."""
    return [Path("README.md"), *sorted(Path("docs").glob("**/*.md"))]


def _results(results: Path) -> Path:
    if not results.is_dir():
        raise BMError(f"{results} is not a results folder (bm findings collect OUT writes one)")
    return results


def _measured() -> Path:
    """bm/reproduce/measured.py, the full scale's measured transition that `write` generates from the results."""
    import bm

    return Path(bm.__file__).parent / "reproduce" / "measured.py"


def _files(files: list[Path] | None) -> list[Path]:
    chosen = files or [f for f in quoting() if f.exists()]
    missing = [str(f) for f in chosen if not f.is_file()]
    if missing:
        raise BMError(f"no such file: {', '.join(missing)}")
    return chosen


@app.command("collect", cls=Command)
def collect_cmd(
    source: Annotated[Path, typer.Argument(metavar="OUT", help="The --out of bm reproduce.")],
    results: Annotated[Path, RESULTS] = Path("results"),
) -> None:
    """Copy OUT's finished presets and their runs' records (no weights) into the results folder."""
    from bm.findings import collect

    if not source.is_dir():
        raise BMError(f"{source} is not a folder")
    copied = collect(source, results)
    typer.echo(f"copied {', '.join(copied) or 'nothing (no result.json under OUT/<scale>/<preset>/)'} into {results}/")


@app.command("write", cls=Command)
def write_cmd(
    files: Annotated[list[Path] | None, FILES] = None,
    results: Annotated[Path, RESULTS] = Path("results"),
) -> None:
    """Regenerate every generated block of FILES (default: README.md, docs/findings.md) and, with no FILES, the docs'
    figures of measured presets (docs/benign-mini.png) and the full scale's measured transition
    (bm/reproduce/measured.py, which sets its budget), from the results alone."""
    from bm.findings import write
    from bm.findings.figures import draw
    from bm.findings.phase import measured_source
    from bm.runs import atomic_write_text

    changed = write(_files(files), _results(results))
    if not files and _measured().read_text() != measured_source(results):
        atomic_write_text(_measured(), measured_source(results))
        changed.append(_measured())
    typer.echo(f"rewrote {', '.join(map(str, changed))}" if changed else "every block is up to date")
    if not files and Path("docs").is_dir():
        typer.echo(f"drew {', '.join(map(str, draw(Path('docs'), results))) or 'no figure (no records)'}")


@app.command("check", cls=Command)
def check_cmd(
    files: Annotated[list[Path] | None, FILES] = None,
    results: Annotated[Path, RESULTS] = Path("results"),
) -> None:
    """Exit 1 when a generated block of FILES (with no FILES: or bm/reproduce/measured.py) differs from what the
    results give."""
    from bm.findings import stale
    from bm.findings.phase import measured_source

    out = stale(_files(files), _results(results))
    if not files and _measured().read_text() != measured_source(results):
        out.append(f"{_measured()}: TRANSITION_FULL")
    if out:
        typer.echo("stale: " + "; ".join(out) + " (bm findings write regenerates them)", err=True)
        raise typer.Exit(1)
    typer.echo("every block is up to date")
