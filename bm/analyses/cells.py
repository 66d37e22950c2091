"""What a phase cell needs beyond its metrics, measured on a finished run's final weights: the fit of the n clean
images against their training labels beside the fit of every trained item (the n B views of a finite cell), and the
normalized invariance of the embedding (Eq. 2) on the run's own training views and on held-out views.

For a finite cell (`augment="finite"`, B views per image, view 0 the image itself) the training views are the views
it trained on (views 0 .. V - 1, V = min(B, views); B >= 3: Eq. (2) needs two augmented views); held-out views are the SSL views the probes draw with another
seed (view 0 the image itself). An online cell trains on fresh views, so it has held-out views only.
"""

from __future__ import annotations

from pathlib import Path

import torch

from bm.analyses.probing import load_run, network_at
from bm.deep.datasets import ImageSet
from bm.deep.items import training_items
from bm.deep.measure import memorized_accuracy
from bm.deep.models import Network
from bm.deep.train import run_inputs
from bm.errors import BMError
from bm.runs import run_record
from bm.theory import InvarianceAccumulator

__all__ = ["RECORD", "cell_measures", "cell_measures_of_run"]

RECORD = "cell_measures.json"  # a run folder's record of these measures, for its final epoch
VERSION = 1


@torch.no_grad()
def _invariance(net: Network, images: torch.Tensor, views: int) -> float:
    """Eq. (2) of the embedding over anchors' views: images (n V, 3, H, W) in [0, 1], anchor-major, view 0 clean."""
    acc = InvarianceAccumulator()
    per = 64 * views
    for s in range(0, images.shape[0], per):
        f = net.features(images[s : s + per], ["embedding"])["embedding"].float()
        f = f.reshape(-1, views, f.shape[-1])
        acc.update(f[:, 1:], f[:, 0])
    return acc.result()


@torch.no_grad()
def cell_measures(
    path: Path, data: tuple[ImageSet, ImageSet] | None = None, device: str = "cpu", views: int = 8
) -> dict:
    """The module doc's measures of the run at `path` (its final weights): fit_clean, fit_items, invariance_train
    (None: online, or B < 3), invariance_heldout; `views`: the most views per image the invariance uses."""
    _, cfg, weights = load_run(path)
    if cfg.augment == "iid":
        raise BMError(f"{path}: cell measures are for finite-view and online runs (the phase cells), not i.i.d. sets")
    cfg, train_set, _, _, labels = run_inputs(cfg, data)
    train_set = train_set.to(device)
    targets = torch.nn.functional.one_hot(labels.labels, labels.num_classes).float().to(device)
    items = training_items(cfg, train_set, labels, targets, torch.Generator(device=device).manual_seed(cfg.seed))
    net = network_at(cfg, weights, device)
    n, finite = len(train_set), cfg.augment == "finite"
    B = cfg.views if finite else 1
    anchors = torch.arange(n, device=device)
    trained = min(B, views)
    own = None
    if finite and trained >= 3:  # Eq. (2) pairs two augmented views besides the image itself
        idx = (anchors[:, None] * B + torch.arange(trained, device=device)).reshape(-1)
        own = _invariance(net, items.fetch(idx)[0], trained)
    return {
        "fit_clean": memorized_accuracy(net, items, anchors * B),  # item i * B: view 0 (the image itself)
        "fit_items": memorized_accuracy(net, items),
        "invariance_train": own,
        "invariance_heldout": _invariance(net, items.views(anchors, views), views),
        "views": views,
    }


def cell_measures_of_run(path: Path, data: tuple[ImageSet, ImageSet] | None = None, device: str = "cpu") -> dict:
    """`cell_measures` of a finished run, read from its RECORD when that holds the run's final epoch."""
    return run_record(path, RECORD, VERSION, lambda: cell_measures(path, data, device))
