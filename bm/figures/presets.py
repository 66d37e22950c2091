"""The figures of the paper's presets that are not a plain line plot (bm.figures.lines): the headline, Fig. 2's
training curves, Fig. 3's stages, Fig. 6's invariance, Fig. 9's transfer and Fig. 8's Inv / Bias decomposition.
Each draws what its preset computed (metrics.jsonl rows, probe records) and writes STEM.png and STEM.pdf."""

from __future__ import annotations

from pathlib import Path

from bm.figures import plt, save_figure

__all__ = [
    "plot_benign",
    "plot_decomposition",
    "plot_invariance",
    "plot_stages",
    "plot_training_curves",
    "plot_transfer",
]


def plot_benign(
    history: list[dict],
    layers: dict,
    knn_curve: list[tuple[int, float]],
    knn_init: float,
    knn_no_aug: float,
    seed: int,
    stem: Path,
) -> None:
    """The headline of one seed: memorization and the K-NN over epochs (history: metrics.jsonl rows; knn_curve:
    (epoch, K-NN with the trained images as bank)), the K-NN per layer trained and at init (layers: probe_layers'
    "results"), and the normalized invariance per layer (Eq. 2) over epochs."""
    fig, (curve, layer_ax, inv_ax) = plt.subplots(1, 3, figsize=(16, 4.2), constrained_layout=True)
    h = [r for r in history if "train_acc" in r]
    curve.plot(
        [r["epoch"] for r in h], [r["train_acc"] for r in h], color="C3", label="train acc. on the random labels"
    )
    curve.plot(*zip(*knn_curve), marker="o", color="C0", label="K-NN test acc. (embedding; bank: the trained images)")
    curve.axhline(knn_init, ls="--", color="C7", label="K-NN at init")
    curve.axhline(knn_no_aug, ls=":", color="C1", label="K-NN, twin without augmentation")
    curve.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=f"random labels + augmentation (seed {seed})")
    curve.legend(fontsize=7)
    names = list(layers["trained"])
    for which, colour in (("trained", "C0"), ("init", "C7")):
        per = layers[which]
        layer_ax.plot(
            names,
            [per[n]["knn_clean_test"] for n in names],
            "-",
            marker="o",
            color=colour,
            label=f"{which}: K-NN on clean labels (test)",
        )
        layer_ax.plot(
            names,
            [per[n]["knn_random_train"] for n in names],
            "--",
            marker="s",
            color=colour,
            label=f"{which}: K-NN on the random labels (train, leave-one-out)",
        )
    layer_ax.set(xlabel="layer", ylabel="accuracy", ylim=(0, 1.02), title="signal in the encoder, noise in P and O")
    layer_ax.tick_params(axis="x", rotation=30)
    layer_ax.legend(fontsize=7)
    inv = [r for r in history if "invariance" in r]
    for j, n in enumerate(names):
        inv_ax.plot([r["epoch"] for r in inv], [r["invariance"][n] for r in inv], marker=".", color=f"C{j}", label=n)
    inv_ax.set(xlabel="epoch", ylabel="normalized invariance (Eq. 2; 0 = invariant)", title="invariance per layer")
    inv_ax.legend(fontsize=7, ncol=2)
    save_figure(fig, stem)


def plot_benign_seed(record: dict, history: list[dict], stem: Path) -> None:
    """`plot_benign` of one seed of the benign preset (an entry of result.json's "seeds": its layer probes and
    Definition 4.1 accuracies) and its augmented run's metrics rows `history`; the K-NN curve on S, the trained
    images."""
    knn = [(r["epoch"], r.get("knn_banks", {}).get("train", r["knn"])) for r in history if "knn" in r]
    init, twin = record["accuracy"]["init"]["knn_k20"], record["accuracy"]["no_aug"]["knn_k20"]
    plot_benign(history, record["layers"], knn, init, twin, record["seed"], stem)


def plot_training_curves(curves: list[tuple[str, list, list]], stem: Path) -> None:
    """Fig. 2: per condition (label, [(step, loss)], [(step, memorized)]), the training loss and memorization."""
    fig, (loss_ax, mem_ax) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    for j, (label, loss, memorized) in enumerate(curves):
        loss_ax.plot(*zip(*loss), color=f"C{j}", label=label)
        mem_ax.plot(*zip(*memorized), color=f"C{j}", label=label)
    loss_ax.set(xlabel="optimizer step", ylabel="training loss (MSE, summed over classes)", yscale="log")
    mem_ax.set(xlabel="optimizer step", ylabel="memorized (accuracy on the trained items)", ylim=(0, 1.02))
    loss_ax.legend(fontsize=7)
    save_figure(fig, stem)


def plot_stages(stages: dict, names: list[str], stem: Path) -> None:
    """Fig. 3 over training: per epoch (stages: epoch -> layer -> probe values), the per-layer K-NN fitted on the
    clean and on the random labels."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), constrained_layout=True)
    for ax, key, title in zip(
        axes,
        ("knn_clean_test", "knn_random_train"),
        ("K-NN fitted on the clean labels (test acc.)", "K-NN fitted on the random labels (train acc., leave-one-out)"),
    ):
        for j, (e, per) in enumerate(stages.items()):
            ax.plot(
                names,
                [per[n][key] for n in names],
                marker="o",
                color=plt.cm.viridis(j / max(1, len(stages) - 1)),
                label=f"epoch {e}",
            )
        ax.set(xlabel="layer", ylabel="accuracy", ylim=(0, 1), title=title)
        ax.tick_params(axis="x", rotation=30)
        ax.legend(fontsize=7)
    save_figure(fig, stem)


def plot_invariance(rows: list[dict], stem: Path) -> None:
    """Fig. 6: per model (rows: model, epoch, knn_error and one invariance per layer), the normalized invariance of
    each layer over epochs, and the K-NN error of both models."""
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(1, len(models) + 1, figsize=(5 * (len(models) + 1), 3.8), constrained_layout=True)
    for ax, model in zip(axes, models):
        mine = [r for r in rows if r["model"] == model]
        layers = [k for k in mine[0] if k not in ("model", "epoch", "knn_error")]
        for j, layer in enumerate(layers):
            ax.plot([r["epoch"] for r in mine], [r[layer] for r in mine], marker="o", color=f"C{j}", label=layer)
        ax.set(xlabel="epoch", ylabel="normalized invariance (Eq. 2; 0 = invariant)", title=f"{model}, per layer")
        ax.legend(fontsize=7)
        axes[-1].plot([r["epoch"] for r in mine], [r["knn_error"] for r in mine], marker="o", label=model)
    axes[-1].set(xlabel="epoch", ylabel="K-NN test error of the embedding (bank: trained images)", ylim=(0, 1))
    axes[-1].legend(fontsize=7)
    save_figure(fig, stem)


def plot_transfer(rows: list[dict], targets: list[str], weights: list[str], stem: Path) -> None:
    """Fig. 9: the K-NN on each target data set (rows: target, weights, knn), one bar per set of weights."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
    for j, w in enumerate(weights):
        ax.bar(
            [t + j * 0.27 for t in range(len(targets))],
            [r["knn"] for t in targets for r in rows if r["target"] == t and r["weights"] == w],
            width=0.27,
            label=w,
        )
    ax.set(
        xticks=[t + 0.27 for t in range(len(targets))],
        xticklabels=targets,
        ylabel="K-NN test accuracy",
        ylim=(0, 1),
        title="CIFAR-10 random-label features on other data sets",
    )
    ax.legend(fontsize=7)
    save_figure(fig, stem)


def plot_decomposition(probed: dict[str, list[dict]], stem: Path) -> None:
    """Fig. 8's decomposition: per run (label -> its metrics.jsonl rows with the unbiased estimates), the unbiased
    Inv and Bias and the Bias's between-true-class ("bad") part (Eq. B.4) over epochs."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), constrained_layout=True)
    for j, (label, rows) in enumerate(probed.items()):
        epochs = [r["epoch"] for r in rows]
        for ax, values in zip(
            axes,
            (
                [r["inv_unbiased"] for r in rows],
                [r["bias_unbiased"] for r in rows],
                [r["bias_split"]["between_true"] for r in rows],
            ),
        ):
            ax.plot(epochs, values, marker="o", color=f"C{j}", label=label)
    for ax, name, scale in zip(
        axes,
        ("Inv (unbiased)", "Bias (unbiased)", "bad bias: between true classes (Eq. B.4)"),
        ("log", "log", "linear"),
    ):
        ax.set(xlabel="epoch", ylabel=name, yscale=scale)
    axes[0].legend(fontsize=7)
    save_figure(fig, stem)
