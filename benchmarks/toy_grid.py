"""Toy grid: all cells of a seed trained as one batch of models vs a per-cell sequential loop.

Same data, same steps, same math, both warmed up first: the sequential baseline calls the same
trainer with one model at a time (each model draws its own minibatches from its own generator, so both runs follow the same
trajectories). Prints both times, the speed-up and the largest difference in final weights and
in the per-cell results.

    python benchmarks/toy_grid.py            # the default `bm toy-grid` grid, one seed
    python benchmarks/toy_grid.py --steps 500 --repeats 3
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from bm.toy.grid import ToyGridConfig
from bm.toy.data import ToyMixture
from bm.toy.train import ModelSpec, evaluate, model_seed, train_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="override the training budget t")
    parser.add_argument("--repeats", type=int, default=1, help="time each side this many times, keep the fastest")
    args = parser.parse_args()
    config = ToyGridConfig()
    train = config.train if args.steps is None else type(config.train)(**{**config.train.__dict__, "steps": args.steps})
    mix = ToyMixture(config.data)
    split = mix.split(max(config.ns), max(config.Bs), seed=0)
    specs = [ModelSpec(n, B, 0, model_seed(0, n, B), 0) for n in config.ns for B in config.Bs]
    print(f"{len(specs)} models (n in {config.ns}, B in {config.Bs}), {train.steps} steps, "
          f"batch {train.batch_size}, torch threads={torch.get_num_threads()}")

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
