"""Pictures of the data pipeline: a grid of augmented views next to the originals."""

from __future__ import annotations

from pathlib import Path

import torch

from bm.deep.augment import SSLAugment
from bm.deep.datasets import ImageSet
from bm.deep.views import finite_views
from bm.figures import plt, save_figure

__all__ = ["augmentation_grid"]


def augmentation_grid(
    data: ImageSet, stem: Path, rows: int = 4, cols: int = 8, seed: int = 0, config: SSLAugment = SSLAugment()
) -> list[Path]:
    """stem.png/.pdf: `cols` images (first of each class in turn), the original in the top row and
    SSL views 1..rows-1 of the finite augmentation set with this seed below it."""
    picks, seen = [], set()
    for i, y in enumerate(data.labels.tolist()):
        if y not in seen or len(seen) == len(data.classes):
            picks.append(i)
            seen.add(y)
        if len(picks) == cols:
            break
    sample = torch.tensor(picks).repeat(rows)  # row-major: view r of every pick
    view = torch.arange(rows).repeat_interleave(len(picks))
    views = finite_views(data.images, sample, view, seed, config).cpu()  # (rows * cols, 3, H, W)
    fig, axes = plt.subplots(rows, len(picks), figsize=(1.3 * len(picks), 1.45 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.imshow(views[k].permute(1, 2, 0).numpy(), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        r, c = divmod(k, len(picks))
        if r == 0:
            ax.set_title(data.classes[int(data.labels[picks[c]])], fontsize=8)
        if c == 0:
            ax.set_ylabel("original" if r == 0 else f"view {r}", fontsize=8)
    fig.suptitle(f"{data.name}: SSL augmentations (crop, flip, colour jitter, greyscale), seed {seed}", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, stem, dpi=120)
