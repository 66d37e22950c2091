"""Model-wise double descent beside its geometry: errors against width, and each layer's MFTMA capacity of the
permuted and of the kept examples' manifolds against width, the interpolation threshold marked."""

from __future__ import annotations

from pathlib import Path

from bm.figures import plt, save_figure

__all__ = ["plot_double_descent"]


def plot_double_descent(rows: list[dict], geometry: dict[int, dict], threshold: int | None, stem: Path) -> None:
    """rows: one per width (width, train_fit, permuted_fit, kept_fit, test_acc); geometry: width -> {layer -> {group
    -> {capacity, ...}}} (bm.analyses.geometry's results at the final epoch)."""
    widths = [r["width"] for r in rows]
    layers = list(next(iter(geometry.values()))) if geometry else []
    fig, axes = plt.subplots(1, 1 + len(("randomized", "kept")), figsize=(16, 4.6), constrained_layout=True)
    ax = axes[0]
    ax.plot(widths, [1 - r["test_acc"] for r in rows], "o-", label="test error (true labels)")
    ax.plot(widths, [1 - r["train_fit"] for r in rows], "s--", label="train error (training labels)")
    ax.plot(widths, [1 - (r["permuted_fit"] or 0) for r in rows], "x:", label="train error, permuted examples")
    ax.set(xscale="log", xlabel="width k", ylabel="error", title="model-wise double descent")
    for ax_ in axes:
        if threshold is not None:
            ax_.axvline(threshold, ls="--", color="red", lw=1, label=f"interpolation threshold (k = {threshold})")
    ax.legend(fontsize=7)
    for ax, group in zip(axes[1:], ("randomized", "kept")):
        for j, layer in enumerate(layers):
            values = [geometry[w][layer].get(group, {}).get("capacity") for w in widths]
            ax.plot(widths, [v if v is not None else float("nan") for v in values], "o-", color=f"C{j}", label=layer)
        name = "permuted" if group == "randomized" else "kept"
        ax.set(xscale="log", xlabel="width k", ylabel="MFTMA capacity", title=f"{name} examples' manifolds")
        ax.legend(fontsize=7)
    save_figure(fig, stem)
