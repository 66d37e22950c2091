"""The training loop's invariance probe (Fig. 6) against values computed independently of it."""

from dataclasses import replace

import pytest
import torch

import bm.deep.items as items_module
from bm.deep.config import DeepTrainConfig
from bm.deep.measure import probe
from bm.deep.views import finite_views
from tests.deep.test_train import CFG, data  # noqa: F401  (the generated CIFAR-10 fixture)


class PixelNet(torch.nn.Module):
    """'embedding' = the pixels; 'O' = a fixed wide random Gaussian projection of them (a random-init linear net)."""

    layer_names = ["embedding", "O"]

    def __init__(self, dim: int, width: int = 4096) -> None:
        super().__init__()
        self.w = torch.randn(dim, width, generator=torch.Generator().manual_seed(0)) / dim**0.5

    def features(self, x, names):
        flat = x.flatten(1)
        return {"embedding": flat, "O": flat @ self.w}


def _direct(images: torch.Tensor, cfg: DeepTrainConfig) -> float:
    """Eq. (2) as a ratio of data-set means from the views themselves: view 0 clean, views 1.. augmented."""
    s, B = min(cfg.decomposition_samples, images.shape[0]), cfg.decomposition_views
    sample, view = torch.arange(s).repeat_interleave(B), torch.arange(B).repeat(s)
    v = finite_views(images, sample, view, seed=cfg.seed + 1).flatten(1).double().reshape(s, B, -1)
    aug = v[:, 1:]
    pairs = (aug[:, :, None] - aug[:, None]).square().sum(-1).sum((1, 2)) / ((B - 1) * (B - 2))
    clean = v[:, 0]
    between = torch.cdist(clean, clean).square().sum() / (s * (s - 1))
    return float(pairs.mean() / between)


def _items(train, cfg, width):
    """The run's training items, with zero targets of the output's width (Inv/Bias of 'O' need them)."""
    from bm.deep.items import training_items
    from bm.labels import LabelConfig, assign_labels

    labels = assign_labels(train.labels, 10, LabelConfig(), 0)
    return training_items(cfg, train, labels, torch.zeros(len(train), width), torch.Generator())


@pytest.mark.slow
def test_pixel_invariance_matches_a_direct_computation_and_a_random_projection_keeps_it(data):  # noqa: F811
    train, test = data
    cfg = replace(CFG, decomposition_samples=16, decomposition_views=4)
    net = PixelNet(train.images[0].numel())
    got = probe(net, _items(train, cfg, net.w.shape[1]), {"train": train}, test, cfg)["invariance"]
    expected = _direct(train.images, cfg)
    assert abs(got["embedding"] - expected) < 1e-6 * expected
    # a random Gaussian linear map preserves squared distances up to O(1/sqrt(width)): the same ratio
    assert abs(got["O"] - expected) < 0.1 * expected


def test_views_equal_to_the_clean_image_give_exactly_zero(data, monkeypatch):  # noqa: F811
    train, test = data
    monkeypatch.setattr(items_module, "finite_views", lambda images, sample, view, seed: images[sample].float() / 255)
    net = PixelNet(train.images[0].numel())
    cfg = replace(CFG, decomposition_samples=16)
    inv = probe(net, _items(train, cfg, net.w.shape[1]), {"train": train}, test, cfg)["invariance"]
    assert inv == {"embedding": 0.0, "O": 0.0}
