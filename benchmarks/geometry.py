"""MFTMA (bm.theory.manifold_geometry): time and values on four cases, against the per-t scipy NNLS loop run here.

Cases (n_t = 200, kappa = 0, n_reps = 10):
  readme     P = 100 random clouds, N = 5000, M = 50 Gaussian points (the public reference code's README example)
  structured P = 10 low-dimensional clouds (D = 5 directions, radius 0.5, N = 200, M = 40)
  low-rank   P = 50 such clouds (the batched solver's hardest case: rank-deficient anchor problems)
  cifar      10 classes x 50 images of cifar-10-mini, on pixels (skipped without the data)
Ratios are computed only against the baseline timed in this run (the same analysis with scipy's NNLS solving
the P n_t anchor problems one by one). A figure measured elsewhere is printed with its source and never divided.

    python benchmarks/geometry.py [--data-dir ../shared/data/cifar-10-mini] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from bm.theory import manifold_geometry
from bm.theory.separability import low_dimensional_clouds

ELSEWHERE = (
    "The public reference (schung039/neural_manifolds_replicaMFT, pymanopt>=1 port, unmodified numerics), "
    "measured side by side with bm on this kind of 2-core machine for issue #14 (2026-11): 23.3 s at best on "
    "the readme case, capacity 0.0398, radius 1.475, dimension 36.15. Not run here; not divided into a ratio."
)


def cases(data_dir: Path) -> dict[str, list[np.ndarray] | None]:
    rng = np.random.default_rng(0)
    out = {
        "readme": [rng.standard_normal((50, 5000)) for _ in range(100)],
        "structured": low_dimensional_clouds(10, seed=0),
        "low-rank": low_dimensional_clouds(50, seed=0),
        "cifar": None,
    }
    if (data_dir / "cifar-10-batches-py").is_dir():
        from bm.deep.datasets import load_dataset

        data = load_dataset("cifar10", data_dir, "train")
        pixels = data.images.reshape(len(data), -1).double().numpy() / 255
        labels = data.labels.numpy()
        out["cifar"] = [pixels[labels == c][:50] for c in range(10)]
    return out


def timed(clouds, solver: str, repeats: int):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = manifold_geometry(clouds, kappa=0.0, n_t=200, n_reps=10, seed=0, solver=solver)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("BM_CIFAR10_MINI", "../shared/data/cifar-10-mini"))
    )
    parser.add_argument("--repeats", type=int, default=3, help="best of this many timings per side")
    args = parser.parse_args()
    print(
        f"{'case':11s}{'bm s':>8s}{'per-t s':>9s}{'ratio':>7s}{'capacity':>10s}{'(per-t)':>9s}{'radius':>8s}"
        f"{'dimension':>10s}{'K':>3s}{'fallbacks':>10s}"
    )
    for name, clouds in cases(args.data_dir).items():
        if clouds is None:
            print(f"{name:11s} skipped: no cifar-10-batches-py under {args.data_dir}")
            continue
        (t_fast, fast), (t_loop, loop) = timed(clouds, "batched", args.repeats), timed(clouds, "scipy", args.repeats)
        print(
            f"{name:11s}{t_fast:8.2f}{t_loop:9.2f}{t_loop / t_fast:6.1f}x{fast.capacity:10.4f}{loop.capacity:9.4f}"
            f"{fast.radius:8.3f}{fast.dimension:10.2f}{fast.low_rank:3d}{fast.fallbacks:10d}"
        )
    print(ELSEWHERE)


if __name__ == "__main__":
    main()
