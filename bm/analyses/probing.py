"""Per-layer probing of a deep run (Fig. 3, Fig. 9) with the shared K-NN / linear probes.

Each named layer's activation is flattened per image (C x H x W values for convolutional maps, in
PyTorch's channel-major order), or globally average-pooled to C values with `pool=True`, which
keeps memory at N x C for large maps. Fits: "clean" fits on the true training labels and reports
clean-test accuracy; "random" fits on the run's random training labels and reports leave-one-out
accuracy on the training set itself (how much of the random labelling the layer holds: the
dashed lines of Fig. 3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from bm.analyses.config import ProbeConfig
from bm.deep.config import DeepTrainConfig
from bm.deep.datasets import ImageSet, load_dataset
from bm.deep.items import memory_bank
from bm.deep.measure import embed
from bm.deep.models import Network, load_weights
from bm.deep.run import run_config
from bm.errors import BMError, RunFolderError
from bm.probe import knn_accuracy, knn_scores, linear_probe_accuracy
from bm.registry import registrar
from bm.runs import RunFolder, atomic_save, read_saved

__all__ = [
    "FITS",
    "PROBES",
    "ProbeData",
    "embedding_probe",
    "load_run",
    "network_at",
    "probe_layers",
    "register_probe",
    "run_data",
]


@dataclass(frozen=True)
class ProbeData:
    """One layer's features for a probe: the memory bank (clean labels; its first `trained` rows are the images
    trained on, with the run's random labels) and the test set."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    random_y: torch.Tensor
    ks: tuple[int, ...]


Probe = Callable[[ProbeData], dict[str, float]]  # -> {probe.json key: value}
PROBES: dict[str, Probe] = {}  # name -> probe; `bm probe --fit` takes these names


register_probe = registrar(PROBES, "probe")  # register_probe(name)(fn): a probe of `bm probe --fit name`


@register_probe("clean")
def _clean(d: ProbeData) -> dict[str, float]:
    """K-NN on the clean labels, test accuracy; several k: top-1 / top-5 per k from one search as well."""
    row = {"knn_clean_test": knn_accuracy(d.train_x, d.train_y, d.test_x, d.test_y, k=d.ks[0])}
    if len(d.ks) > 1:
        scores = knn_scores(d.train_x, d.train_y, d.test_x, d.test_y, ks=d.ks, tops=(1, 5))
        row.update({f"knn_clean_test_{key}": v for key, v in scores.items()})
    return row


@register_probe("random")
def _random(d: ProbeData) -> dict[str, float]:
    """K-NN on the run's random labels, leave-one-out accuracy over the trained images."""
    mine = d.train_x[: len(d.random_y)]
    return {"knn_random_train": knn_accuracy(mine, d.random_y, mine, d.random_y, k=d.ks[0], exclude_self=True)}


@register_probe("linear")
def _linear(d: ProbeData) -> dict[str, float]:
    """A linear probe on the clean labels, test accuracy."""
    return {"linear_clean_test": linear_probe_accuracy(d.train_x, d.train_y, d.test_x, d.test_y)}


FITS = ProbeConfig.fits  # the default fits


def load_run(path: Path) -> tuple[RunFolder, DeepTrainConfig, Path]:
    """(run folder, its config, the weights file) for a run folder or a checkpoint inside one."""
    path = Path(path)
    run = RunFolder(path.parent if path.is_file() else path)
    weights = path if path.is_file() else run / RunFolder.CHECKPOINT
    cfg = run_config(run)
    if not weights.exists():
        raise BMError(f"no weights at {weights}")
    return run, cfg, weights


def network_at(cfg: DeepTrainConfig, weights: Path, device: str = "cpu") -> Network:
    """The run's network (its output width read from the weights) with the weights file loaded, in eval mode."""
    state = read_saved(weights, ("model",), device)["model"]
    out = state.get("projector.stages.O.weight") if isinstance(state, dict) else None
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        raise RunFolderError(f"{weights} does not hold weights of this run's network (no output layer)")
    net = Network(replace(cfg.model, num_classes=out.shape[0])).to(device)
    return load_weights(net, state, weights).eval()


def embedding_probe(net: Network, train: ImageSet, test: ImageSet, k: int = 20, linear: bool = False) -> float:
    """Clean-test accuracy of a K-NN probe of the embedding (`linear`: a linear probe instead), fitted on every
    given training image with its true label."""
    device = next(net.parameters()).device
    emb = embed(net, torch.cat([train.images, test.images]).to(device), ["embedding"])["embedding"]
    probe = linear_probe_accuracy if linear else lambda *a: knn_accuracy(*a, k=k)
    return probe(emb[: len(train)], train.labels, emb[len(train) :], test.labels)


def run_data(
    cfg: DeepTrainConfig, bank: bool = False, data: tuple[ImageSet, ImageSet] | None = None
) -> tuple[ImageSet, ImageSet]:
    """(the run's training images, after its subset, or with `bank` its K-NN memory bank, whose first
    images are those; the test set), both at the model's image size; read from the run's data folder unless `data`
    (the whole training and test sets, already loaded) is given."""
    train, test = data or (
        load_dataset(cfg.dataset, cfg.data_dir, "train"),
        load_dataset(cfg.dataset, cfg.data_dir, "test"),
    )
    train = memory_bank(cfg, train) if bank else train.subset(cfg.subset, cfg.subset_order)
    return train.resized(cfg.model.image_size), test.resized(cfg.model.image_size)


def probe_layers(path: Path, *args, data: tuple[ImageSet, ImageSet] | None = None, **options) -> dict:
    """Probe a run's layers (trained weights, and init with `init`) with the probes named in `fits` (PROBES;
    `linear` adds "linear"); returns the record, writes nothing but `dump_features`. args / options: the fields of
    bm.analyses.config.ProbeConfig (layers, fits, k, ...). k: one or several (several: one neighbour search per layer, and
    top-1 / top-5 accuracies `knn_clean_test_k{k}_top{t}` beside `knn_clean_test` at the first k). features: a file
    `dump_features` wrote for this run, probed instead of embedding the images again. data: the run's whole
    training and test sets where the caller holds them (else read from its data folder)."""
    o = ProbeConfig(*args, **options)
    ks, k, fits, pool, sketch, transfer, data_dir, device = (
        o.k,
        o.k[0],
        o.fits,
        o.pool,
        o.sketch,
        o.transfer,
        o.data_dir,
        o.device,
    )
    run, cfg, weights = load_run(path)
    fits = fits + (("linear",) if o.linear and "linear" not in fits else ())
    if any(f not in PROBES for f in fits) or not fits:
        raise BMError(f"--fit takes {', '.join(PROBES)}; got {', '.join(fits) or 'nothing'}")
    cfg = replace(cfg, data_dir=str(data_dir)) if data_dir is not None else cfg
    train_set, test_set = run_data(cfg, bank=True, data=data if data_dir is None else None)
    random_labels = run.labels()["labels"]  # of the trained images: the first of the memory bank
    net = Network(cfg.model).to(device)
    names = list(o.layers) or net.layer_names
    if not all(1 <= kk < len(train_set) for kk in ks):
        raise BMError(f"k must lie in [1, {len(train_set) - 1}], got {', '.join(map(str, ks))}")
    features = o.features
    saved = read_saved(features, ("run", "pool", "features")) if features is not None else None
    if saved is not None and (
        saved["run"] != str(run.path) or saved["pool"] != pool or saved.get("sketch", 0) != sketch
    ):
        raise BMError(
            f"{features} holds features of {saved['run']} (pool {saved['pool']}), not of {run.path} (pool {pool})"
        )
    dumped: dict = {}
    record: dict = {
        "run": str(run.path),
        "weights": str(weights),
        "k": k,
        "ks": list(ks),
        "pool": pool,
        "layers": names,
        "sketch": sketch,
        "flatten": "global average pool"
        if pool
        else "channel-major flatten"
        + (f", then a fixed Gaussian sketch to {sketch} dimensions where wider" if sketch else ""),
        "results": {},
    }
    other = (
        [
            load_dataset(transfer, data_dir or Path(cfg.data_dir), split).resized(cfg.model.image_size)
            for split in ("train", "test")
        ]
        if transfer is not None
        else []
    )
    for which, file in (("trained", weights),) + ((("init", run / RunFolder.INIT),) if o.init else ()):
        if saved is None or other:  # dumped features need no network, unless a transfer probe embeds new images
            load_weights(net, read_saved(file, ("model",), device)["model"], file)
        if saved is not None:
            if which not in saved["features"] or not set(names) <= set(saved["features"][which][0]):
                raise BMError(f"{features} lacks the {which} features of layer(s) {', '.join(names)}")
            feats_tr, feats_te = saved["features"][which]
        else:
            feats_tr = embed(net, train_set.images.to(device), names, pool, sketch=sketch)
            feats_te = embed(net, test_set.images.to(device), names, pool, sketch=sketch)
        dumped[which] = (feats_tr, feats_te)
        per_layer = {}
        for n in names:
            layer = ProbeData(feats_tr[n], train_set.labels, feats_te[n], test_set.labels, random_labels, ks)
            per_layer[n] = {key: v for fit in fits for key, v in PROBES[fit](layer).items()}
        if other:
            per_layer[f"transfer:{transfer}"] = {"knn_clean_test": embedding_probe(net, *other, k)}
        record["results"][which] = per_layer
    if o.dump_features is not None:
        try:
            atomic_save(o.dump_features, {"run": str(run.path), "pool": pool, "sketch": sketch, "features": dumped})
        except OSError as e:
            raise BMError(f"cannot write {o.dump_features}: {e.strerror or e}") from None
    return record
