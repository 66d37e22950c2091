"""Command-line options generated from config dataclasses: each leaf setting (bm.configs.settings) becomes one
`--flag`, its help and default read from the field, so that a setting is spelled once, in its config.

A command decorated with `config_options(Config)` receives `changes`: {dotted path: value} for the flags given on the
command line, ready for `bm.configs.with_changes`. Flags that are not given are not changes (their default is the
base config's, whichever that is).
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from bm.configs import Setting, settings, with_changes
from bm.errors import BMError

__all__ = ["config_options", "int_list", "with_parameters"]


def int_list(text: str, name: str) -> tuple[int, ...]:
    """'8,16,32' -> (8, 16, 32); anything else is a one-line BMError."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise BMError(f"--{name} must be a comma-separated list of integers, got {text!r}") from None
    if not values:
        raise BMError(f"--{name} is empty")
    return values


def _kinds(hint: Any) -> set:
    """The types a hint admits, None left out (int | str | None -> {int, str})."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return {k for arg in typing.get_args(hint) for k in _kinds(arg)}
    return set() if hint is type(None) else {typing.get_origin(hint) or hint}


def _cli_type(s: Setting) -> Any:
    kinds = _kinds(s.hint)
    if kinds == {dict}:
        return list[str]  # a repeatable KEY=VALUE option
    return next(iter(kinds)) if len(kinds) == 1 and kinds <= {bool, int, float, str, Path} else str


def _of_words(hint: Any) -> bool:
    """A tuple of strings (tuple[str, ...], perhaps | None): a comma list of words, not of integers."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    return any(
        typing.get_origin(h) is tuple and typing.get_args(h)[:1] == (str,)
        for h in (typing.get_args(hint) if union else (hint,))
    )


def _parse(s: Setting, value: Any) -> Any:
    """A flag's value as its field holds it: comma lists as tuples ("" the empty one; of words or of integers as the
    field says), int | str as an int where it reads as one."""
    kinds = _kinds(s.hint)
    if kinds == {dict}:
        if any("=" not in kv for kv in value):
            raise BMError(f"--{s.flag} takes KEY=VALUE")
        return dict(kv.split("=", 1) for kv in value)
    if tuple in kinds:
        if _of_words(s.hint):
            return tuple(w.strip() for w in value.split(",") if w.strip())
        return int_list(value, s.flag) if value.strip() else ()
    if _cli_type(s) is str and int in kinds:
        return int(value) if value.lstrip("-").isdigit() else value
    return value


def _shown(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _default(s: Setting, named: dict[str, Any]) -> str:
    """' (default: 64)', or per named base config where they differ: ' (default: 64 (paper) / 8 (smoke))'."""
    values = {name: _shown(functools.reduce(getattr, s.path.split("."), cfg)) for name, cfg in named.items()}
    if len(set(values.values())) > 1:
        return " (default: " + " / ".join(f"{v or '-'} ({name})" for name, v in values.items()) + ")"
    value = next(iter(values.values()))
    return "" if value in ("None", "", "()", "{}") else f" (default: {value})"


def with_parameters(command, extra: list[inspect.Parameter], take, into: str | None = None) -> Any:
    """`command` with keyword parameters `extra` added to its signature (typer reads them as options) and its own
    parameter `into` (which take fills) taken out of it; before it runs, take(kwargs) pops their values and returns
    the keyword arguments to add."""
    signature = inspect.signature(command, eval_str=True)

    @functools.wraps(command)
    def run(*args, **kwargs):
        added = take(kwargs)
        return command(*args, **kwargs, **added)

    own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in signature.parameters.values() if p.name != into]
    built = signature.replace(parameters=own + extra)
    run.__signature__ = built  # type: ignore[attr-defined]  # what typer reads
    run.__annotations__ = {p.name: p.annotation for p in built.parameters.values()}
    return run


def config_options(
    cls: type,
    skip: tuple[str, ...] = (),
    named: dict[str, Any] | None = None,
    into: str = "changes",
    built: bool = False,
):
    """Decorator: one option per leaf setting of `cls` (but the dotted paths in `skip`), handed to the command as
    its parameter `into` = {path: value} (`built`: the config itself, cls() with those changes, so checked by its
    __post_init__); help shows the default of each of the `named` base configs the command starts from (name ->
    instance; default: {"default": cls()}), once where they agree."""
    named = named or {"default": cls()}
    chosen = [s for s in settings(cls) if s.path not in skip]

    def parameter(s: Setting) -> inspect.Parameter:
        decls = [f"--{s.flag}/--no-{s.flag}"] if _cli_type(s) is bool else [f"--{s.flag}"]
        option = typer.Option(*decls, help=s.help + _default(s, named))
        return inspect.Parameter(
            s.path.replace(".", "__"),
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[Optional[_cli_type(s)], option],
        )

    def take(kwargs: dict) -> dict:
        values = [(s, kwargs.pop(s.path.replace(".", "__"), None)) for s in chosen]
        changes = {s.path: _parse(s, v) for s, v in values if v is not None}
        return {into: with_changes(cls(), changes) if built else changes}

    def decorate(command):
        return with_parameters(command, [parameter(s) for s in chosen], take, into)

    return decorate
