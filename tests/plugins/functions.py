"""A protocol and a probe as a user writes them (registered by tests/plugins/example.py and tests/test_registries.py)."""

import torch

from bm.deep.probing import ProbeData


def hflip(images, generator, targets, options):
    """Each image flipped left-right with probability 1/2: uint8 (N, 3, H, W) -> floats in [0, 1], targets, no mixup."""
    flip = torch.rand(images.shape[0], generator=generator, device=images.device) < 0.5
    x = images.float() / 255
    return torch.where(flip[:, None, None, None], x.flip(-1), x), targets, None


def centroid(d: ProbeData) -> dict[str, float]:
    """Nearest class centroid (by inner product) of the clean training features: test accuracy."""
    means = torch.stack([d.train_x[d.train_y == c].mean(0) for c in range(int(d.train_y.max()) + 1)])
    return {"centroid_clean_test": float(((d.test_x @ means.T).argmax(1) == d.test_y).float().mean())}
