"""Fig. 13-style heatmaps of a toy grid: K-NN accuracy, memorization and the gain over init."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bm.figures import plt, save_figure
from bm.toy.summary import boundary, summarize

__all__ = ["grid_heatmap", "plot_heatmap"]


def _edges(values: list[int]) -> np.ndarray:
    """Cell edges on a log axis: geometric midpoints, extended by half a step at both ends."""
    v = np.log(np.asarray(values, dtype=float))
    step = np.diff(v).mean() if len(v) > 1 else np.log(2.0)
    mids = (v[:-1] + v[1:]) / 2
    return np.exp(np.concatenate([[v[0] - step / 2], mids, [v[-1] + step / 2]]))


def plot_heatmap(rows: list[dict], capacity: int, stem: Path, config=None) -> list[Path]:
    """Write stem.png and stem.pdf: panels over n (x, log) and B (y, log), means over seeds."""
    cells = summarize(rows)
    ns = sorted({n for n, _ in cells})
    Bs = sorted({B for _, B in cells})
    grid = {c: np.array([[cells[(n, B)][c] for n in ns] for B in Bs]) for c in ("knn", "mem_aug", "knn_init")}
    panels = [
        ("K-NN clean-test accuracy (encoder)", grid["knn"], "viridis", None),
        ("memorization: train acc. on random labels (all n·B views)", grid["mem_aug"], "magma", (0, 1)),
        ("K-NN gain over initialization", grid["knn"] - grid["knn_init"], "RdBu", "sym"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2), constrained_layout=True)
    xe, ye = _edges(ns), _edges(Bs)
    bn, bB = boundary(ns, capacity)
    for ax, (title, z, cmap, lim) in zip(axes, panels):
        if lim == "sym":
            m = float(np.nanmax(np.abs(z))) or 1.0
            vmin, vmax = -m, m
        else:
            vmin, vmax = lim if lim else (float(np.nanmin(z)), float(np.nanmax(z)))
        mesh = ax.pcolormesh(xe, ye, z, cmap=cmap, vmin=vmin, vmax=vmax, shading="flat")
        for i, B in enumerate(Bs):
            for j, n in enumerate(ns):
                val = z[i, j]
                shade = (val - vmin) / (vmax - vmin + 1e-12)
                dark = shade < 0.5 if cmap != "RdBu" else abs(shade - 0.5) > 0.3
                ax.text(
                    n,
                    B,
                    f"{val:+.2f}" if lim == "sym" else f"{val:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
        ax.plot(bn, bB, color="red", lw=2, ls="--", label=f"n·B = C_t = {capacity}")
        ax.set(
            xscale="log",
            yscale="log",
            xlim=(xe[0], xe[-1]),
            ylim=(ye[0], ye[-1]),
            xlabel="samples n (log)",
            ylabel="augmentations per sample B (log)",
            title=title,
        )
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.set_yticks(Bs, [str(B) for B in Bs])
        ax.minorticks_off()
        fig.colorbar(mesh, ax=ax, shrink=0.9)
        ax.legend(loc="lower left", fontsize=8, framealpha=0.8)
    seeds = len({r["seed"] for r in rows})
    sub = f"mean over {seeds} seed{'s' * (seeds > 1)}"
    if config is not None:
        d, m, t = config.data, config.model, config.train
        sub += (
            f"; C={d.num_classes}, d={d.dim}, d1={d.signal_dim}, K={m.prototypes} prototypes, "
            f"{t.optimizer} lr={t.lr}, t={t.steps} steps, batch={t.batch_size or 'full'}, k={config.k}"
        )
    fig.suptitle(f"Toy model (App. E): benign memorization as n·B crosses the capacity C_t — {sub}", fontsize=10)
    return save_figure(fig, stem)


def grid_heatmap(folder: Path) -> bool:
    """FOLDER/heatmap.png and .pdf of a toy-grid folder (bm.toy.grid.run_grid) once every seed is in grid.csv;
    returns whether it was drawn."""
    from bm.runs import read_json
    from bm.toy.grid import load_grid_config
    from bm.toy.summary import read_grid

    config = load_grid_config(folder)
    rows = read_grid(folder / "grid.csv")
    if not {int(r["seed"]) for r in rows} >= set(config.seeds):
        return False
    capacity = read_json(folder / "capacity.json", {"capacity": (int, float)})["capacity"]
    plot_heatmap(rows, capacity, folder / "heatmap", config)
    return True
