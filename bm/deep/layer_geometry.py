"""`bm geometry` for deep runs: per-layer MFTMA across epochs (layer rewinding: bm.deep.rewind).

Weights of a run by epoch: 0 is init.pt, E a snapshot_E.pt (kept with `--snapshots`), the last
epoch checkpoint.pt. Features are flattened per image; layers wider than `project_dim` are
mapped by a fixed Gaussian random projection to `project_dim` dimensions first (as Stephenson et
al. 2021 do; it preserves the geometry up to 1 + O(1/sqrt(project_dim))).
"""

from __future__ import annotations

from pathlib import Path

import torch

from bm.analyses import GeometryConfig, MftmaConfig
from bm.deep.config import DeepTrainConfig
from bm.deep.datasets import ImageSet
from bm.deep.measure import embed
from bm.deep.models import Network, load_weights
from bm.deep.probing import load_run, run_data
from bm.probe.manifolds import groups_of, layer_geometry
from bm.runs import RunFolder

__all__ = ["run_geometry"]


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
    **mftma,
) -> dict:
    """Per-layer, per-epoch MFTMA of a deep run (mftma: bm.analyses.MftmaConfig's fields): the record `bm geometry`
    writes as geometry.json (and plots, with bm.probe.manifolds.write_geometry)."""
    m = MftmaConfig(**mftma)
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
