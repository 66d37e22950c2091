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


class ShapeError(BMError):
    """Arrays whose shapes do not fit together; the message names the shapes."""


class RunFolderError(BMError):
    """An output folder that cannot be used (a file, unwritable, or holding another config)."""
