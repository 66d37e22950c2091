"""K-NN probe: bm.probe.knn_predict against scikit-learn's brute-force KNeighborsClassifier.

Same data, same run: random Gaussian features (float32), k = 20, uniform votes, Euclidean
distance (normalize=False on our side, so both solve the same problem). Prints both times, the
speed-up and the agreement of predictions.

    python benchmarks/knn.py            # 20k train x 5k test x 256-d
    python benchmarks/knn.py --large    # 50k train x 10k test x 512-d
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.neighbors import KNeighborsClassifier

from bm.probe import knn_predict


def best_of(repeats: int, fn):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="50k x 10k x 512 instead of 20k x 5k x 256")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n_train, n_test, dim = (50_000, 10_000, 512) if args.large else (20_000, 5_000, 256)
    rng = np.random.default_rng(0)
    Xtr = rng.standard_normal((n_train, dim), dtype=np.float32)
    Xte = rng.standard_normal((n_test, dim), dtype=np.float32)
    ytr = rng.integers(0, 10, n_train)
    print(f"K-NN k=20, {n_train} train x {n_test} test x {dim}-d float32, torch threads={torch.get_num_threads()}")

    clf = KNeighborsClassifier(n_neighbors=20, algorithm="brute").fit(Xtr, ytr)
    t_ref, ref = best_of(args.repeats, lambda: clf.predict(Xte))
    t_ours, ours = best_of(args.repeats, lambda: knn_predict(Xtr, ytr, Xte, normalize=False).labels)
    agree = float((ours == ref).mean())
    print(f"scikit-learn brute : {t_ref:8.3f} s")
    print(f"bm knn_predict     : {t_ours:8.3f} s")
    print(
        f"speed-up           : {t_ref / t_ours:8.2f}x   prediction agreement: {agree:.5f} ({int((ours != ref).sum())} differ)"
    )


if __name__ == "__main__":
    main()
