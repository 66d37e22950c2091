"""The `bm` command line: the commands of bm.commands (thin wrappers over library code) gathered into one app.

Library errors (BMError) and bad arguments end as one line on stderr and exit code 2.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Optional

import typer

from bm import __version__
from bm.commands import analyses, capacity, data, deep, findings, reproduce, toy
from bm.commands.common import Group
from bm.errors import BMError
from bm.plugins import load_plugins

__all__ = ["app", "main"]

app = typer.Typer(
    cls=Group,
    name="bm",
    help="Benign memorization toolkit: theory, probes and the toy model of Anagnostidis et al. (ICLR 2023).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for group in (toy, deep, analyses, reproduce):  # the order of `bm --help`
    app.add_typer(group.app)
app.add_typer(capacity.app, name="capacity")
app.add_typer(findings.app, name="findings")
app.add_typer(data.app, name="data")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = None,
) -> None:
    """Benign memorization toolkit."""


class _Said(logging.Handler):
    """The library's warnings (logging.getLogger("bm")) as "bm: ..." lines on the stderr of the moment."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"bm: {record.getMessage()}", file=sys.stderr)


def _show_library_warnings() -> None:
    logger = logging.getLogger("bm")
    if not any(isinstance(h, _Said) for h in logger.handlers):
        logger.addHandler(_Said())
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line on stderr and exit code 2 for any bad input."""
    _show_library_warnings()
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
