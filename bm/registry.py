"""Registries of what users add (models, data sets, augmentation protocols, probes, scales, presets): one way in,
`register(registry, kind, name, entry)`, which refuses a taken name naming both registrants (the module that
registered it first and the one registering it again: a plugin, or bm itself)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Container
from typing import Any, TypeVar

from bm.errors import BMError

__all__ = ["register", "registrar"]

F = TypeVar("F", bound=Callable)
E = TypeVar("E")

_owners: dict[tuple[int, str], str] = {}  # (id(registry), name) -> the module that registered it
# modules whose functions register on a caller's behalf: the registrant is the first caller outside them
_ON_BEHALF = {
    __name__,
    "bm.deep.catalog",
    "bm.deep.protocols",
    "bm.analyses.probing",
    "bm.reproduce.scales",
    "bm.reproduce.presets.base",
}


def _registrant() -> str:
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") in _ON_BEHALF:
        frame = frame.f_back
    return frame.f_globals.get("__name__", "?") if frame is not None else "?"


def register(registry: dict[str, E], kind: str, name: Any, entry: E, reserved: Container[str] = ()) -> E:
    """Add `entry` under the new `name` (a non-empty string); a taken or reserved name is one BMError naming both
    registrants."""
    if not isinstance(name, str) or not name:
        raise BMError(f"a {kind} needs a name (a non-empty string); got {name!r}")
    who = _registrant()
    if name in registry or name in reserved:
        first = _owners.get((id(registry), name), "bm" if name in registry else "another registry")
        raise BMError(f"{kind} {name!r} is already registered by {first}; {who} registers it again")
    registry[name] = entry
    _owners[(id(registry), name)] = who
    return entry


def registrar(registry: dict[str, F], kind: str, reserved: Container[str] = ()) -> Callable[[str], Callable[[F], F]]:
    """The decorator factory `register(name)(fn)` that adds fn to `registry` under a new name (`reserved` is read at
    registration, so a registry of its own works)."""

    def named(name: str) -> Callable[[F], F]:
        def add(fn: F) -> F:
            return register(registry, kind, name, fn, reserved)

        return add

    return named
