"""Toy grid: all cells of a seed trained as one batch of models vs a per-cell sequential loop, at 1 CPU
thread and at torch's default, and the whole default `bm toy-grid` (capacity search + 3 seeds) at both.

Same data, same steps, same math, both warmed up first: the sequential baseline calls the same
trainer with one model at a time (each model draws its own minibatches from its own generator, so both runs follow the same
trajectories). Prints the times, the speed-ups and the largest difference in final weights and
in the per-cell results; then the grid's wall time at each thread count and whether the two grids agree
bit for bit (the trainer's thread choice, bm.threads, must not change results).

    python benchmarks/toy_grid.py            # the default `bm toy-grid` grid, one seed; then the whole grid
    python benchmarks/toy_grid.py --steps 500 --repeats 3 --no-grid
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bm.runs import read_csv_rows
from bm.threads import using_threads
from bm.toy.data import ToyMixture
from bm.toy.grid import ToyGridConfig, run_grid
from bm.toy.train import ModelSpec, evaluate, model_seed, train_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="override the training budget t")
    parser.add_argument("--repeats", type=int, default=1, help="time each side this many times, keep the fastest")
    parser.add_argument("--no-grid", dest="grid", action="store_false", help="skip timing the whole default grid")
    args = parser.parse_args()
    counts = sorted({1, torch.get_num_threads()})
    for threads in counts:
        print(f"--- one seed's batch of models vs the per-cell loop, {threads} CPU thread(s)")
        with using_threads(threads):
            batch_versus_loop(args)
    if args.grid:
        whole_grid(counts)


def whole_grid(counts: list[int]) -> None:
    """Wall time of the default `bm toy-grid` (no resume) at each thread count and with the count chosen by
    timing (0, the default); the grids must be identical."""
    walls, grids = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for threads in [*counts, 0]:
            start = time.perf_counter()
            out = run_grid(ToyGridConfig(), Path(tmp) / f"t{threads}", threads=threads)
            walls[threads] = time.perf_counter() - start
            grids[threads] = [{k: v for k, v in r.items() if k != "seconds"} for r in read_csv_rows(out / "grid.csv")]
    print("--- the default grid (capacity search + 3 seeds), wall time")
    for threads, wall in walls.items():
        label = f"{threads} CPU thread(s)" if threads else "chosen by timing (default)"
        print(f"{label:27s}: {wall:8.2f} s")
    print(f"grids identical across thread counts: {all(g == grids[counts[0]] for g in grids.values())}")


def batch_versus_loop(args: argparse.Namespace) -> None:
    config = ToyGridConfig()
    train = config.train if args.steps is None else type(config.train)(**{**config.train.__dict__, "steps": args.steps})
    mix = ToyMixture(config.data)
    split = mix.split(max(config.ns), max(config.Bs), seed=0)
    specs = [ModelSpec(n, B, 0, model_seed(0, n, B), 0) for n in config.ns for B in config.Bs]
    print(
        f"{len(specs)} models (n in {config.ns}, B in {config.Bs}), {train.steps} steps, "
        f"batch {train.batch_size}, torch threads={torch.get_num_threads()}"
    )

    warm = type(train)(**{**train.__dict__, "steps": 20})  # one-off start-up costs (allocator, threads)
    train_batch(mix, [split], specs, config.model, warm)
    train_batch(mix, [split], specs[:1], config.model, warm)

    t_batched = t_loop = float("inf")
    for _ in range(args.repeats):  # alternate the two sides, so drifts of a shared machine hit both
        start = time.perf_counter()
        batched = train_batch(mix, [split], specs, config.model, train)
        t_batched = min(t_batched, time.perf_counter() - start)
        start = time.perf_counter()
        alone = [train_batch(mix, [split], [spec], config.model, train) for spec in specs]
        t_loop = min(t_loop, time.perf_counter() - start)

    dW = max(float((batched.final.W[m] - a.final.W[0]).abs().max()) for m, a in enumerate(alone))
    res_b = evaluate(mix, [split], specs, batched, k=config.k)
    res_l = [evaluate(mix, [split], [s], a, k=config.k)[0] for s, a in zip(specs, alone)]
    keys = ("mem_aug", "knn", "inv", "bias", "loss")
    dres = max(abs(rb[k] - rl[k]) for rb, rl in zip(res_b, res_l) for k in keys)
    print(f"sequential per-cell loop : {t_loop:8.2f} s")
    print(f"vectorized (one batch)   : {t_batched:8.2f} s")
    print(f"speed-up                 : {t_loop / t_batched:8.1f}x")
    print(f"max |W_batched - W_loop| = {dW:.2e};  max result difference ({', '.join(keys)}) = {dres:.2e}")
    print(f"mean knn: batched {np.mean([r['knn'] for r in res_b]):.4f}, loop {np.mean([r['knn'] for r in res_l]):.4f}")


if __name__ == "__main__":
    main()
