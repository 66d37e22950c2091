"""A fixed Gaussian random projection of wide features (a Johnson-Lindenstrauss sketch) for per-layer probes.

x (N, D) -> x R / sqrt(k), R (D, k) with i.i.d. N(0, 1) entries, so squared distances are kept in expectation and
within a factor 1 +- eps for k ~ log(N) / eps^2. R depends only on (D, k, seed) and is generated in blocks of rows,
never whole: a 65536-dim layer sketched to 4096 needs 64 MiB at a time, not 1 GiB, and any batch of images is
sketched identically.
"""

from __future__ import annotations

import torch

from bm.errors import BMError

__all__ = ["gaussian_sketch"]

_BLOCK = 4096  # rows of R generated at once


def _rows(d: int, k: int, seed: int, start: int, stop: int, device: torch.device) -> torch.Tensor:
    """Rows start..stop of R (D, k), generated from (D, k, seed, block): the same whatever the batch."""
    gen = torch.Generator().manual_seed((((seed * 1_000_003 + d) * 1_000_033 + k) * 1_000_037 + start) % 2**63)
    return torch.randn(stop - start, k, generator=gen).to(device)


def gaussian_sketch(x: torch.Tensor, k: int, seed: int = 0) -> torch.Tensor:
    """x (N, D) float -> (N, k): x R / sqrt(k), R (D, k) standard Gaussian fixed by (D, k, seed)."""
    if x.ndim != 2 or k < 1:
        raise BMError(f"a sketch takes features (N, D) and k >= 1; got shape {tuple(x.shape)}, k = {k}")
    d = x.shape[1]
    out = torch.zeros(x.shape[0], k, dtype=x.dtype, device=x.device)
    for start in range(0, d, _BLOCK):
        stop = min(d, start + _BLOCK)
        out += x[:, start:stop] @ _rows(d, k, seed, start, stop, x.device).to(x.dtype)
    return out / k**0.5
