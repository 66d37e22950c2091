"""Layer rewinding (bm.analyses.rewind) and the permuted examples' gradient over training (bm.analyses.gradients): the
findings of Stephenson et al. 2021 on when and where a network memorizes."""

from __future__ import annotations

from pathlib import Path

from bm.figures import plt, save_figure
from bm.runs import write_json

__all__ = ["plot_gradients", "plot_rewind", "write_gradients", "write_rewind"]


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


def plot_gradients(record: dict, stem: Path) -> None:
    """The permuted examples' share of the gradient over training (bm.analyses.gradients): per layer, the ratio of
    the permuted to the clean group's summed-gradient norm against the epoch, and beside it how well the permuted
    images are fitted to their random labels."""
    epochs = [int(e) for e in record["epochs"]]
    rows = list(record["epochs"].values())
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6), constrained_layout=True)
    for layer in rows[0]["label_layers"]:
        left.plot(epochs, [r["label_layers"][layer]["ratio"] for r in rows], marker=".", lw=0.8, label=layer)
    left.plot(epochs, [r["label_total"]["ratio"] for r in rows], "k-", lw=2, label="all parameters")
    left.plot(epochs, [r["total"]["ratio"] for r in rows], "k--", lw=1, label="all, whole loss")
    left.set(xlabel="epoch", ylabel="|g permuted| / |g clean| (label term)", title="the permuted examples' gradient")
    left.legend(fontsize=6, ncol=2)
    right.plot(epochs, [r["permuted_fit"] for r in rows], "o-")
    right.set(xlabel="epoch", ylabel="accuracy on their random labels", ylim=(0, 1), title="permuted images fitted")
    if max(epochs) > 0 and min(epochs) >= 0:
        for ax in (left, right):
            ax.set_xscale("symlog", linthresh=1)
    save_figure(fig, stem)


def write_gradients(record: dict, stem: Path) -> None:
    """A gradients record as STEM.json and its plot STEM.png / STEM.pdf."""
    write_json(Path(f"{stem}.json"), record)
    plot_gradients(record, stem)
