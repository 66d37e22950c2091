"""Two protocols (an online one, a fixed-set one) and a probe as a user writes them (registered by tests/plugins/example.py and tests/test_registries.py)."""

import torch

from bm.analyses.probing import ProbeData
from bm.deep.items import TrainingItems


def hflip(images, generator, targets, options):
    """Each image flipped left-right with probability 1/2: uint8 (N, 3, H, W) -> floats in [0, 1], targets, no mixup."""
    flip = torch.rand(images.shape[0], generator=generator, device=images.device) < 0.5
    x = images.float() / 255
    return torch.where(flip[:, None, None, None], x.flip(-1), x), targets, None


def centroid(d: ProbeData) -> dict[str, float]:
    """Nearest class centroid (by inner product) of the clean training features: test accuracy."""
    means = torch.stack([d.train_x[d.train_y == c].mean(0) for c in range(int(d.train_y.max()) + 1)])
    return {"centroid_clean_test": float(((d.test_x @ means.T).argmax(1) == d.test_y).float().mean())}


def shifts(cfg, data, labels, targets, probe_views) -> TrainingItems:
    """A fixed set of B views per image: view v is the image rolled v pixels to the right; item i = view i mod B of
    image i div B, with its image's training label."""
    B = cfg.views
    y = labels.labels.to(targets.device)

    def fetch(idx):
        return torch.stack([data.images[i].roll(int(v), -1) for i, v in zip(idx // B, idx % B)]).float() / 255, targets[
            idx // B
        ]

    def memorized(idx):
        return fetch(idx)[0], y[idx // B]

    return TrainingItems(
        len(data) * B,
        fetch,
        len(data) * B,
        memorized,
        len(data),
        probe_views,
        targets,
        cfg.decomposition_views,
        data.labels,
    )
