"""Capacity of deep models (Definition D.1) and the finite-augmentation B sweep of Fig. 5.

The budget t counts optimizer steps (Definition D.1), so every run gets
ceil(t / steps per epoch) epochs, with ceil(items / batch size) steps per epoch.
C_t: runs on the first n training images with uniformly random labels, no augmentation, for a
budget of t steps; a labeling counts as memorized when its train accuracy reached 1 within the budget (the
highest of its measurements, bm.reproduce.readout's one meaning of "memorized"). The shared
estimator (`bm.theory.estimate_capacity`) searches n. Fig. 5: fixed n and t, B fixed views per
image (`augment="finite"`), views keeping their image's label or each getting its own; the
memorization rate is the train accuracy over all n B views against their labels, and the K-NN
probe of the embedding (memory bank: every training image with its true label, not only the n
trained on, so that small n still give an informative probe) is reported beside the same probe
at initialisation.
Every run is an ordinary run folder under `out`, so a rerun skips finished runs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from bm.deep.config import CapacitySweepConfig, DeepTrainConfig
from bm.deep.datasets import ImageSet
from bm.deep.train import deep_train_bytes, train_or_resume
from bm.errors import BMError
from bm.memory import require_memory
from bm.runs import RunFolder, prepare_run_folder, write_json
from bm.theory import estimate_capacity

__all__ = ["b_sweep", "capacity_and_sweep", "deep_capacity", "search_sizes"]


def search_sizes(n_max: int, n_min: int = 1, points_per_round: int = 1, resolution: float = 0.0) -> int:
    """The most sizes n that deep_capacity's search (bm.theory.estimate_capacity) fits, each `repeats` training runs:
    the search replayed for C_t at every (n_max // 500)-th n from n_min - 1 to n_max (for `bm reproduce --list`)."""

    def sizes(c: int) -> int:
        fit = lambda ns, seeds: [[float(n <= c)] * len(seeds) for n in ns]  # noqa: E731
        return len(estimate_capacity(fit, n_max, 1, 0, 1.0, n_min, points_per_round, resolution).curve)

    return max(sizes(c) for c in {*range(n_min - 1, n_max + 1, max(1, n_max // 500)), n_max})


def budgeted(cfg: DeepTrainConfig, items: int, steps: int) -> DeepTrainConfig:
    """cfg with the epochs that give `steps` optimizer steps over `items` training items, probing at the end only."""
    epochs = -(-steps // -(-items // cfg.batch_size))
    return replace(cfg, epochs=epochs, probe_every=epochs, checkpoint_every=epochs)


def deep_capacity(
    base: DeepTrainConfig,
    data: tuple[ImageSet, ImageSet],
    out: Path,
    steps: int,
    n_max: int,
    repeats: int = 2,
    jobs=None,
    n_min: int = 1,
    points_per_round: int = 1,
    resolution: float = 0.0,
) -> dict:
    """Estimate C_t for `base` (its model, lr and batch size) and a budget of t = `steps`; writes capacity.json.
    Its `repeats` labelings per n (each with its own initialization) follow base.seed, so that two seeds of a preset
    search with different labelings.
    The search doubles n from `n_min`, then bisects, `points_per_round` sizes at a time, until C_t is bracketed
    within a factor 1 + `resolution` (0: exactly; bm.theory.estimate_capacity).
    `jobs` (bm.jobs.Jobs): the runs of each search round as jobs (they read their data from base.data_dir)."""
    cfg0 = replace(base, label_noise=1.0, augment="none", views=1)

    def fit(ns, seeds):
        runs = [
            (
                budgeted(
                    replace(cfg0, subset=int(n), seed=int(seed), probe_k=max(1, min(cfg0.probe_k, int(n) - 1))),
                    int(n),
                    steps,
                ),
                out / "runs" / f"n{n}_s{seed}",
            )
            for n in ns
            for seed in seeds
        ]
        if jobs is None:
            for cfg, folder in runs:
                train_or_resume(cfg, folder, data)
        else:
            from bm.deep.task import TrainTask
            from bm.launch import launch

            launch([TrainTask(cfg, folder, out / "tasks.jsonl") for cfg, folder in runs], jobs, out / "jobs")
        acc = [max(r["train_acc"] for r in RunFolder(folder).metrics() if "train_acc" in r) for _, folder in runs]
        return np.array(acc).reshape(len(ns), len(seeds))

    est = estimate_capacity(
        fit,
        n_max=n_max,
        repeats=repeats,
        n_min=min(n_min, n_max),
        points_per_round=points_per_round,
        resolution=resolution,
        seed=base.seed * repeats,  # seed s tries labelings s R .. s R + R - 1: every seed its own, seed 0 the first R
    )
    record = {
        **est.to_dict(),
        "rate": {str(n): r for n, r in est.rate.items()},
        "budget_steps": steps,
        "config": cfg0.to_json(),
        "definition": "largest n whose every tried random labeling (no augmentation) "
        "reaches train accuracy 1 within the budget (Definition D.1)",
    }
    write_json(out / "capacity.json", record)
    return record


def b_sweep(
    base: DeepTrainConfig,
    data: tuple[ImageSet, ImageSet],
    out: Path,
    steps: int,
    n: int,
    Bs: list[int],
    capacity: int | None = None,
) -> dict:
    """Fig. 5 at fixed n and t: memorization and K-NN against B, labels preserved or not; sweep.json + plot.
    Memorization is each run's own final measurement (accuracy on its n B views against their labels); the K-NN is
    read under both memory banks: every training image (`knn`) and the n images trained on (`knn_train`)."""
    rows = []
    for preserve in (False, True):
        for B in Bs:
            cfg = budgeted(
                replace(
                    base,
                    subset=n,
                    label_noise=1.0,
                    augment="finite",
                    views=B,
                    preserve_labels=preserve,
                    probe_k=min(base.probe_k, n - 1),
                ),
                n * B,
                steps,
            )
            last = RunFolder(
                train_or_resume(cfg, out / "runs" / f"B{B}_{'preserve' if preserve else 'own'}", data)
            ).metrics()[-1]
            rows.append(
                {
                    "B": B,
                    "preserve_labels": preserve,
                    "nB": n * B,
                    "memorization": last["train_acc"],
                    "knn": last["knn_banks"]["all"],
                    "knn_train": last["knn_banks"]["train"],
                }
            )
    first = RunFolder(out / "runs" / f"B{Bs[0]}_own").metrics()[0]
    record = {
        "n": n,
        "budget": f"{steps} steps",
        "capacity": capacity,
        "knn_init": first["knn_banks"]["all"],
        "knn_init_train": first["knn_banks"]["train"],
        "knn_memory_bank": f"knn: all {len(data[0])} training images (the released code's bank); knn_train: the "
        f"{n} images trained on (Definition 4.1); true labels",
        "rows": rows,
        "config": replace(base, subset=n).to_json(),
    }
    write_json(out / "sweep.json", record)
    return record


def capacity_and_sweep(config: CapacitySweepConfig, data: tuple[ImageSet, ImageSet], out: Path, jobs=None) -> dict:
    """C_t, then the B sweep at n, in `out` (config.json names the whole job; a rerun skips finished runs)."""
    base, c = config.train, config
    if not c.n <= len(data[0]):
        raise BMError(f"n must lie in [2, {len(data[0])}], the training set's size")
    images = len(data[0]) + len(data[1])  # at most: every training image (bank or subset) and the test set
    require_memory(
        deep_train_bytes(replace(base.model, num_classes=base.model.num_classes or 10), base.batch_size, images),
        base.device,
        "each run",
    )
    prepare_run_folder(
        out,
        {"base": base.to_json(), "steps": c.steps, "n": c.n, "Bs": list(c.Bs), "n_max": c.n_max, "repeats": c.repeats},
    )
    est = deep_capacity(base, data, out, c.steps, min(c.n_max, len(data[0])), c.repeats, jobs)
    return b_sweep(base, data, out, c.steps, c.n, list(c.Bs), est["capacity"])
