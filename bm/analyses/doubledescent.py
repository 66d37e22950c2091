"""Model-wise double descent (Nakkiran et al. 2019; Stephenson et al. 2021, Sec. 5): what one run of a width sweep
contributes, measured on its final weights: the fit of its training images against their training labels, over all
of them and separately over the permuted (randomized) and the kept examples; the test accuracy against the true
labels; the parameter count. The sweep's interpolation threshold is the smallest width whose fit is perfect."""

from __future__ import annotations

from pathlib import Path

import torch

from bm.analyses.probing import load_run, network_at, run_data
from bm.deep.datasets import ImageSet
from bm.runs import run_record

__all__ = ["RECORD", "fit_by_group", "fit_by_group_of_run", "interpolation_threshold"]

RECORD = "fit_by_group.json"
VERSION = 1


@torch.no_grad()
def _correct(net: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, device: str) -> torch.Tensor:
    """(N,) bool: the network's output class equals `labels`, images uint8 (N, 3, H, W)."""
    out = [net(images[s : s + 512].to(device).float() / 255).argmax(1).cpu() for s in range(0, len(images), 512)]
    return torch.cat(out) == labels.cpu()


def fit_by_group(path: Path, data: tuple[ImageSet, ImageSet] | None = None, device: str = "cpu") -> dict:
    """The module doc's measures of the run at `path`: train_fit, permuted_fit and kept_fit (None where the group is
    empty), their sizes, test_acc, params."""
    run, cfg, weights = load_run(path)
    train, test = run_data(cfg, data=data)
    saved = run.labels(("labels", "randomized"))
    net = network_at(cfg, weights, device)
    hits = _correct(net, train.images, saved["labels"], device)
    randomized = saved["randomized"].bool().cpu()

    def share(mask: torch.Tensor) -> float | None:
        return float(hits[mask].double().mean()) if bool(mask.any()) else None

    return {
        "train_fit": float(hits.double().mean()),
        "permuted_fit": share(randomized),
        "kept_fit": share(~randomized),
        "permuted": int(randomized.sum()),
        "kept": int((~randomized).sum()),
        "test_acc": float(_correct(net, test.images, test.labels, device).double().mean()),
        "params": sum(p.numel() for p in net.parameters()),
    }


def fit_by_group_of_run(path: Path, data: tuple[ImageSet, ImageSet] | None = None, device: str = "cpu") -> dict:
    """`fit_by_group` of a finished run, read from its RECORD when that holds the run's final epoch."""
    return run_record(path, RECORD, VERSION, lambda: fit_by_group(path, data, device))


def interpolation_threshold(widths: list[int], fits: list[float]) -> int | None:
    """The smallest width whose training fit is perfect (accuracy 1 on its training labels); None: none is."""
    return next((w for w, f in sorted(zip(widths, fits)) if f >= 1.0), None)
