"""User-facing exceptions. Library code raises these; only `bm.cli` turns them into exit code 2."""

import math


class BMError(ValueError):
    """Bad input or state that the user can fix; the message says how."""

    exit_code = 2  # what `bm` exits with


def require_finite(**values: float) -> None:
    """BMError naming the first value that is NaN or infinite (range checks alone let NaN through)."""
    for name, value in values.items():
        if not math.isfinite(value):
            raise BMError(f"{name} must be a finite number, got {value}")


def require_range(**checks: tuple[float, float, str]) -> None:
    """BMError naming the first setting outside its range and its value: name=(value, bound, "op") with op one of
    ">=", ">" (a lower bound) or "<=" (an upper bound); range errors are one per setting, never a list of several."""
    holds = {">=": lambda v, b: v >= b, ">": lambda v, b: v > b, "<=": lambda v, b: v <= b}
    for name, (value, bound, op) in checks.items():
        if not holds[op](value, bound):
            raise BMError(f"{name} must be {op} {bound}; got {value}")


class ShapeError(BMError):
    """Arrays whose shapes do not fit together; the message names the shapes."""


class RunFolderError(BMError):
    """An output folder that cannot be used (a file, unwritable, or holding another config)."""
