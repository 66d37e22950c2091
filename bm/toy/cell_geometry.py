"""`bm geometry` for a toy grid: MFTMA of the toy model's layers at init and after training.

The grid keeps no weights, so the chosen cell (n, B, seed) is trained again; training is
deterministic and independent of which other cells share the batch, so this is the grid's model.
Layers: the input x, the embedding W x and the projector's output F(x). "Epochs" are the
initialisation (0) and the end of training (the step budget t). Clean manifolds come from the
clean probe set; with label noise, the training samples' clean views give randomized / kept.
"""

from __future__ import annotations

from pathlib import Path

import torch

from bm.analyses import MftmaConfig
from bm.configs import from_saved, read_config
from bm.errors import BMError
from bm.probe.manifolds import groups_of, layer_geometry
from bm.toy.data import ToyMixture
from bm.toy.grid import ToyGridConfig
from bm.toy.model import encode, project
from bm.toy.train import ModelSpec, model_seed, train_batch

__all__ = ["LAYERS", "load_grid_config", "toy_geometry"]

LAYERS = ("input", "embedding", "output")


def load_grid_config(folder: Path) -> ToyGridConfig:
    """The ToyGridConfig a toy-grid folder was run with (older folders: missing fields take their defaults)."""
    raw = read_config(folder)
    if not isinstance(raw, dict) or "ns" not in raw:
        raise BMError(f"{folder} is not a toy-grid folder (no toy-grid config.json)")
    return from_saved(ToyGridConfig, raw)


def _layers(params, x: torch.Tensor) -> dict[str, torch.Tensor]:
    z = encode(params.W, x[None].to(params.W))  # (1, b, d)
    return {"input": x, "embedding": z[0], "output": project(z, params)[0]}


def toy_geometry(folder: Path, n: int | None = None, B: int | None = None, seed: int | None = None, **mftma) -> dict:
    """MFTMA per layer at init and after training for one grid cell (mftma: bm.analyses.MftmaConfig's fields): the
    record `bm geometry` writes as geometry_n{n}_B{B}_s{seed}.json (and plots)."""
    m = MftmaConfig(**mftma)
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
        for layer in LAYERS:
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
        "layers": list(LAYERS),
        "epochs": list(results),
        "per_class": m.per_class,
        "n_t": m.n_t,
        "kappa": m.kappa,
        "note": "randomized: training samples grouped by their random label (all of them when label_noise = 1)",
        "results": results,
    }
    return record
