"""numpy/torch interop for the theory functions: compute in torch, hand back what came in."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from bm.errors import ShapeError


def as_tensor(x: Any, name: str) -> tuple[torch.Tensor, bool]:
    """Return `(tensor, came_from_numpy)`; floats keep their dtype, integers become float64."""
    if isinstance(x, torch.Tensor):
        t, from_numpy = x, False
    else:
        t, from_numpy = torch.from_numpy(np.asarray(x)), True
    if not torch.is_floating_point(t):
        t = t.to(torch.float64)
    if t.numel() and not bool(torch.isfinite(t).all()):
        raise ShapeError(f"{name} holds NaN or inf values")
    return t, from_numpy


def output(value: torch.Tensor, from_numpy: bool) -> Any:
    """A 0-d result: a Python float for numpy callers, the tensor itself for torch callers."""
    return float(value) if from_numpy else value


def require_ndim(t: torch.Tensor, ndim: int, name: str, layout: str) -> None:
    if t.ndim != ndim:
        raise ShapeError(f"{name} must have shape {layout}, got {tuple(t.shape)}")
