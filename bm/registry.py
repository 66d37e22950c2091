"""Name -> function registries (augmentation protocols, probes): adding one is a decorated function."""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import TypeVar

from bm.errors import BMError

__all__ = ["registrar"]

F = TypeVar("F", bound=Callable)


def registrar(registry: dict[str, F], kind: str, reserved: Container[str] = ()) -> Callable[[str], Callable[[F], F]]:
    """The decorator factory `register(name)(fn)` that adds fn to `registry` under a new name (a taken or reserved
    name is one BMError naming the `kind`; `reserved` is read at registration, so a registry of its own works)."""

    def register(name: str) -> Callable[[F], F]:
        def add(fn: F) -> F:
            if name in registry or name in reserved:
                raise BMError(f"{kind} {name!r} is already registered")
            registry[name] = fn
            return fn

        return add

    return register
