"""Manifold geometry of a model's layers (Stephenson et al. 2021), shared by toy and deep runs.

A "manifold" is the cloud of one class's representations at one layer. Groups of manifolds:
"clean" (examples grouped by their true class), and for runs with label noise "randomized"
(examples whose label was randomized, grouped by that random label: capacity here rises when a
layer memorizes) and "kept" (examples whose label was kept, grouped by class).
"""

from __future__ import annotations

import torch

from bm.errors import BMError
from bm.theory import manifold_geometry

__all__ = ["geometry_lines", "groups_of", "layer_geometry"]


def groups_of(
    true: torch.Tensor, labels: torch.Tensor, randomized: torch.Tensor
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Group name -> (example indices, their manifold labels) for true classes, training labels, mask (n,)."""
    every = torch.arange(true.shape[0])
    groups = {"clean": (every, true)}
    if bool(randomized.any()):
        groups["randomized"] = (every[randomized], labels[randomized])
        if not bool(randomized.all()):
            groups["kept"] = (every[~randomized], true[~randomized])
    return groups


def _manifolds(
    features: torch.Tensor, labels: torch.Tensor, per_class: int, classes: list[int] | None
) -> list[torch.Tensor]:
    """The first `per_class` rows of each chosen class (those with at least 2 rows), each (M, D)."""
    chosen = classes if classes is not None else sorted(set(labels.tolist()))
    clouds = [features[labels == c][:per_class] for c in chosen]
    return [c for c in clouds if c.shape[0] >= 2]


def layer_geometry(
    features: torch.Tensor,
    groups: dict[str, tuple[torch.Tensor, torch.Tensor]],
    per_class: int,
    classes: list[int] | None = None,
    **mftma,
) -> dict[str, dict]:
    """MFTMA of one layer's features (n, D) for every group; group -> summary (capacity, radius, ...)."""
    out = {}
    for name, (rows, labels) in groups.items():
        clouds = _manifolds(features[rows].double().cpu(), labels, per_class, classes)
        if len(clouds) < 2:
            continue
        g = manifold_geometry(clouds, **mftma)
        out[name] = {
            "capacity": g.capacity,
            "radius": g.radius,
            "dimension": g.dimension,
            "center_correlation": g.center_correlation,
            "low_rank": g.low_rank,
            "manifolds": len(clouds),
            "points": sum(c.shape[0] for c in clouds),
        }
    if not out:
        raise BMError(
            "no group has two classes with at least two examples; raise --samples-per-class or choose other --classes"
        )
    return out


def geometry_lines(record: dict) -> list[str]:
    """A geometry record as text, one line per epoch, layer and group; a note where P <= 5 manifolds."""
    lines, sizes = [], set()
    for epoch, per_layer in record["results"].items():
        for layer, groups in per_layer.items():
            for group, g in groups.items():
                lines.append(
                    f"epoch {epoch:>6s}  {layer:12s} {group:10s} capacity {g['capacity']:.4f}  "
                    f"radius {g['radius']:.3f}  dimension {g['dimension']:.2f}"
                )
                sizes.add(g["manifolds"])
    if min(sizes, default=6) <= 5:
        lines.append(
            f"note: P = {min(sizes)} manifolds; at P <= 5 MFTMA's capacity is a ~10% estimate and the "
            "simulated one depends on the convention for random labels by as much (docs/mftma-small-p.md)"
        )
    return lines
