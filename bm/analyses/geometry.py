"""`bm geometry`: per-layer MFTMA (Stephenson et al. 2021) of a deep run across epochs, or of a toy grid cell at init
and after training.

Deep runs: weights by epoch (0 is init.pt, E a snapshot_E.pt kept with `--snapshots`, the last epoch checkpoint.pt).
Features are flattened per image; layers wider than `project_dim` are mapped by a fixed Gaussian random projection to
`project_dim` dimensions first (as Stephenson et al. do; it preserves the geometry up to 1 + O(1/sqrt(project_dim))).

Toy cells: the grid keeps no weights, so the chosen cell (n, B, seed) is trained again; training is deterministic and
independent of which other cells share the batch, so this is the grid's model. Layers: the input x, the embedding W x
and the projector's output F(x); "epochs" are the initialisation (0) and the end of training (the step budget t).
Clean manifolds come from the clean probe set; with label noise, the training samples' clean views give randomized /
kept.
"""

from __future__ import annotations

from pathlib import Path

import torch

from bm.analyses.config import GeometryConfig, MftmaConfig
from bm.analyses.probing import load_run, run_data
from bm.deep.config import DeepTrainConfig
from bm.deep.datasets import ImageSet
from bm.deep.measure import embed
from bm.deep.models import Network, load_weights
from bm.errors import BMError
from bm.probe.manifolds import groups_of, layer_geometry
from bm.runs import RunFolder
from bm.toy.data import ToyMixture
from bm.toy.grid import load_grid_config
from bm.toy.model import encode, project
from bm.toy.train import ModelSpec, model_seed, train_batch

__all__ = ["TOY_LAYERS", "run_geometry", "toy_geometry"]


def _data(run: RunFolder, cfg: DeepTrainConfig) -> tuple[ImageSet, ImageSet, dict]:
    return *run_data(cfg), run.labels(("labels", "randomized"))


def _projected(x: torch.Tensor, dim: int, seed: int) -> torch.Tensor:
    if not dim or x.shape[1] <= dim:
        return x
    gen = torch.Generator().manual_seed(seed)
    return x @ (torch.randn(x.shape[1], dim, generator=gen) / dim**0.5)


def run_geometry(
    path: Path,
    layers: list[str] | None = None,
    epochs: list[int] | None = None,
    project_dim: int = GeometryConfig.project_dim,
    device: str = GeometryConfig.device,
    m: MftmaConfig = MftmaConfig(),
) -> dict:
    """Per-layer, per-epoch MFTMA of a deep run (`m`: its options): the record `bm geometry` writes as geometry.json
    (and plots, with bm.figures.geometry.write_geometry)."""
    run, cfg, _ = load_run(path)
    train, _, labels = _data(run, cfg)
    net = Network(cfg.model).to(device)
    names = layers or net.layer_names
    found = run.weight_files()
    chosen = epochs if epochs is not None else list(found)
    groups = groups_of(train.labels.cpu(), labels["labels"], labels["randomized"])
    results: dict[str, dict] = {}
    for epoch in chosen:
        load_weights(net, run.weights(epoch, found), found.get(epoch, run.path))
        feats = embed(net, train.images.to(device), names)
        results[str(epoch)] = {
            name: layer_geometry(
                _projected(feats[name].cpu(), project_dim, cfg.seed), groups, **m.layer_options(cfg.seed)
            )
            for name in names
        }
    record = {
        "run": str(run.path),
        "layers": names,
        "epochs": [str(e) for e in chosen],
        "per_class": m.per_class,
        "project_dim": project_dim,
        "n_t": m.n_t,
        "kappa": m.kappa,
        "results": results,
    }
    return record


TOY_LAYERS = ("input", "embedding", "output")


def _layers(params, x: torch.Tensor) -> dict[str, torch.Tensor]:
    z = encode(params.W, x[None].to(params.W))  # (1, b, d)
    return {"input": x, "embedding": z[0], "output": project(z, params)[0]}


def toy_geometry(
    folder: Path, n: int | None = None, B: int | None = None, seed: int | None = None, m: MftmaConfig = MftmaConfig()
) -> dict:
    """MFTMA per layer at init and after training for one grid cell (`m`: its options): the record `bm geometry` writes
    as geometry_n{n}_B{B}_s{seed}.json (and plots)."""
    config = load_grid_config(folder)
    n, B, seed = n or max(config.ns), B or max(config.Bs), config.seeds[0] if seed is None else seed
    if n not in config.ns or B not in config.Bs or seed not in config.seeds:
        raise BMError(
            f"(n={n}, B={B}, seed={seed}) is not a cell of this grid (n in {list(config.ns)}, "
            f"B in {list(config.Bs)}, seeds {list(config.seeds)})"
        )
    mixture = ToyMixture(config.data)
    split = mixture.split(max(config.ns), max(config.Bs), seed)
    spec = ModelSpec(n, B, 0, model_seed(seed, n, B), seed)
    trained = train_batch(mixture, [split], [spec], config.model, config.train, config.device)
    randomized = split.labels[:n] != split.true[:n] if config.data.label_noise < 1 else torch.ones(n, dtype=torch.bool)
    probe = {"clean": (torch.arange(len(split.probe_y)), split.probe_y)}
    train_groups = {k: v for k, v in groups_of(split.true[:n], split.labels[:n], randomized).items() if k != "clean"}
    results = {}
    for epoch, params in (("0", trained.init), (str(config.train.steps), trained.final)):
        on_probe, on_train = _layers(params, split.probe_x), _layers(params, split.views[:n, 0])
        results[epoch] = {}
        for layer in TOY_LAYERS:
            row = layer_geometry(on_probe[layer].cpu(), probe, **m.layer_options(seed))
            if train_groups:
                try:
                    row.update(layer_geometry(on_train[layer].cpu(), train_groups, **m.layer_options(seed)))
                except BMError:  # too few training samples per random class for these groups
                    pass
            results[epoch][layer] = row
    record = {
        "run": str(folder),
        "cell": {"n": n, "B": B, "seed": seed},
        "layers": list(TOY_LAYERS),
        "epochs": list(results),
        "per_class": m.per_class,
        "n_t": m.n_t,
        "kappa": m.kappa,
        "note": "randomized: training samples grouped by their random label (all of them when label_noise = 1)",
        "results": results,
    }
    return record
