"""`bm reproduce phase`: the n x B phase diagram of benign memorization for a real network on real images, and the
time the online (B = infinity) runs take to reach it.

Every cell is a random-label run of the scale's model for the scale's optimizer-step budget t: n training images, B
fixed label-preserving views each (`augment="finite"`) or fresh views every step (B = infinity). Per cell:
memorization of the trained items against their training labels, the K-NN under Definition 4.1 (bank: the n images)
and under the released code's bank (every training image), each against init, and the normalized invariance of the
embedding (Eq. 2). C_t is measured for the same model and budget without augmentation (Definition D.1,
bm.deep.capacity.deep_capacity) and drawn as the curve n B = C_t, as on the toy heatmap (Fig. 13), which is drawn
beside it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bm.deep.capacity import deep_capacity
from bm.deep.config import TRAIN_SIZES
from bm.reproduce.outputs import Result, markdown_table
from bm.reproduce.plan import Plan, Run, steps_per_epoch
from bm.reproduce.readout import final, metrics_of
from bm.reproduce.scales import ONLINE
from bm.reproduce.transition import TRANSITION_COLUMNS, TRANSITION_KEYS, fit_growth, transition_times
from bm.runs import read_csv_rows

__all__ = ["FULL_SCALE", "phase_finish", "phase_runs"]

FULL_SCALE = {"n": 50000, "width": 64}  # where the transition times are extrapolated to: CIFAR-10 at Table 6's width


def _cell(plan: Plan, n: int, B: int) -> Run:
    steps = plan.scale.phase.probe_steps
    if B == ONLINE:
        return plan.augmented(label_noise=1.0, subset=n, probe_steps=steps)
    return plan.run(label_noise=1.0, augment="finite", views=B, preserve_labels=True, subset=n, probe_steps=steps)


def _grid(plan: Plan) -> list[tuple[int, int, Run]]:
    g = plan.scale.phase
    return [(n, B, _cell(plan, n, B)) for n in g.ns for B in g.Bs]


def _online(plan: Plan) -> list[tuple[int, int, int, Run]]:
    """(seed, width, n, run) of the transition-time runs: online augmentation at every n and width (the scale's
    width at the plan's seed: the grid's own B = infinity cells), seed by seed."""
    g = plan.scale.phase
    return [(seed, w, n, plan.augmented(label_noise=1.0, subset=n, width=w, probe_steps=g.probe_steps, seed=seed))
            for seed in range(plan.seed, plan.seed + g.seeds) for w in g.widths for n in g.ns]


def phase_runs(plan: Plan) -> list[Run]:
    """The grid's cells, then the transition-time runs of the other widths (shared runs listed once)."""
    runs = [run for _, _, run in _grid(plan)] + [run for *_, run in _online(plan)]
    return list({r.name: r for r in runs}.values())


def _capacity(plan: Plan, folder: Path) -> dict:
    """C_t of the grid's model at its step budget: random labels, no augmentation (runs in folder/capacity/)."""
    g, train = plan.scale.phase, plan.data["cifar10"][0]
    base = plan.run(label_noise=1.0, augment="none").config
    return deep_capacity(base, plan.data["cifar10"], folder / "capacity", plan.scale.steps, len(train),
                         g.capacity_repeats, plan.jobs, g.capacity_n_min, g.capacity_points, g.capacity_resolution)


def _toy(plan: Plan) -> tuple[list[dict], int]:
    """The toy grid of Fig. 13 at this scale (shared with the fig13 preset's folder; trained there if missing)."""
    import json

    from bm.toy.grid import run_grid

    folder = plan.root / "fig13"
    run_grid(plan.scale.toy, folder, progress=plan.progress)
    return read_csv_rows(folder / "grid.csv"), json.loads((folder / "capacity.json").read_text())["capacity"]


def phase_finish(plan: Plan, runs: list[Run], folder: Path) -> Result:
    """The grid's table, C_t and the verdict per cell (n B above or below C_t), the transition times, the figure."""
    capacity = _capacity(plan, folder)
    c_t, censored, failed = capacity["capacity"], capacity["censored"], capacity["failed_at"]
    rows, histories = [], {}  # a run's metrics.jsonl read once (the online cells are also transition runs)

    def history_of(run: Run) -> list[dict]:
        if run.name not in histories:
            histories[run.name] = metrics_of(plan, run)
        return histories[run.name]

    for n, B, run in _grid(plan):
        history = history_of(run)
        end = final(plan, run, history)
        embedding = [r["invariance"]["embedding"] for r in history if "invariance" in r]
        items = math.inf if B == ONLINE else n * B
        rows.append({"n": n, "B": "inf" if B == ONLINE else B, "items": "inf" if B == ONLINE else items,
                     # n B past C_t: True beyond the smallest failure, False up to C_t, None inside the bracket
                     "above_capacity": False if items <= c_t else (True if failed and items >= failed else None),
                     "memorized": end["train_acc"],
                     "steps_to_memorize": end["steps_to_memorize"], "steps": end["steps"],
                     "knn_train": end["knn_train"], "knn_init_train": end["knn_init_train"],
                     "gain_train": end["knn_train"] - end["knn_init_train"], "knn_all": end["knn_all"],
                     "knn_init_all": end["knn_init_all"], "gain_all": end["knn_all"] - end["knn_init_all"],
                     "invariance_init": embedding[0], "invariance": embedding[-1]})
    times = [{"width": w, "n": n, "seed": seed,
              **transition_times(history_of(run), run.config, steps_per_epoch(run.config, TRAIN_SIZES[run.config.dataset]))}
             for seed, w, n, run in _online(plan)]
    toy_rows, toy_capacity = _toy(plan)
    _figure(rows, c_t, failed, toy_rows, toy_capacity, plan, folder / "figure")
    fits = {key: fit_growth(times, key, FULL_SCALE, plan.scale.base.batch_size) for key in TRANSITION_KEYS}
    _transition_figure(times, fits, folder / "transition")

    def mean(key: str, above: bool) -> float | None:
        values = [r[key] for r in rows if r["above_capacity"] == above and r["B"] != "inf"]
        return float(np.mean(values)) if values else None

    bound = f">= {c_t}" if censored else f"{c_t} (fails at {failed})"
    summary = [f"C_t = {bound} at t = {plan.scale.steps} steps (random labels, no augmentation; Definition D.1)",
               f"finite views, n B below C_t: memorized {mean('memorized', False) or float('nan'):.3f}, K-NN gain "
               f"(Def. 4.1) {mean('gain_train', False) or float('nan'):+.3f}; above C_t: memorized "
               f"{mean('memorized', True) or float('nan'):.3f}, gain {mean('gain_train', True) or float('nan'):+.3f} "
               f"(means over cells)"] + [
        f"n {r['n']}, B {r['B']}: memorized {r['memorized']:.3f}, K-NN {r['knn_train']:.3f} vs init "
        f"{r['knn_init_train']:.3f} (bank all {r['knn_all']:.3f} vs {r['knn_init_all']:.3f}), invariance "
        f"{r['invariance']:.3f}" for r in rows]
    columns = list(rows[0])
    header = ["n", "B", "n B", "above C_t", "memorized", "step memorized (>= 0.99)", "steps", "K-NN (Def. 4.1)",
              "init", "gain", "K-NN (bank all)", "init (all)", "gain (all)", "invariance at init", "invariance"]
    table = markdown_table(header, [[r[c] for c in columns] for r in rows]) + "\n" + markdown_table(
        ["width", "n", "seed", *TRANSITION_COLUMNS],
        [[t["width"], t["n"], t["seed"], *(t[c] for c in TRANSITION_COLUMNS)] for t in times])
    summary += [f"transition {key}: t ~ n^{f['exponent_n']:.2f} +- {f['se_n']:.2f}" + (
        f" width^{f['exponent_width']:.2f} +- {f['se_width']:.2f}" if f["exponent_width"] is not None else "")
        + f" ({f['runs']} runs); at n = {FULL_SCALE['n']}, width {FULL_SCALE['width']}: {f['epochs'][1]:.3g} epochs "
        f"(95% {f['epochs'][0]:.3g} .. {f['epochs'][2]:.3g})" if f else f"transition {key}: too few crossings to fit"
        for key, f in fits.items()]
    return Result(rows, columns, summary, ["figure", "transition"], table=table,
                  extra={"capacity": capacity, "transition": times, "fits": fits, "toy_capacity": toy_capacity})


def _transition_figure(times: list[dict], fits: dict, stem: Path) -> None:
    """Crossing steps against n (log-log), one panel per crossing, one line per width, with the fitted power law."""
    from bm.plotting import plt

    from bm.plotting import save_figure

    widths = sorted({t["width"] for t in times})
    fig, axes = plt.subplots(1, len(TRANSITION_KEYS), figsize=(5 * len(TRANSITION_KEYS), 4), constrained_layout=True)
    for ax, key in zip(axes, TRANSITION_KEYS):
        for j, w in enumerate(widths):
            for k, seed in enumerate(sorted({t["seed"] for t in times})):
                got = [(t["n"], t[key]) for t in times if t["width"] == w and t["seed"] == seed and t[key]]
                if got:
                    ax.plot(*zip(*got), marker="o", alpha=0.8, color=f"C{j}", label=None if k else f"width {w}")
        f = fits[key]
        if f:
            ns = np.array(sorted({t["n"] for t in times}), dtype=float)
            for j, w in enumerate(widths):
                scale = (w / FULL_SCALE["width"]) ** (f["exponent_width"] or 0.0)
                ax.plot(ns, f["steps"][1] * (ns / FULL_SCALE["n"]) ** f["exponent_n"] * scale, ":", color=f"C{j}")
        ax.set(xscale="log", yscale="log", xlabel="training images n", ylabel="optimizer steps",
               title=f"first step: {key}" + (f" (t ~ n^{f['exponent_n']:.2f})" if f else " (never crossed)"))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    save_figure(fig, stem)


def _figure(rows: list[dict], c_t: int, failed: int | None, toy_rows: list[dict], toy_capacity: int, plan: Plan,
            stem: Path) -> None:
    """Heatmaps over n (x) and B (y, B = infinity on top) of memorization and the K-NN gains, the curve n B = C_t;
    memorization against n B with C_t marked; the toy model's gain heatmap with its own C_t."""
    from bm.plotting import plt

    from bm.plotting import save_figure
    from bm.toy.summary import boundary, summarize

    ns = sorted({r["n"] for r in rows})
    Bs = [b for b in plan.scale.phase.Bs if b != ONLINE] + ([ONLINE] if ONLINE in plan.scale.phase.Bs else [])
    label = {b: "inf" if b == ONLINE else b for b in Bs}
    at = {(r["n"], r["B"]): r for r in rows}
    fig, axes = plt.subplots(1, 5, figsize=(27, 5.2), constrained_layout=True)
    panels = [("memorized (trained items, their random labels)", "memorized", "magma", (0.0, 1.0)),
              ("K-NN gain over init (bank: the n images, Def. 4.1)", "gain_train", "RdBu", None),
              ("K-NN gain over init (bank: all images, released code)", "gain_all", "RdBu", None)]
    for ax, (title, key, cmap, lim) in zip(axes, panels):
        z = np.array([[at[n, label[b]][key] for n in ns] for b in Bs])
        m = float(np.nanmax(np.abs(z))) or 1.0
        vmin, vmax = lim or (-m, m)
        mesh = ax.imshow(z, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
        for i in range(len(Bs)):
            for j in range(len(ns)):
                ax.text(j, i, f"{z[i, j]:+.2f}" if lim is None else f"{z[i, j]:.2f}", ha="center", va="center",
                        fontsize=8, color="black" if lim is None or z[i, j] > 0.5 else "white")
        # n B = C_t through the grid: B = C_t / n, placed on the grid's index axes by log interpolation; C_t's
        # bracket: the largest n memorized (dashed) and the smallest that failed (dotted)
        finite = [b for b in Bs if b != ONLINE]
        xs = np.linspace(0, len(ns) - 1, 50)
        curve_n = np.exp(np.interp(xs, range(len(ns)), np.log(ns)))
        for value, style, text in ((c_t, "--", f"n B = {c_t} (memorized{'' if failed else '; C_t >= it'})"),
                                   (failed, ":", f"n B = {failed} (failed)")):
            if value:
                ys = np.interp(np.log(value / curve_n), np.log(finite), range(len(finite)), left=np.nan, right=np.nan)
                ax.plot(xs, ys, style, color="red", lw=2, label=text)
        ax.set(xticks=range(len(ns)), xticklabels=ns, yticks=range(len(Bs)), yticklabels=[label[b] for b in Bs],
               xlabel="training images n", ylabel="views per image B (inf: fresh views)", title=title)
        ax.legend(loc="upper right", fontsize=7)
        fig.colorbar(mesh, ax=ax, shrink=0.85)
    ax = axes[3]
    for j, n in enumerate(ns):
        cells = [at[n, label[b]] for b in Bs if b != ONLINE]
        ax.plot([r["items"] for r in cells], [r["memorized"] for r in cells], marker="o", color=f"C{j}", label=f"n {n}")
    ax.axvline(c_t, ls="--", color="red", label=f"largest n memorized without augmentation: {c_t}")
    if failed:
        ax.axvline(failed, ls=":", color="red", label=f"smallest n that failed: {failed}")
    ax.set(xscale="log", xlabel="trained items n B", ylabel="memorized", ylim=(0, 1.02),
           title="finite view sets: memorization against n B")
    ax.legend(fontsize=7)
    ax = axes[4]
    cells = summarize(toy_rows)
    tn, tB = sorted({n for n, _ in cells}), sorted({b for _, b in cells})
    z = np.array([[cells[(n, b)]["knn"] - cells[(n, b)]["knn_init"] for n in tn] for b in tB])
    m = float(np.nanmax(np.abs(z))) or 1.0
    mesh = ax.pcolormesh(tn, tB, z, cmap="RdBu", vmin=-m, vmax=m, shading="nearest")
    bn, bB = boundary(tn, toy_capacity)
    ax.plot(bn, bB, "--", color="red", lw=2, label=f"n B = C_t = {toy_capacity}")
    ax.set(xscale="log", yscale="log", xlabel="samples n", ylabel="B", title="toy model (Fig. 13): K-NN gain over init",
           xlim=(min(tn) / 1.5, max(tn) * 1.5), ylim=(min(tB) / 1.5, max(tB) * 1.5))
    ax.legend(loc="lower left", fontsize=7)
    fig.colorbar(mesh, ax=ax, shrink=0.85)
    fig.suptitle(f"Phase diagram of a random-label {plan.scale.name}-scale ResNet18 on CIFAR-10 images: every cell "
                 f"{plan.scale.steps} optimizer steps", fontsize=10)
    save_figure(fig, stem)
