"""MFTMA against layer depth (bm geometry): capacity, radius and dimension per epoch and group."""

from __future__ import annotations

from pathlib import Path

from bm.figures import plt, save_figure
from bm.runs import write_json

QUANTITIES = ("capacity", "radius", "dimension")  # what a geometry summary holds, in panel order

__all__ = ["QUANTITIES", "plot_geometry", "write_geometry"]


def plot_geometry(results: dict[str, dict[str, dict[str, dict]]], layers: list[str], stem: Path, title: str) -> None:
    """Capacity, radius and dimension against layer depth, one line per epoch, one style per group.

    results: epoch -> layer -> group -> summary.
    """
    fig, axes = plt.subplots(1, 3, figsize=(max(9, 1.2 * len(layers) * 3), 3.6), constrained_layout=True)
    styles = {"clean": "-", "randomized": "--", "kept": ":"}
    cmap = plt.get_cmap("viridis")
    epochs = list(results)
    for e, epoch in enumerate(epochs):
        colour = cmap(e / max(1, len(epochs) - 1))
        for group, ls in styles.items():
            for ax, q in zip(axes, QUANTITIES):
                ys = [results[epoch].get(layer, {}).get(group, {}).get(q) for layer in layers]
                if any(y is not None for y in ys):
                    ax.plot(
                        layers,
                        [float("nan") if y is None else y for y in ys],
                        ls,
                        marker="o",
                        color=colour,
                        label=f"{epoch}: {group}",
                    )
    for ax, q in zip(axes, QUANTITIES):
        ax.set(xlabel="layer", ylabel=q, title=f"manifold {q}")
        ax.tick_params(axis="x", rotation=45)
    axes[0].legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
    save_figure(fig, stem)


def write_geometry(record: dict, stem: Path, title: str) -> None:
    """A geometry record (bm.analyses.geometry: run_geometry, toy_geometry) as STEM.json and its plot STEM.png / .pdf."""
    write_json(Path(f"{stem}.json"), record)
    plot_geometry(record["results"], record["layers"], stem, title)
