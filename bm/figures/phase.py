"""The phase preset's figures: the deep n x B diagram beside the toy's (Fig. 13), C_t's curve beside the twins' fits,
and the transition times."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bm.figures import plt, save_figure
from bm.toy.summary import boundary, summarize

__all__ = ["plot_capacity", "plot_diagram", "plot_phase", "plot_transition"]


def _heatmap(fig, ax, z: np.ndarray, texts: list[list[str]], cmap: str, lim, ns: list, Bs: list, title: str) -> None:
    """z (B, n) on the grid's index axes, each cell's text in it, B = infinity ("inf") on top; `lim` (vmin, vmax),
    None: symmetric about 0."""
    m = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    vmin, vmax = lim or (-(m or 1.0), m or 1.0)
    mesh = ax.imshow(z, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    for i, row in enumerate(texts):
        for j, text in enumerate(row):
            v = z[i, j]  # white on the dark end of magma, on both dark ends of RdBu
            dark = np.isfinite(v) and (v <= (vmin + vmax) / 2 if lim is not None else abs(v) > 0.6 * vmax)
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set(
        xticks=range(len(ns)),
        xticklabels=ns,
        yticks=range(len(Bs)),
        yticklabels=Bs,
        xlabel="training images n",
        ylabel="views per image B (inf: fresh views)",
        title=title,
    )
    fig.colorbar(mesh, ax=ax, shrink=0.85)


def _capacity_curve(ax, ns: list, finite: list[int], value: int, style: str, text: str | None, lw: float = 2) -> None:
    """n B = value through a heatmap of _heatmap: B = value / n on the index axes by log interpolation (off the finite
    Bs: not drawn)."""
    xs = np.linspace(0, len(ns) - 1, 50)
    curve_n = np.exp(np.interp(xs, range(len(ns)), np.log(ns)))
    ys = np.interp(np.log(value / curve_n), np.log(finite), range(len(finite)), left=np.nan, right=np.nan)
    ax.plot(xs, ys, style, color="red", lw=lw, label=text)


def plot_diagram(
    cells: list[dict], verdicts: dict[str, str], capacities: dict[str, dict], probe: str, heading: str, stem: Path
) -> None:
    """The phase diagram over seeds (cells: bm.findings.phase.phase_cells): per (n, B) the seeds that memorized (fit
    1) with the mean fit; the grid probe's mean gain over init with its verdict (`verdicts` by cell key); the seeds
    whose n B views are past capacity by the independent-label twin. Each seed's C_t (capacities: its capacity
    record) drawn as n B = C_t."""
    ns = sorted({c["n"] for c in cells})
    finite = sorted({int(c["B"]) for c in cells if c["B"] != "inf"})
    Bs = [str(b) for b in finite] + (["inf"] if any(c["B"] == "inf" for c in cells) else [])
    at = {(c["n"], c["B"]): c for c in cells}
    grid = lambda f: [[f(at[n, b]) if (n, b) in at else None for n in ns] for b in Bs]  # noqa: E731
    share = lambda x, c: np.nan if x is None else x / c["seeds"]  # noqa: E731
    short = {"shown": "shown", "not shown": "not shown", "inconclusive": "inconcl."}
    panels = [
        (
            "memorized: seeds whose fit reached 1 (mean fit)",
            grid(lambda c: share(c["memorized"], c)),
            grid(lambda c: f"{c['memorized']}/{c['seeds']}\n{c['fit']:.2f}"),
            "magma",
            (0.0, 1.0),
        ),
        (
            f"{probe}: gain over init, mean over seeds (verdict)",
            grid(lambda c: float(np.mean(c["gains"]))),
            grid(lambda c: f"{np.mean(c['gains']):+.3f}\n{short.get(verdicts.get(c['key'], ''), '')}"),
            "RdBu",
            None,
        ),
        (
            "views past capacity: seeds whose twin did not fit (twin's fit)",
            grid(lambda c: share(c["past"], c)),
            grid(lambda c: "-" if c["past"] is None else f"{c['past']}/{c['seeds']}\n{c['twin_fit']:.2f}"),
            "magma",
            (0.0, 1.0),
        ),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2), constrained_layout=True)
    for ax, (title, z, texts, cmap, lim) in zip(axes, panels):
        z = np.array([[np.nan if v is None else v for v in row] for row in z], dtype=float)
        _heatmap(fig, ax, z, [[t or "" for t in row] for row in texts], cmap, lim, ns, Bs, title)
        for j, (seed, cap) in enumerate(sorted(capacities.items())):
            text = f"n B = C_t{' (>=, censored)' if cap['censored'] else ''}, each seed" if j == 0 else None
            _capacity_curve(ax, ns, finite, int(cap["capacity"]), "--", text, lw=1.5)
        ax.legend(loc="upper right", fontsize=7)
    fig.suptitle(heading, fontsize=10)
    save_figure(fig, stem)


def plot_phase(
    rows: list[dict], c_t: int, failed: int | None, toy_rows: list[dict], toy_capacity: int, heading: str, stem: Path
) -> None:
    """Heatmaps over n (x) and B (y, B = infinity, the row's "inf", on top) of the fit and the K-NN gains (rows:
    the phase table's), the curve n B = C_t (c_t memorized, `failed` the smallest failure); memorization against n B
    with C_t marked; the toy model's gain heatmap (toy_rows: its grid.csv) with its own C_t."""
    ns = sorted({r["n"] for r in rows})
    finite = sorted({r["B"] for r in rows if r["B"] != "inf"})
    Bs = finite + (["inf"] if any(r["B"] == "inf" for r in rows) else [])
    at = {(r["n"], r["B"]): r for r in rows}
    fig, axes = plt.subplots(1, 5, figsize=(27, 5.2), constrained_layout=True)
    panels = [
        ("fit (trained items, their random labels)", "fit", "magma", (0.0, 1.0)),
        ("K-NN gain over init (bank: the n images, Def. 4.1)", "gain_train", "RdBu", None),
        ("K-NN gain over init (bank: all images, released code)", "gain_all", "RdBu", None),
    ]
    for ax, (title, key, cmap, lim) in zip(axes, panels):
        z = np.array([[at[n, b][key] for n in ns] for b in Bs])
        texts = [[f"{v:+.2f}" if lim is None else f"{v:.2f}" for v in row] for row in z]
        _heatmap(fig, ax, z, texts, cmap, lim, ns, Bs, title)
        for value, style, text in (
            (c_t, "--", f"n B = {c_t} (memorized{'' if failed else '; C_t >= it'})"),
            (failed, ":", f"n B = {failed} (failed)"),
        ):
            if value:
                _capacity_curve(ax, ns, finite, value, style, text)
        ax.legend(loc="upper right", fontsize=7)
    ax = axes[3]
    for j, n in enumerate(ns):
        cells = [at[n, b] for b in Bs if b != "inf"]
        ax.plot([r["items"] for r in cells], [r["fit"] for r in cells], marker="o", color=f"C{j}", label=f"n {n}")
        twins = [r for r in cells if r.get("twin_fit") is not None]
        if twins:  # the independent-label twins: the same views, each its own label
            ax.plot([r["items"] for r in twins], [r["twin_fit"] for r in twins], "x--", color=f"C{j}")
    ax.axvline(c_t, ls="--", color="red", label=f"largest n memorized without augmentation: {c_t}")
    if failed:
        ax.axvline(failed, ls=":", color="red", label=f"smallest n that failed: {failed}")
    ax.set(
        xscale="log",
        xlabel="trained items n B",
        ylabel="fit of the trained items",
        ylim=(0, 1.02),
        title="finite view sets: fit against n B (x, dashed: independent-label twins)",
    )
    ax.legend(fontsize=7)
    ax = axes[4]
    cells = summarize(toy_rows)
    tn, tB = sorted({n for n, _ in cells}), sorted({b for _, b in cells})
    z = np.array([[cells[(n, b)]["knn"] - cells[(n, b)]["knn_init"] for n in tn] for b in tB])
    m = float(np.nanmax(np.abs(z))) or 1.0
    mesh = ax.pcolormesh(tn, tB, z, cmap="RdBu", vmin=-m, vmax=m, shading="nearest")
    bn, bB = boundary(tn, toy_capacity)
    ax.plot(bn, bB, "--", color="red", lw=2, label=f"n B = C_t = {toy_capacity}")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="samples n",
        ylabel="B",
        title="toy model (Fig. 13): K-NN gain over init",
        xlim=(min(tn) / 1.5, max(tn) * 1.5),
        ylim=(min(tB) / 1.5, max(tB) * 1.5),
    )
    ax.legend(loc="lower left", fontsize=7)
    fig.colorbar(mesh, ax=ax, shrink=0.85)
    fig.suptitle(heading, fontsize=10)
    save_figure(fig, stem)


def plot_transition(times: list[dict], fits: dict, at: dict, stem: Path) -> None:
    """Crossing steps against n (log-log), one panel per crossing (the keys of `fits`), one line per width and seed,
    with the power law fitted through `at` (n, width: where the fit extrapolated to); open markers: runs that never
    crossed, at their budget (censored)."""
    widths = sorted({t["width"] for t in times})
    fig, axes = plt.subplots(1, len(fits), figsize=(5 * len(fits), 4), constrained_layout=True)
    for ax, key in zip(np.atleast_1d(axes), fits):
        for j, w in enumerate(widths):
            for k, seed in enumerate(sorted({t["seed"] for t in times})):
                got = [(t["n"], t[key]) for t in times if t["width"] == w and t["seed"] == seed and t[key]]
                if got:
                    ax.plot(*zip(*got), marker="o", alpha=0.8, color=f"C{j}", label=None if k else f"width {w}")
            never = [(t["n"], t["steps"]) for t in times if t["width"] == w and not t[key] and t.get("steps")]
            if never:
                ax.plot(*zip(*never), "o", mfc="none", color=f"C{j}")
        f = fits[key]
        if f:
            ns = np.array(sorted({t["n"] for t in times}), dtype=float)
            for j, w in enumerate(widths):
                scale = (w / at["width"]) ** (f["exponent_width"] or 0.0)
                ax.plot(ns, f["steps"][1] * (ns / at["n"]) ** f["exponent_n"] * scale, ":", color=f"C{j}")
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="training images n",
            ylabel="optimizer steps",
            title=f"first step: {key}"
            + (
                f" (t ~ n^{f['exponent_n']:.2f} width^{f['exponent_width']:.2f})"
                if f and f["exponent_width"] is not None
                else f" (t ~ n^{f['exponent_n']:.2f})"
                if f
                else " (never crossed)"
            ),
        )
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    save_figure(fig, stem)


def plot_capacity(capacities: dict[str, dict], twins: list[tuple[str, int, float]], stem: Path) -> None:
    """Fit against the number of trained items at one threshold, accuracy 1: per seed (`capacities`: seed -> its
    capacity.json record) each labeling its C_t search tried (no augmentation; dots, the smallest joined) and its
    C_t (dashed), and the phase cells' independent-label twins (`twins`: (seed, n B, fit) of the n B views each
    with its own label; crosses), which say whether n B views are past capacity."""
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for j, (seed, c) in enumerate(capacities.items()):
        curve = sorted((int(n), a) for n, a in c["curve"].items())
        for n, accuracies in curve:
            ax.plot([n] * len(accuracies), accuracies, "o", color=f"C{j}", alpha=0.5, ms=4)
        ax.plot(
            [n for n, _ in curve], [min(a) for _, a in curve], "-", color=f"C{j}", label=f"seed {seed}: no augmentation"
        )
        ax.axvline(
            c["capacity"],
            ls="--",
            color=f"C{j}",
            lw=1,
            label=f"seed {seed}: C_t {'>= ' if c['censored'] else ''}{c['capacity']}",
        )
        mine = sorted((items, fit) for s, items, fit in twins if s == seed)
        if mine:
            ax.plot(*zip(*mine), "x", color=f"C{j}", ms=8, mew=2, label=f"seed {seed}: twins (n B views, own labels)")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set(
        xscale="log",
        xlabel="trained items (n images, or n B views)",
        ylabel="fit of the random labels (accuracy on the trained items)",
        title="C_t (Definition D.1: every labeling at accuracy 1) and the twins' fits",
    )
    ax.legend(fontsize=7)
    save_figure(fig, stem)
