"""Per-layer probing (Fig. 3; bm probe): accuracy per layer, trained and init."""

from __future__ import annotations

from pathlib import Path

from bm.figures import plt, save_figure
from bm.runs import RunFolder, write_json

__all__ = ["plot_probe", "write_probe"]


def plot_probe(record: dict, stem: Path) -> None:
    """Accuracy per layer (Fig. 3): K-NN fitted on clean / random labels, linear; trained and init; PNG + PDF."""
    names = record["layers"]
    fig, ax = plt.subplots(figsize=(1.0 * len(names) + 3, 4), constrained_layout=True)
    styles = {
        "knn_clean_test": ("-", "K-NN, fit on clean labels (test acc.)"),
        "knn_random_train": ("--", "K-NN, fit on random labels (train acc., leave-one-out)"),
        "linear_clean_test": (":", "linear, clean labels (test acc.)"),
    }
    for which, colour in (("trained", "C0"), ("init", "C1")):
        layers = record["results"].get(which)
        if not layers:
            continue
        for key, (ls, label) in styles.items():
            ys = [layers[n].get(key) for n in names]
            if any(y is not None for y in ys):
                ax.plot(names, ys, ls, marker="o", color=colour, label=f"{which}: {label}")
    ax.set(xlabel="layer", ylabel="accuracy", ylim=(0, 1), title=f"Per-layer probing, k = {record['k']}")
    ax.legend(fontsize=7)
    save_figure(fig, stem)


def write_probe(record: dict, folder: Path) -> None:
    """A probe record (bm.analyses.probing.probe_layers) as FOLDER/probe.json and its plot probe.png / probe.pdf."""
    write_json(folder / RunFolder.PROBE, record)
    plot_probe(record, folder / "probe")
