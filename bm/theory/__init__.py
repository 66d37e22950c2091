"""Exact identities and measures of benign memorization (App. B and D of the paper)."""

from bm.theory.bias import BiasSplit, class_grouped_bias, mean_separation
from bm.theory.capacity import (
    CapacityEstimate,
    estimate_capacity,
    memorizes,
    prototype_capacity_bound,
    prototype_labelings_log_bound,
)
from bm.theory.decomposition import (
    Decomposition,
    DecompositionAccumulator,
    OnlineEstimate,
    inv_pairwise,
    lemma_b1,
    mse_decomposition,
    online_estimates,
)
from bm.theory.invariance import InvarianceAccumulator, normalized_invariance
from bm.theory.mftma import ManifoldGeometry, manifold_geometry

__all__ = [
    "BiasSplit",
    "CapacityEstimate",
    "Decomposition",
    "DecompositionAccumulator",
    "InvarianceAccumulator",
    "ManifoldGeometry",
    "OnlineEstimate",
    "class_grouped_bias",
    "estimate_capacity",
    "inv_pairwise",
    "lemma_b1",
    "manifold_geometry",
    "mean_separation",
    "memorizes",
    "mse_decomposition",
    "normalized_invariance",
    "online_estimates",
    "prototype_capacity_bound",
    "prototype_labelings_log_bound",
]
