"""`bm toy-grid`: the toy model trained over an n x B grid and seeds (Fig. 13), with capacity C_t.

Work is done one seed at a time: the cells of a seed are trained together as one batch of models
(they share the seed's nested data: the first n samples and first B views of one draw). After each
seed its rows are merged into grid.csv by an atomic rewrite, so a killed run loses at most the seed
in flight, and a rerun with the same arguments trains only the seeds that are missing; each seed's
batch is always the same, so the finished grid is identical to an uninterrupted run's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from bm.configs import from_saved, read_config
from bm.errors import BMError
from bm.memory import F32, require_memory
from bm.runs import prepare_run_folder, read_csv_rows, read_json, write_csv_rows, write_json
from bm.theory import estimate_capacity, prototype_capacity_bound
from bm.threads import fastest_threads, using_threads
from bm.toy.config import ToyGridConfig
from bm.toy.data import ToyMixture
from bm.toy.summary import COLUMNS, read_grid, summarize
from bm.toy.train import ModelSpec, evaluate, memorization, model_seed, train_batch

__all__ = ["COLUMNS", "ToyGridConfig", "load_grid_config", "run_grid", "toy_capacity", "toy_grid_bytes"]

CURVE_COLUMNS = ["n", "B", "seed", "step", "loss", "inv", "bias"]
_CAPACITY_SEED = 10_007  # capacity labelings use their own seeds, apart from the grid's


def _check_device(device: str) -> torch.device:
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise BMError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BMError(f"device {device!r} requested but CUDA is not available here")
    return dev


def toy_capacity(config: ToyGridConfig, on_step: Callable[[int], None] | None = None, hard: bool = False):
    """Estimate C_t (Definition D.1) of the grid's model and budget: points from the mixture,
    uniformly random labels, B = 1, memorized iff every labeling reaches train accuracy 1
    (scored with the hard nearest-prototype projector when `hard`)."""
    data = replace(config.data, label_noise=1.0, augment="finite")
    mixture = ToyMixture(data)

    def fit(ns, seeds):
        splits = [mixture.split(max(ns), 1, _CAPACITY_SEED + s) for s in seeds]
        specs = [
            ModelSpec(n, 1, j, model_seed(_CAPACITY_SEED, s, n), _CAPACITY_SEED + s)
            for n in ns
            for j, s in enumerate(seeds)
        ]
        trained = train_batch(
            mixture, splits, specs, config.model, replace(config.train, track_every=0), config.device, on_step
        )
        acc = [memorization(trained.final, m, splits[sp.split], sp, hard)[1] for m, sp in enumerate(specs)]
        return np.array(acc).reshape(len(ns), len(seeds))

    return estimate_capacity(fit, n_max=config.capacity_n_max, repeats=config.capacity_repeats, points_per_round=4)


def _capacity(config: ToyGridConfig, out: Path, tick) -> dict:
    path = out / "capacity.json"
    if path.exists():
        return read_json(path, {"capacity": (int, float)})
    est = toy_capacity(config, tick("capacity C_t", 0))
    C = config.data.random_classes or config.data.num_classes
    record = {
        **est.to_dict(),
        "rate": {str(n): r for n, r in est.rate.items()},
        "definition": "largest n whose every tried random labeling (B = 1) reaches train accuracy 1 "
        "within the training budget (Definition D.1)",
        "budget_steps": config.train.steps,
        "hard_prototype_bound": prototype_capacity_bound(config.model.prototypes, config.data.dim, C),
    }
    write_json(path, record)
    return record


@dataclass(frozen=True)
class SeedTask:
    """One seed of a grid as a picklable job (bm.launch): its grid rows and curves, on `threads` CPU threads."""

    config: ToyGridConfig
    seed: int
    threads: int = 1

    def __call__(self) -> tuple[list[dict], list[dict]]:
        with using_threads(self.threads):
            return _train_seed(self.config, self.seed, None)

    def __repr__(self) -> str:
        return f"seed {self.seed}"


def _train_seed(config: ToyGridConfig, seed: int, on_step) -> tuple[list[dict], list[dict]]:
    mixture = ToyMixture(config.data)
    split = mixture.split(max(config.ns), max(config.Bs), seed)
    specs = [ModelSpec(n, B, 0, model_seed(seed, n, B), seed) for n in config.ns for B in config.Bs]
    trained = train_batch(mixture, [split], specs, config.model, config.train, config.device, on_step)
    results = evaluate(mixture, [split], specs, trained, k=config.k, knn_normalize=config.knn_normalize)
    per_model = trained.seconds / len(specs)
    rows = [{"n": s.n, "B": s.B, "seed": seed, **r, "seconds": per_model} for s, r in zip(specs, results)]
    curves = [
        {
            "n": specs[c["model"]].n,
            "B": specs[c["model"]].B,
            "seed": seed,
            **{k: c[k] for k in ("step", "loss", "inv", "bias")},
        }
        for c in trained.curves
    ]
    return rows, curves


def grid_threads(config: ToyGridConfig, requested: int = 0) -> tuple[int, dict[int, float]]:
    """CPU threads for the grid's training (bm.threads.fastest_threads): `requested`, or timed on 40 steps of
    the first seed's batch of models at 1 thread and at torch's default."""
    device = _check_device(config.device)
    require_memory(toy_grid_bytes(config), device, "this grid")
    if device.type != "cpu":
        return torch.get_num_threads(), {}
    mixture = ToyMixture(config.data)
    split = mixture.split(max(config.ns), max(config.Bs), config.seeds[0])
    specs = [
        ModelSpec(n, B, 0, model_seed(config.seeds[0], n, B), config.seeds[0]) for n in config.ns for B in config.Bs
    ]
    short = replace(config.train, steps=min(40, config.train.steps), track_every=0)
    return fastest_threads(lambda: train_batch(mixture, [split], specs, config.model, short), requested)


def run_grid(
    config: ToyGridConfig,
    out: Path,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
    max_seeds: int | None = None,
    threads: int = 0,
    overwrite: bool = False,
    log: Callable[[str], None] | None = None,
    tensorboard: bool = False,
    jobs=None,
) -> Path:
    """Run (or resume) the grid into `out`; returns out. `progress(label, total_steps)` may return a per-step
    callback; `max_seeds` stops after that many newly trained seeds (for tests); `threads`: CPU threads (0:
    chosen by `grid_threads`, said through `log`; the results do not depend on it); `overwrite` empties a folder
    holding another grid; `tensorboard`: event files per cell under OUT/tensorboard/n{n}_B{B}_seed{s} (the curves
    by step, the grid's results at the last step); `jobs` (bm.jobs.Jobs) trains the missing seeds as jobs (local
    ones share this machine's cores: Jobs.threads each)."""
    require_memory(toy_grid_bytes(config), _check_device(config.device), "this grid")
    out = prepare_run_folder(Path(out), config.to_json(), overwrite=overwrite)

    def tick(label: str, total: int):
        return progress(label, total) if progress else None

    if (out / "capacity.json").exists() and {int(r["seed"]) for r in read_grid(out / "grid.csv")} >= set(config.seeds):
        return out  # finished: nothing to train, so no thread count to time
    chosen, seconds = grid_threads(config, threads)
    if log is not None and config.device == "cpu":
        timed = ", ".join(f"{n}: {t * 1e3:.0f} ms" for n, t in seconds.items())
        log(f"toy trainer on {chosen} CPU thread(s)" + (f" (40 steps timed at {timed})" if timed else ""))
    with using_threads(chosen):
        _run_grid(config, out, tick, max_seeds, tensorboard, jobs, chosen)
    return out


def _run_grid(
    config: ToyGridConfig, out: Path, tick, max_seeds: int | None, tensorboard: bool, jobs, threads: int
) -> None:
    _capacity(config, out, tick)  # capacity.json first: the heatmap (bm.figures.heatmap) draws C_t
    rows = read_grid(out / "grid.csv")
    curves = read_csv_rows(out / "curves.csv")
    done = {int(r["seed"]) for r in rows}
    todo = [s for s in config.seeds if s not in done][:max_seeds]
    if jobs is not None and todo:
        from bm.launch import launch

        done_by_jobs = launch([SeedTask(config, s, jobs.threads or threads) for s in todo], jobs, out / "jobs")
    for k, seed in enumerate(todo):
        new_rows, new_curves = (
            done_by_jobs[k] if jobs is not None else _train_seed(config, seed, tick(f"seed {seed}", config.train.steps))
        )
        if tensorboard:
            _events(out, config.train.steps, new_rows, new_curves)
        rows += new_rows
        curves += new_curves
        key = lambda r: (int(r["seed"]), int(r["n"]), int(r["B"]))  # noqa: E731
        write_csv_rows(out / "curves.csv", sorted(curves, key=lambda r: (*key(r), int(r["step"]))), CURVE_COLUMNS)
        write_csv_rows(out / "grid.csv", sorted(rows, key=key), COLUMNS)


def _events(out: Path, steps: int, rows: list[dict], curves: list[dict]) -> None:
    """One seed's cells as TensorBoard runs: loss, Inv, Bias by step; the cell's results at the last step."""
    from bm.tensorboard import EventSink

    for row in rows:
        cell = (row["n"], row["B"], row["seed"])
        sink = EventSink(out / "tensorboard" / "n{}_B{}_seed{}".format(*cell), step="step")
        for c in curves:
            if (c["n"], c["B"], c["seed"]) == cell:
                sink({k: c[k] for k in ("step", "loss", "inv", "bias")})
        sink({"step": steps, **{k: v for k, v in row.items() if k not in ("n", "B", "seed", "loss", "inv", "bias")}})
        sink.close()


def sweep_record(folder: Path) -> dict:
    """Fig. 5 from a finished single-n grid: memorization and K-NN (means over seeds) against B; writes sweep.json."""
    rows = read_grid(folder / "grid.csv")
    cells = summarize(rows)
    n = max(n for n, _ in cells)
    capacity = read_json(folder / "capacity.json", {"capacity": (int, float)})["capacity"]
    steps = read_config(folder)["train"]["steps"]
    record = {
        "n": n,
        "budget": f"{steps} steps",
        "capacity": capacity,
        "knn_init": float(np.mean([c["knn_init"] for (m, _), c in cells.items() if m == n])),
        "rows": [
            {"B": B, "preserve_labels": True, "nB": n * B, "memorization": c["mem_aug"], "knn": c["knn"]}
            for (m, B), c in sorted(cells.items())
            if m == n
        ],
    }
    write_json(folder / "sweep.json", record)
    return record


def toy_grid_bytes(config) -> int:
    """Peak memory of `bm toy-grid` (a `bm.toy.grid.ToyGridConfig`): one seed's nested views (n_max, B_max, d),
    the capacity search's largest batch, and the per-step (M, b, K) blocks of the M models trained at once."""
    d, K = config.data.dim, config.model.prototypes
    n, B, M = max(config.ns), max(config.Bs), len(config.ns) * len(config.Bs)
    per_step = config.train.batch_size or n * B  # full batch: every view
    views = n * B * d + (config.data.probe_train + config.data.test) * d
    capacity = config.capacity_n_max * d * config.capacity_repeats * 4  # points_per_round fits at once
    blocks = 8 * M * per_step * max(K, d)  # distances, 1/r, h, ... and the drawn indices
    return F32 * (2 * views + capacity + blocks + M * (d * d + K * d) * 4)


def load_grid_config(folder: Path) -> ToyGridConfig:
    """The ToyGridConfig a toy-grid folder was run with (older folders: missing fields take their defaults)."""
    raw = read_config(folder)
    if not isinstance(raw, dict) or "ns" not in raw:
        raise BMError(f"{folder} is not a toy-grid folder (no toy-grid config.json)")
    return from_saved(ToyGridConfig, raw)
