"""What every command shares: the command class (POSIX usage lines), the progress bar, the job options, the toy
trainer's --threads."""

from __future__ import annotations

import functools
from contextlib import contextmanager

import typer
import typer.core

from bm.errors import BMError
from bm.jobs import Jobs
from bm.options import config_options

__all__ = ["THREADS", "Command", "checked_threads", "converted", "progress", "with_jobs"]


class Command(typer.core.TyperCommand):
    """Every bm command's class. Usage lines in the POSIX convention: RUN for a required argument, [RUN] for an
    optional one (typer writes {RUN} for the first)."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]

    def format_help(self, ctx, formatter) -> None:
        """click's plain help: every option name whole at any width (rich's table cut long names at 80 columns) and
        no type label on a flag."""
        super(typer.core.TyperCommand, self).format_help(ctx, formatter)  # click's (typer's own copy), not rich's


class Group(typer.core.TyperGroup):
    """Every bm command group's class: click's plain help, as Command's, each command's first sentence whole."""

    def format_help(self, ctx, formatter) -> None:
        super(typer.core.TyperGroup, self).format_help(ctx, formatter)

    def format_commands(self, ctx, formatter) -> None:
        rows = [(name, self.commands[name].get_short_help_str(limit=1000)) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl([(n, h) for n, h in rows if not self.commands[n].hidden])


@contextmanager
def progress():
    """A rich progress bar; yields `start(label, total) -> advance(k)`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False
    ) as bar:

        def start(label: str, total: int):
            for earlier in bar.tasks:  # a new stage ends the one before
                bar.update(earlier.id, total=earlier.completed)
                bar.stop_task(earlier.id)
            task = bar.add_task(label, total=total or None)
            return lambda k: bar.advance(task, k)

        yield start


def with_jobs(command):
    """Give `command` the options of bm.jobs.Jobs (--launcher, --max-parallel, --slurm-*), as its `jobs` (None: no
    launcher), checked before anything is written (--slurm-* only with --launcher slurm)."""

    def jobs(given: dict) -> Jobs | None:
        from bm.configs import with_changes

        if given.get("launcher") != "slurm" and any(k.startswith("slurm.") for k in given):
            raise BMError("--slurm-* options apply to --launcher slurm")
        chosen = with_changes(Jobs(), given)
        return None if chosen.launcher is None else chosen

    return config_options(Jobs, into="jobs")(converted(command, "jobs", jobs))


def converted(command, name: str, convert):
    """`command` whose keyword argument `name` is convert(value) when it runs."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        kwargs[name] = convert(kwargs[name])
        return command(*args, **kwargs)

    return run


MAX_THREADS = 1024  # more CPU threads than any machine bm runs on has cores

THREADS = typer.Option(
    help="CPU threads of the toy trainer (0: the faster of 1 and torch's default, timed on 40 "
    "steps of this grid; results do not depend on it)."
)


def checked_threads(requested: int) -> int:
    if not 0 <= requested <= MAX_THREADS:
        raise BMError(f"--threads must lie in [0, {MAX_THREADS}] (0: chosen by timing); got {requested}")
    return requested
