"""The Fig. 5 figure, shared by toy and deep B sweeps.

A sweep record: {"n", "budget", "capacity" (C_t or None), "knn_init", "rows": [{"B", "preserve_labels",
"memorization", "knn"}]}; memorization is the train accuracy over the n B views against their labels.
"""

from __future__ import annotations

from pathlib import Path

from bm.figures import plt, save_figure

__all__ = ["plot_sweep"]


def plot_sweep(record: dict, stem: Path) -> None:
    """Memorization (left) and K-NN probing (right) against B, one line per label protocol; PNG + PDF."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
    for preserve, colour in ((False, "C3"), (True, "C0")):
        rows = sorted((r for r in record["rows"] if r["preserve_labels"] == preserve), key=lambda r: r["B"])
        if not rows:
            continue
        label = "labels preserved" if preserve else "labels not preserved"
        for ax, key in ((left, "memorization"), (right, "knn")):
            ax.plot([r["B"] for r in rows], [r[key] for r in rows], marker="o", color=colour, label=label)
    if record.get("capacity"):
        left.axvline(record["capacity"] / record["n"], color="grey", ls=":", label=f"n B = C_t ({record['capacity']})")
    right.axhline(record["knn_init"], color="C1", ls="--", label="K-NN at init")
    left.set(
        xscale="log", xlabel="B (views per sample)", ylabel="memorization (train acc. on n B views)", ylim=(0, 1.02)
    )
    right.set(xscale="log", xlabel="B (views per sample)", ylabel="K-NN test accuracy", ylim=(0, 1.02))
    for ax in (left, right):
        ax.legend(fontsize=7)
    fig.suptitle(f"n = {record['n']}, budget {record['budget']}", fontsize=9)
    save_figure(fig, stem)
