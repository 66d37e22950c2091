"""Write docs/cli.md: every `bm` command's --help, generated from the typer app (run after changing a command).

`python docs/cli_reference.py` rewrites the page; `python docs/cli_reference.py --check` exits 1 if it is stale."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

PAGE = Path(__file__).with_name("cli.md")


def _help(argv: list[str]) -> str:
    from bm.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main([*argv, "--help"])
    return "\n".join(line.rstrip() for line in out.getvalue().strip("\n").splitlines())


def page() -> str:
    """The reference page: one section per command, its help as the CLI prints it at 100 columns."""
    import typer

    from bm.cli import app

    os.environ.update(COLUMNS="100", TERM="dumb", NO_COLOR="1")
    commands = []
    for name, command in sorted(typer.main.get_command(app).commands.items()):
        subs = getattr(command, "commands", None)
        commands += [[name, sub] for sub in sorted(subs)] if subs else [[name]]
    parts = [
        "# Command-line reference",
        "",
        "Generated from the app by `python docs/cli_reference.py`; do not edit.",
        "",
    ]
    for argv in [[], *commands]:
        parts += [f"## `{' '.join(['bm', *argv])}`", ""]
        parts += ["```text", _help(argv), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    text = page()
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if PAGE.read_text() == text else f"{PAGE} is stale: run python docs/cli_reference.py")
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
