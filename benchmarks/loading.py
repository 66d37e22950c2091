"""Load time of the safe readers against the unrestricted ones they replaced, in the same run (issue: safe loading).

cifar-10-mini: the restricted CIFAR unpickler plus its checks against plain `pickle.load`; a full-size checkpoint
(ResNet18 width 64, projector 65536, Adam states: what the paper's runs write) read and loaded into the model and
optimizer, through `read_saved` (`torch.load(weights_only=True, mmap=True)`) against the old
`torch.load(weights_only=False)`. Prints the median of `--repeats` interleaved loads of each and their ratio (safe /
old; the goal is <= 1.10).

    python benchmarks/loading.py --data-dir ../shared/data/cifar-10-mini
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bm.deep.config import ModelConfig
from bm.deep.datasets import load_dataset
from bm.deep.models import Network
from bm.runs import atomic_save, read_saved


def _medians(fns: dict, repeats: int) -> dict:
    """Median seconds of each function, the functions interleaved in every repeat (a busy machine slows all alike)."""
    times: dict = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _old_cifar(root: Path) -> None:
    """What the reader did before: unrestricted pickle.load of every file, the rows as uint8 tensors, no checks."""
    images, labels = [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        with open(root / "cifar-10-batches-py" / name, "rb") as f:
            batch = pickle.load(f, encoding="latin1")
        images.append(torch.from_numpy(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).copy()))
        labels.append(torch.as_tensor(batch["labels"], dtype=torch.long))
    with open(root / "cifar-10-batches-py" / "batches.meta", "rb") as f:
        pickle.load(f, encoding="latin1")
    torch.cat(images), torch.cat(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rows = []
    t = _medians(
        {"old": lambda: _old_cifar(args.data_dir), "safe": lambda: load_dataset("cifar10", args.data_dir, "train")},
        args.repeats,
    )
    rows.append(("cifar-10-mini train (5085 images)", t["old"], t["safe"]))
    net = Network(ModelConfig(width=64, projector_width=65536, num_classes=10))
    opt = torch.optim.Adam(net.parameters())
    net(torch.rand(2, 3, 32, 32)).sum().backward()
    opt.step()

    def restore(state: dict) -> None:  # what a resume does with what it read
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.pt"
        atomic_save(
            path,
            {
                "model": net.state_dict(),
                "optimizer": opt.state_dict(),
                "epoch": 1,
                "position": None,
                "generator": torch.Generator().get_state(),
                "torch_rng": torch.get_rng_state(),
            },
        )
        size = path.stat().st_size / 2**20
        t = _medians(
            {
                "old": lambda: restore(torch.load(path, map_location="cpu", weights_only=False)),
                "safe": lambda: restore(read_saved(path, ("model", "optimizer"))),
            },
            args.repeats,
        )
        rows.append((f"full-size checkpoint, read + restored ({size:.0f} MiB)", t["old"], t["safe"]))
    print(f"{'file':40s} {'old s':>8s} {'safe s':>8s} {'safe / old':>10s}")
    for name, old, safe in rows:
        print(f"{name:40s} {old:8.3f} {safe:8.3f} {safe / old:10.2f}")


if __name__ == "__main__":
    main()
