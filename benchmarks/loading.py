"""Load time of the safe readers against the unrestricted ones they replaced, in the same run (issue: safe loading).

cifar-10-mini: the restricted CIFAR unpickler plus its checks against plain `pickle.load`; a full-size checkpoint
(ResNet18 width 64, projector 65536, Adam states: what the paper's runs write) through `read_saved`
(`torch.load(weights_only=True)`) against `torch.load(weights_only=False)`. Prints the median of `--repeats`
loads of each and their ratio (safe / old; the goal is <= 1.10).

    python benchmarks/loading.py --data-dir ../shared/data/cifar-10-mini
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import tempfile
import time
from pathlib import Path

import torch

from bm.deep.datasets import load_dataset
from bm.deep.config import ModelConfig
from bm.deep.models import Network
from bm.runs import atomic_save, read_saved


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _old_cifar(root: Path) -> None:
    """What the reader did before: unrestricted pickle.load of every file, no checks."""
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["batches.meta"]:
        with open(root / "cifar-10-batches-py" / name, "rb") as f:
            pickle.load(f, encoding="latin1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rows = []
    safe = _median_seconds(lambda: load_dataset("cifar10", args.data_dir, "train"), args.repeats)
    old = _median_seconds(lambda: _old_cifar(args.data_dir), args.repeats)
    rows.append(("cifar-10-mini train (5085 images)", old, safe))
    net = Network(ModelConfig(width=64, projector_width=65536, num_classes=10))
    opt = torch.optim.Adam(net.parameters())
    net(torch.rand(2, 3, 32, 32)).sum().backward()
    opt.step()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.pt"
        atomic_save(path, {"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 1, "position": None,
                           "generator": torch.Generator().get_state(), "torch_rng": torch.get_rng_state()})
        size = path.stat().st_size / 2**20
        safe = _median_seconds(lambda: read_saved(path, ("model", "optimizer")), args.repeats)
        old = _median_seconds(lambda: torch.load(path, map_location="cpu", weights_only=False), args.repeats)
        rows.append((f"full-size checkpoint ({size:.0f} MiB)", old, safe))
    print(f"{'file':40s} {'old s':>8s} {'safe s':>8s} {'safe / old':>10s}")
    for name, old, safe in rows:
        print(f"{name:40s} {old:8.3f} {safe:8.3f} {safe / old:10.2f}")


if __name__ == "__main__":
    main()
