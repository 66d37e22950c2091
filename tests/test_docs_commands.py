"""Every `bm ...` command the README and docs/ quote parses against today's CLI: its subcommands exist and every
option it names exists and takes the value it is given (nothing runs). A renamed flag fails here, not in a reader's
shell."""

import re
import shlex
from pathlib import Path

import pytest
import typer

from bm.cli import app

try:  # typer >= 0.2x carries its own click
    from typer._click import exceptions as clicks
except ImportError:  # older typer: click itself
    from click import exceptions as clicks  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDERS = ("...", "CMD", "COMMAND", "<json>", "|", "{")  # a pattern, not a command


def quoted_commands() -> list[tuple[str, str]]:
    """(file, command) for every inline `bm ...` and every `bm ...` line of a fenced block (a leading $ dropped)."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]:
        if path.name == "cli.md":  # generated from the CLI itself
            continue
        text = path.read_text(encoding="utf-8")
        lines = re.findall(r"`(bm [^`]+)`", text)
        for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
            lines += [
                line.strip().lstrip("$ ") for line in block.splitlines() if line.strip().lstrip("$ ").startswith("bm ")
            ]
        found += [(path.name, c) for c in lines if not any(p in c for p in PLACEHOLDERS)]
    return sorted(set(found))


def parse(command: str) -> None:
    """Parse `command` (bm's argv) down to its last subcommand, as click would before running it."""
    args = shlex.split(re.split(r"#| > ", command)[0])[1:]  # no comment, no redirection
    cmd = typer.main.get_command(app)
    ctx = cmd.make_context("bm", args, resilient_parsing=False)
    while hasattr(cmd, "resolve_command") and (pending := [*getattr(ctx, "_protected_args", []), *ctx.args]):
        name, sub, rest = cmd.resolve_command(ctx, pending)
        assert sub is not None, f"{command}: no subcommand {name}"
        cmd, ctx = sub, sub.make_context(name, rest, parent=ctx, resilient_parsing=False)


@pytest.mark.parametrize("where,command", quoted_commands())
def test_every_quoted_command_parses(where, command):
    """A command named in prose without its arguments (`bm geometry`) is a mention: its name must exist, its missing
    arguments may; a placeholder value (K, DIR) may not parse as the number it stands for."""
    try:
        parse(command)
    except typer.Exit:  # --help: the flag exists
        pass
    except (clicks.MissingParameter, clicks.NoArgsIsHelpError):
        pass
    except clicks.BadParameter:
        assert any(re.fullmatch(r"[A-Z][A-Z_0-9]*", a) for a in shlex.split(command)[1:]), command


@pytest.mark.parametrize(
    "command", ["bm reproduce benign --no-such-flag", "bm no-such-command", "bm findings nope", "bm reproduce --seeds"]
)
def test_a_stale_command_fails_to_parse(command):
    with pytest.raises(clicks.UsageError):
        parse(command)
