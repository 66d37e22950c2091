"""`bm reproduce phase`: the n x B phase diagram of benign memorization for a real network on real images, and the
time the online (B = infinity) runs take to reach it.

Every cell is a random-label run of the scale's model for the scale's optimizer-step budget t: n training images, B
fixed label-preserving views each (`augment="finite"`) or fresh views every step (B = infinity). Per cell: the fit of
the trained items (the n B views) and of the n clean images against their training labels, whether it memorized
(accuracy 1 within the budget), the K-NN under Definition 4.1 (bank: the n images; its probe records) and under the
released code's bank (every training image), each against init, and the normalized invariance of the embedding
(Eq. 2) over training and on the cell's own training views against held-out views (bm.analyses.cells). Each finite
cell with B > 1 has an independent-label twin (every view its own random label, Fig. 5's side): whether the twin fits
its n B views says whether they are past the capacity of the budget, measured rather than read off C_t. Seeds: the
preset's --seeds (the grid, its twins and the transition runs at each). C_t is measured for the same model and budget without augmentation (Definition D.1,
bm.analyses.capacity.deep_capacity) and drawn as the curve n B = C_t, as on the toy heatmap (Fig. 13), which is drawn
beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bm.analyses.capacity import deep_capacity, search_sizes
from bm.analyses.cells import cell_measures_of_run
from bm.analyses.transition import (
    FULL_SCALE,
    TRANSITION_COLUMNS,
    TRANSITION_KEYS,
    fit_censored,
    fit_growth,
    transition_times,
)
from bm.deep.config import TRAIN_SIZES
from bm.deep.subsets import PER_BATCH
from bm.figures.phase import plot_phase, plot_transition
from bm.reproduce.outputs import Result, markdown_table
from bm.reproduce.plan import Plan, Run, steps_per_epoch
from bm.reproduce.presets.base import Preset, register_preset, scale_settings
from bm.reproduce.presets.common import definition_probes_of
from bm.reproduce.readout import final, metrics_of
from bm.reproduce.scales import ONLINE
from bm.runs import read_json
from bm.toy.summary import read_grid

__all__ = ["SETTINGS", "PhaseGrid", "phase_finish", "phase_runs"]


@dataclass(frozen=True)
class PhaseGrid:
    """`bm reproduce phase`: the deep n x B diagram of random-label runs and the transition-time runs.

    Every cell trains the scale's step budget; B counts fixed label-preserving views per image (ONLINE = 0: the
    scale's augmentation drawn afresh, B = infinity). C_t is searched for the same model and budget without
    augmentation (Definition D.1), from `capacity_n_min` (doubling, then bisection, `capacity_points` sizes per
    round) up to the training set."""

    ns: tuple[int, ...]  # training images of a cell (uniformly random labels)
    Bs: tuple[int, ...]  # views per image; ONLINE: fresh views (B = infinity)
    widths: tuple[int, ...]  # encoder widths of the transition-time runs (online augmentation, every n)
    wide: int  # one more width, at `wide_ns` only: the held-out test of the width law (0: none)
    wide_ns: tuple[int, ...]
    probe_steps: int  # K-NN probe cadence of these runs (finer than the scale's: the transition is timed by it)
    capacity_n_min: int
    capacity_n_max: int  # the search's last n, at most the training set (full: CIFAR-10's; mini: cifar-10-mini's)
    capacity_points: int
    capacity_repeats: int
    capacity_resolution: float  # C_t bracketed within this factor - 1 (every probe of the search is a training run)


SETTINGS = {
    "full": PhaseGrid(
        ns=(1000, 5000, 10000, 50000),
        Bs=(1, 2, 8, 64, ONLINE),
        widths=(16, 32, 64),
        wide=0,
        wide_ns=(),
        probe_steps=5 * 196,
        capacity_n_min=5000,
        capacity_n_max=TRAIN_SIZES["cifar10"],
        capacity_points=4,
        capacity_repeats=2,
        capacity_resolution=0.25,
    ),
    "mini": PhaseGrid(
        ns=(32, 64, 128, 256),
        Bs=(1, 8, 64, ONLINE),
        widths=(2, 4, 8),
        wide=16,  # ~3.6x the step time of width 4 on this CPU (benchmarks/train_step.py, batch 32, one thread)
        wide_ns=(128, 256),
        probe_steps=400,
        capacity_n_min=512,
        capacity_n_max=5 * PER_BATCH,
        capacity_points=2,
        capacity_repeats=3,
        capacity_resolution=0.5,
    ),
}


def _phase(plan: Plan) -> PhaseGrid:
    return scale_settings(SETTINGS, "phase", plan)


def _cell(plan: Plan, n: int, B: int) -> Run:
    steps = _phase(plan).probe_steps
    if B == ONLINE:
        return plan.augmented(label_noise=1.0, subset=n, probe_steps=steps)
    return plan.run(label_noise=1.0, augment="finite", views=B, preserve_labels=True, subset=n, probe_steps=steps)


def _twin(plan: Plan, n: int, B: int) -> Run | None:
    """The cell's independent-label twin (every one of the n B views its own random label: Fig. 5's side, whose fit
    says whether n B items are past the capacity of the budget); None for B = 1 and online cells."""
    if B in (1, ONLINE):
        return None
    steps = _phase(plan).probe_steps
    return plan.run(label_noise=1.0, augment="finite", views=B, preserve_labels=False, subset=n, probe_steps=steps)


def _grid(plan: Plan) -> list[tuple[int, int, Run, Run | None]]:
    """(n, B, cell, its twin) at the plan's seed."""
    g = _phase(plan)
    return [(n, B, _cell(plan, n, B), _twin(plan, n, B)) for n in g.ns for B in g.Bs]


def _online(plan: Plan) -> list[tuple[int, int, int, Run]]:
    """(seed, width, n, run) of the transition-time runs at the plan's seed: online augmentation at every n and
    width (the scale's width: the grid's own B = infinity cells), then the wide width at its ns."""
    g = _phase(plan)
    pairs = [(w, n) for w in g.widths for n in g.ns] + [(g.wide, n) for n in g.wide_ns if g.wide]
    return [
        (plan.seed, w, n, plan.augmented(label_noise=1.0, subset=n, width=w, probe_steps=g.probe_steps))
        for w, n in pairs
    ]


def phase_runs(plan: Plan) -> list[Run]:
    """The grid's cells and twins, then the transition-time runs of the other widths (shared runs listed once)."""
    grid = [run for _, _, cell, twin in _grid(plan) for run in (cell, twin) if run is not None]
    runs = grid + [run for *_, run in _online(plan)]
    return list({r.name: r for r in runs}.values())


def _capacity(plan: Plan, folder: Path) -> dict:
    """C_t of the grid's model at its step budget: random labels, no augmentation (runs in folder/capacity/)."""
    g, train = _phase(plan), plan.data["cifar10"][0]
    base = plan.run(label_noise=1.0, augment="none").config
    return deep_capacity(
        base,
        plan.data["cifar10"],
        folder / "capacity",
        plan.scale.steps,
        min(g.capacity_n_max, len(train)),
        g.capacity_repeats,
        plan.jobs,
        g.capacity_n_min,
        g.capacity_points,
        g.capacity_resolution,
    )


def _capacity_seconds(plan: Plan) -> float:
    """The C_t search's most training runs (search_sizes x labelings), the scale's steps of a batch each."""
    g = _phase(plan)
    sizes = search_sizes(g.capacity_n_max, g.capacity_n_min, g.capacity_points, g.capacity_resolution)
    return g.capacity_repeats * sizes * plan.scale.steps * plan.scale.base.batch_size / plan.scale.images_per_second


def _toy(plan: Plan) -> tuple[list[dict], int]:
    """The toy grid of Fig. 13 at this scale (shared with the fig13 preset's folder; trained there if missing)."""

    from bm.toy.grid import run_grid

    folder = plan.root / "fig13"
    run_grid(plan.scale.toy, folder, progress=plan.progress)
    return read_grid(folder / "grid.csv"), read_json(folder / "capacity.json", {"capacity": (int, float)})["capacity"]


def phase_finish(plan: Plan, runs: list[Run], folder: Path) -> Result:
    """The grid's table, C_t and the verdict per cell (n B above or below C_t), the transition times, the figure."""
    capacity = _capacity(plan, folder)
    c_t, censored, failed = capacity["capacity"], capacity["censored"], capacity["failed_at"]
    rows, histories = [], {}  # a run's metrics.jsonl read once (the online cells are also transition runs)

    def history_of(run: Run) -> list[dict]:
        if run.name not in histories:
            histories[run.name] = metrics_of(plan, run)
        return histories[run.name]

    probed, cells = {}, {}
    for n, B, run, twin in _grid(plan):
        history = history_of(run)
        end = final(plan, run, history)
        embedding = [r["invariance"]["embedding"] for r in history if "invariance" in r]
        items = math.inf if B == ONLINE else n * B
        key = f"{n}/{'inf' if B == ONLINE else B}"
        probed[key] = definition_probes_of(plan, run)
        cells[key] = cell_measures_of_run(plan.folder(run), plan.data[run.config.dataset], plan.device)
        twin_end = final(plan, twin) if twin is not None else None
        rows.append(
            {
                "n": n,
                "B": "inf" if B == ONLINE else B,
                "items": "inf" if B == ONLINE else items,
                # n B past C_t: True beyond the smallest failure, False up to C_t, None inside the bracket
                "above_capacity": False if items <= c_t else (True if failed and items >= failed else None),
                # measured for the views: the twin (own labels) did not fit its n B views perfectly in the budget
                "views_past_capacity": None if twin_end is None else not twin_end["memorized"],
                "twin_fit": None if twin_end is None else twin_end["train_acc"],
                "fit": end["train_acc"],
                "memorized": end["memorized"],
                "fit_clean": cells[key]["fit_clean"],
                "steps_to_memorize": end["steps_to_memorize"],
                "steps": end["steps"],
                "knn_train": end["knn_train"],
                "knn_init_train": end["knn_init_train"],
                "gain_train": end["knn_train"] - end["knn_init_train"],
                "knn_all": end["knn_all"],
                "knn_init_all": end["knn_init_all"],
                "gain_all": end["knn_all"] - end["knn_init_all"],
                "invariance_init": embedding[0],
                "invariance": embedding[-1],
                "invariance_train": cells[key]["invariance_train"],
                "invariance_heldout": cells[key]["invariance_heldout"],
            }
        )
    times = [
        {
            "width": w,
            "n": n,
            "seed": seed,
            **transition_times(
                history_of(run), run.config, steps_per_epoch(run.config, TRAIN_SIZES[run.config.dataset])
            ),
        }
        for seed, w, n, run in _online(plan)
    ]
    toy_rows, toy_capacity = _toy(plan)
    plot_phase(
        rows,
        c_t,
        failed,
        toy_rows,
        toy_capacity,
        f"Phase diagram of a random-label {plan.scale.name}-scale "
        f"ResNet18 on CIFAR-10 images: every cell {plan.scale.steps} optimizer steps",
        folder / "figure",
    )
    fits = {key: fit_growth(times, key, FULL_SCALE, plan.scale.base.batch_size) for key in TRANSITION_KEYS}
    kept = {key: fit_censored(times, key, FULL_SCALE, plan.scale.base.batch_size) for key in TRANSITION_KEYS}
    plot_transition(times, kept, FULL_SCALE, folder / "transition")

    def mean(key: str, above: bool) -> float | None:
        values = [r[key] for r in rows if r["above_capacity"] == above and r["B"] != "inf"]
        return float(np.mean(values)) if values else None

    bound = f">= {c_t}" if censored else f"{c_t} (fails at {failed})"
    summary = [
        f"C_t = {bound} at t = {plan.scale.steps} steps (random labels, no augmentation; Definition D.1)",
        f"finite views, n B below C_t: fit {mean('fit', False) or float('nan'):.3f}, K-NN gain "
        f"(Def. 4.1) {mean('gain_train', False) or float('nan'):+.3f}; above C_t: fit "
        f"{mean('fit', True) or float('nan'):.3f}, gain {mean('gain_train', True) or float('nan'):+.3f} "
        f"(means over cells)",
    ] + [
        f"n {r['n']}, B {r['B']}: fit {r['fit']:.3f} (clean images {r['fit_clean']:.3f}), K-NN {r['knn_train']:.3f} vs init "
        f"{r['knn_init_train']:.3f} (bank all {r['knn_all']:.3f} vs {r['knn_init_all']:.3f}), invariance "
        f"{r['invariance']:.3f}"
        for r in rows
    ]
    columns = list(rows[0])
    header = [
        "n",
        "B",
        "n B",
        "above C_t",
        "views past capacity (twin not fitted)",
        "twin's fit",
        "fit (trained items)",
        "memorized (accuracy 1 reached)",
        "fit (clean images)",
        "first step memorized (accuracy 1)",
        "steps",
        "K-NN (Def. 4.1)",
        "init",
        "gain",
        "K-NN (bank all)",
        "init (all)",
        "gain (all)",
        "invariance at init",
        "invariance",
        "invariance (training views)",
        "invariance (held-out views)",
    ]
    table = (
        markdown_table(header, [[r[c] for c in columns] for r in rows])
        + "\n"
        + markdown_table(
            ["width", "n", "seed", *TRANSITION_COLUMNS],
            [[t["width"], t["n"], t["seed"], *(t[c] for c in TRANSITION_COLUMNS)] for t in times],
        )
    )
    summary += [
        f"transition {key} ({how}): t ~ n^{f['exponent_n']:.2f} +- {f['se_n']:.2f}"
        + (f" width^{f['exponent_width']:.2f} +- {f['se_width']:.2f}" if f["exponent_width"] is not None else "")
        + f" ({f['runs']} runs crossed{', %d censored' % f['censored'] if 'censored' in f else ''}); at n = "
        f"{FULL_SCALE['n']}, width {FULL_SCALE['width']}: {f['epochs'][1]:.3g} epochs (95% {f['epochs'][0]:.3g} .. "
        f"{f['epochs'][2]:.3g})"
        if f
        else f"transition {key} ({how}): too few crossings to fit"
        for how, chosen in (("least squares", fits), ("censored", kept))
        for key, f in chosen.items()
    ]
    return Result(
        rows,
        columns,
        summary,
        ["figure", "transition"],
        table=table,
        extra={
            "capacity": capacity,
            "transition": times,
            "fits": fits,
            "censored_fits": kept,
            "toy_capacity": toy_capacity,
            "probed": probed,
            "cells": cells,
        },
    )


register_preset(
    Preset(
        "phase",
        "figure",
        "beyond the paper",
        "the n x B phase diagram of random-label runs at one step budget, with "
        "C_t (Definition D.1) and the toy's diagram beside it; the time to the benign transition against n and width",
        phase_runs,
        phase_finish,
        extra_seconds=_capacity_seconds,
    )
)
