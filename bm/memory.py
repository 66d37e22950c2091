"""Memory a command will need, estimated from its arguments and checked before anything is allocated or written.

Estimates count what dominates (float32 throughout): parameters with their gradients and Adam's two states
(16 bytes per parameter), activations kept for the backward pass (and their gradients) for one batch, and the
data held on the device. They are estimates: a command is refused only when the estimate alone exceeds what
the device has free, so a refusal is certain to be right and a pass is not a promise.
"""

from __future__ import annotations

import os

import torch

from bm.errors import BMError

__all__ = ["available_bytes", "deep_train_bytes", "require_memory", "toy_grid_bytes"]

_F32 = 4
_PER_PARAMETER = 4 * _F32  # weight, gradient, Adam's exp_avg and exp_avg_sq


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


def deep_train_bytes(model_config, batch_size: int, images_on_device: int, float_images: int = 0) -> int:
    """Training memory of a `bm.deep.models.Network`: 16 bytes per parameter, twice the leaf modules' outputs
    for `batch_size` images (kept for the backward pass, then their gradients), `images_on_device` uint8 images
    of the configured size (data sets, banks, a finite set's views) and `float_images` float32 ones built at once
    (the decomposition's views). The network is built on the meta device, in eval mode (BatchNorm on a 1 x 1 map of
    one image is refused in training mode): no memory is touched."""
    from bm.deep.models import Network

    with torch.device("meta"):
        net = Network(model_config)
        outputs = []
        hooks = [
            m.register_forward_hook(lambda m, i, o: outputs.append(o.numel()))
            for m in net.modules()
            if not list(m.children())
        ]
        net.eval()(torch.empty(1, 3, model_config.image_size, model_config.image_size))
        for h in hooks:
            h.remove()
    parameters = sum(p.numel() for p in net.parameters())
    pixels = 3 * model_config.image_size**2
    return (
        _PER_PARAMETER * parameters
        + 2 * _F32 * batch_size * sum(outputs)
        + images_on_device * pixels
        + _F32 * float_images * pixels
    )


def toy_grid_bytes(config) -> int:
    """Peak memory of `bm toy-grid` (a `bm.toy.grid.ToyGridConfig`): one seed's nested views (n_max, B_max, d),
    the capacity search's largest batch, and the per-step (M, b, K) blocks of the M models trained at once."""
    d, K = config.data.dim, config.model.prototypes
    n, B, M = max(config.ns), max(config.Bs), len(config.ns) * len(config.Bs)
    per_step = config.train.batch_size or n * B  # full batch: every view
    views = n * B * d + (config.data.probe_train + config.data.test) * d
    capacity = config.capacity_n_max * d * config.capacity_repeats * 4  # points_per_round fits at once
    blocks = 8 * M * per_step * max(K, d)  # distances, 1/r, h, ... and the drawn indices
    return _F32 * (2 * views + capacity + blocks + M * (d * d + K * d) * 4)
