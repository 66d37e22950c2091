"""`bm geometry` and `bm rewind` for deep runs: per-layer MFTMA across epochs, and layer rewinding.

Weights of a run by epoch: 0 is init.pt, E a snapshot_E.pt (kept with `--snapshots`), the last
epoch checkpoint.pt. Features are flattened per image; layers wider than `project_dim` are
mapped by a fixed Gaussian random projection to `project_dim` dimensions first (as Stephenson et
al. 2021 do; it preserves the geometry up to 1 + O(1/sqrt(project_dim))).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from bm.deep.datasets import ImageSet  # noqa: E402
from bm.deep.models import Network  # noqa: E402
from bm.deep.probing import load_run, run_data  # noqa: E402
from bm.deep.config import DeepTrainConfig  # noqa: E402
from bm.deep.train import embed  # noqa: E402
from bm.errors import BMError  # noqa: E402
from bm.plotting import save_figure  # noqa: E402
from bm.probe import knn_accuracy  # noqa: E402
from bm.probe.geometry import groups_of, layer_geometry, plot_geometry  # noqa: E402
from bm.runs import RunFolder, lock_folder, write_json  # noqa: E402

__all__ = ["rewind", "run_geometry"]


def _data(run: RunFolder, cfg: DeepTrainConfig) -> tuple[ImageSet, ImageSet, dict]:
    return *run_data(cfg), run.labels(("labels", "randomized"))


def _projected(x: torch.Tensor, dim: int, seed: int) -> torch.Tensor:
    if not dim or x.shape[1] <= dim:
        return x
    gen = torch.Generator().manual_seed(seed)
    return x @ (torch.randn(x.shape[1], dim, generator=gen) / dim**0.5)


def run_geometry(path: Path, layers: list[str] | None = None, epochs: list[int] | None = None,
                 classes: list[int] | None = None, per_class: int = 50, project_dim: int = 5000, n_t: int = 200,
                 kappa: float = 0.0, n_reps: int = 10, max_rank: int | None = None, device: str = "cpu",
                 min_rank: int = 1) -> dict:
    """Per-layer, per-epoch MFTMA of a deep run; writes geometry.json and geometry.png/.pdf."""
    run, cfg, _ = load_run(path)
    lock_folder(run.path)  # it writes geometry.json into the run folder
    train, _, labels = _data(run, cfg)
    net = Network(cfg.model).to(device)
    names = layers or net.layer_names
    found = run.weight_files()
    chosen = epochs if epochs is not None else list(found)
    groups = groups_of(train.labels.cpu(), labels["labels"], labels["randomized"])
    results: dict[str, dict] = {}
    for epoch in chosen:
        net.load_state_dict(run.weights(epoch, found))
        feats = embed(net, train.images.to(device), names)
        results[str(epoch)] = {
            name: layer_geometry(_projected(feats[name].cpu(), project_dim, cfg.seed), groups, per_class, classes,
                                 n_t=n_t, kappa=kappa, n_reps=n_reps, max_rank=max_rank, min_rank=min_rank, seed=cfg.seed)
            for name in names}
    record = {"run": str(run.path), "layers": names, "epochs": [str(e) for e in chosen], "per_class": per_class,
              "project_dim": project_dim, "n_t": n_t, "kappa": kappa, "results": results}
    write_json(run / "geometry.json", record)
    plot_geometry(results, names, run / "geometry", f"{run.path.name}: MFTMA per layer (epochs by colour)")
    return record


def _units(net: Network) -> list[str]:
    """Layer names that hold parameters, last first (the units `rewind` counts)."""
    owners = {key.split(".")[2] for key, _ in net.named_parameters()}
    return [n for n in reversed(net.layer_names) if n in owners]


def _prefix(net: Network, name: str) -> str:
    return f"{'projector' if name in net.projector.names else 'encoder'}.stages.{name}."


def rewind(path: Path, to_epochs: list[int], last_ks: list[int], k: int = 20, device: str = "cpu") -> dict:
    """Replace the last k parameterised layers by their weights at epoch E, the rest from the end.

    For every (E, k): clean-test K-NN accuracy of the embedding, the network's own test accuracy
    (against true classes) and its train accuracy on the randomized examples (against their random
    labels). Writes rewind.json and rewind.png/.pdf.
    """
    run, cfg, _ = load_run(path)
    lock_folder(run.path)  # it writes rewind.json into the run folder
    bank, test = run_data(cfg, bank=True)  # the run's K-NN memory bank; its first images are the trained ones
    labels = run.labels(("labels", "randomized"))
    found = run.weight_files()
    final_epoch = max(found)
    final = run.weights(final_epoch, found)
    net = Network(cfg.model).to(device)
    units = _units(net)
    if any(not 0 <= kk <= len(units) for kk in last_ks):
        raise BMError(f"--layers must lie in [0, {len(units)}] (this model's parameterised layers, last first: "
                      f"{', '.join(units)})")
    randomized = labels["randomized"]
    rows = []
    for epoch in to_epochs:
        earlier = run.weights(epoch, found)
        for kk in last_ks:
            swap = tuple(_prefix(net, n) for n in units[:kk])
            net.load_state_dict({key: earlier[key] if key.startswith(swap) else value for key, value in final.items()})
            f_tr = embed(net, bank.images.to(device), ["embedding", "O"])
            f_te = embed(net, test.images.to(device), ["embedding", "O"])
            own = f_te["O"].argmax(1).cpu()
            trained = f_tr["O"][: len(randomized)].argmax(1).cpu()
            rows.append({
                "epoch": epoch, "layers": kk, "rewound": list(units[:kk]),
                "knn_clean_test": knn_accuracy(f_tr["embedding"], bank.labels, f_te["embedding"], test.labels, k=k),
                "output_test_acc": float((own == test.labels.cpu()).float().mean()),
                "randomized_train_acc": float((trained[randomized] == labels["labels"][randomized]).float().mean())
                if bool(randomized.any()) else float("nan"),
            })
    record = {"run": str(run.path), "final_epoch": final_epoch, "units_last_first": units, "rows": rows}
    write_json(run / "rewind.json", record)
    _plot_rewind(rows, run / "rewind")
    return record


def _plot_rewind(rows: list[dict], stem: Path) -> None:
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
