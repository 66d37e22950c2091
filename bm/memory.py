"""Memory a command will need, estimated from its arguments and checked before anything is allocated or written.

The estimators live beside what they estimate (`bm.deep.train.deep_train_bytes`, `bm.toy.grid.toy_grid_bytes`);
this module holds what they share: the free memory of a device and the check.

Estimates count what dominates (float32 throughout): parameters with their gradients and Adam's two states
(16 bytes per parameter), activations kept for the backward pass (and their gradients) for one batch, and the
data held on the device. They are estimates: a command is refused only when the estimate alone exceeds what
the device has free, so a refusal is certain to be right and a pass is not a promise.
"""

from __future__ import annotations

import os

import torch

from bm.errors import BMError

__all__ = ["F32", "PER_PARAMETER", "available_bytes", "require_memory"]

F32 = 4  # bytes of a float32
PER_PARAMETER = 4 * F32  # weight, gradient, Adam's exp_avg and exp_avg_sq


def available_bytes(device: str | torch.device) -> int:
    """Free memory of a CUDA device, or the system's available memory (MemAvailable) for the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def require_memory(need: int, device: str | torch.device, what: str) -> None:
    """BMError "WHAT needs ~X GB, Y GB available on DEVICE" when the estimate exceeds the free memory."""
    free = available_bytes(device)
    if need > free:
        raise BMError(
            f"{what} needs ~{_gb(need)} GB, {_gb(free)} GB available on {torch.device(device)}; choose smaller sizes"
        )


def _gb(n: int) -> str:
    return f"{n / 2**30:.3g}" if n < 2**40 else f"{n / 2**30:.3e}"
