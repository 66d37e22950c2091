"""SSL augmentations: the batched on-device pipeline against torchvision.transforms.v2 per image.

Same ops and probabilities (RandomResizedCrop scale (0.08, 1), flip 0.5, colour jitter
(0.8, 0.8, 0.8, 0.2) with p = 0.8, greyscale 0.2), CIFAR-size uint8 images, float output in [0, 1].
The baseline applies the v2 transforms per image in a DataLoader with 2 workers and batch 256
(its second epoch is timed, so worker start-up is not counted);
ours draws per-sample parameters and augments whole batches of 256. Real CIFAR-10 images from
../shared/data/cifar-10-mini when present, random pixels otherwise. Prints images/s and the ratio;
with --cuda also the GPU pipeline's images/s at 32x32 and 64x64.

    python benchmarks/augment.py [--images 5120] [--cuda]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from bm.deep.augment import draw_uniforms, ssl_augment

MINI = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-mini"


class PerImage(Dataset):
    def __init__(self, images: torch.Tensor) -> None:
        self.images = images
        self.transform = v2.Compose(
            [
                v2.RandomResizedCrop(32, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), antialias=True),
                v2.RandomHorizontalFlip(0.5),
                v2.RandomApply([v2.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
                v2.RandomGrayscale(0.2),
                v2.ToDtype(torch.float32, scale=True),
            ]
        )

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.transform(self.images[i])


def load_images(n: int) -> tuple[torch.Tensor, str]:
    if (MINI / "cifar-10-batches-py").exists():
        from bm.deep.datasets import load_dataset

        images = load_dataset("cifar10", MINI, "train").images
        return images.repeat((n + len(images) - 1) // len(images), 1, 1, 1)[:n], "cifar-10-mini"
    return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8), "random pixels"


def batched_rate(images: torch.Tensor, device: str, batch: int = 256) -> float:
    images = images.to(device)
    gen = torch.Generator(device=device).manual_seed(0)
    ssl_augment(images[:batch], draw_uniforms(batch, gen, device))  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for s in range(0, len(images), batch):
        x = images[s : s + batch]
        ssl_augment(x, draw_uniforms(x.shape[0], gen, device))
    if device == "cuda":
        torch.cuda.synchronize()
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5120)
    parser.add_argument("--cuda", action="store_true", help="also time the pipeline on the GPU")
    args = parser.parse_args()
    images, source = load_images(args.images)
    print(f"{len(images)} images of {source}, 32x32, batch 256, torch threads={torch.get_num_threads()}")

    loader = DataLoader(PerImage(images), batch_size=256, num_workers=2, persistent_workers=True)
    for _ in loader:  # first epoch starts the workers: not timed
        pass
    start = time.perf_counter()
    for _ in loader:
        pass
    base = len(images) / (time.perf_counter() - start)
    ours = batched_rate(images, "cpu")
    print(f"torchvision v2 per image, DataLoader 2 workers : {base:9.0f} img/s")
    print(f"bm batched pipeline on the CPU               : {ours:9.0f} img/s")
    print(f"speed-up                                     : {ours / base:9.2f}x")
    if args.cuda and torch.cuda.is_available():
        for size in (32, 64):
            big = torch.nn.functional.interpolate(images[:4096].float(), size=size).to(torch.uint8)
            print(f"GPU pipeline {size}x{size}                          : {batched_rate(big, 'cuda'):9.0f} img/s")


if __name__ == "__main__":
    main()
