"""Layer rewinding (bm rewind): what the last k layers rewound to epoch E leave."""

from __future__ import annotations

from pathlib import Path

from bm.figures import plt, save_figure
from bm.runs import write_json

__all__ = ["plot_rewind", "write_rewind"]


def plot_rewind(rows: list[dict], stem: Path) -> None:
    """Per rewound epoch: K-NN, the output's test accuracy and the randomized items' train accuracy against k."""
    keys = ("knn_clean_test", "output_test_acc", "randomized_train_acc")
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), constrained_layout=True)
    for epoch in sorted({r["epoch"] for r in rows}):
        mine = sorted((r for r in rows if r["epoch"] == epoch), key=lambda r: r["layers"])
        for ax, key in zip(axes, keys):
            ax.plot([r["layers"] for r in mine], [r[key] for r in mine], marker="o", label=f"rewound to epoch {epoch}")
    for ax, key in zip(axes, keys):
        ax.set(xlabel="last k layers rewound", ylabel=key, ylim=(0, 1))
    axes[0].legend(fontsize=7)
    save_figure(fig, stem)


def write_rewind(record: dict, stem: Path) -> None:
    """A rewind record (bm.analyses.rewind) as STEM.json and its plot STEM.png / STEM.pdf."""
    write_json(Path(f"{stem}.json"), record)
    plot_rewind(record["rows"], stem)
