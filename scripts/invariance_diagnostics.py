"""Why does the normalized invariance (Eq. 2) of a run move the way it does? Diagnostics of one run folder.

For the weights at init and at the end of a deep run, and for the embedding and the output O, it
prints the numerator (mean squared distance between two augmented views of an image), the
denominator (mean squared distance between two clean images) and their ratio, with the network's
BatchNorm statistics taken four ways: as trained (eval mode, what metrics.jsonl reports), and
re-estimated on clean images, on SSL views, and on SSL views + mixup. It also prints the pixel
statistics of those three inputs, and (trained weights, BN as trained) the invariance under each half of the
SSL pipeline alone: crop + flip only, and colour jitter + greyscale only.

    python scripts/invariance_diagnostics.py RUN_FOLDER [--samples 256] [--views 4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from bm.analyses.probing import load_run, network_at, run_data
from bm.deep.augment import SSLAugment
from bm.deep.views import augment_batch, finite_views
from bm.runs import RunFolder
from bm.theory import InvarianceAccumulator

LAYERS = ("embedding", "O")
FAMILIES = {
    "crop + flip only": SSLAugment(jitter_p=0.0, gray_p=0.0),
    "colour only": SSLAugment(scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_p=0.0),
}


def batches(images: torch.Tensor, kind: str, seed: int, size: int = 128):
    """Float inputs from uint8 images: clean, SSL views or SSL views + mixup, in batches."""
    gen = torch.Generator().manual_seed(seed)
    for s in range(0, images.shape[0], size):
        x = images[s : s + size]
        if kind == "clean":
            yield x.float() / 255
        else:
            t = torch.zeros(x.shape[0], 1)
            yield augment_batch("ssl" if kind == "ssl" else "ssl+mixup", x, gen, t)[0]


@torch.no_grad()
def reestimate_bn(net: torch.nn.Module, images: torch.Tensor, kind: str) -> None:
    """Replace every BatchNorm's running statistics by their average over `images` seen as `kind`."""
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    net.train()
    for _ in range(3):
        for x in batches(images, kind, seed=1):
            net(x)
    net.eval()


@torch.no_grad()
def invariance(
    net, images: torch.Tensor, B: int, seed: int, config: SSLAugment = SSLAugment()
) -> dict[str, tuple[float, float, float]]:
    """(numerator, denominator, ratio) per layer, views as the training loop's probe draws them."""
    s = images.shape[0]
    sample = torch.arange(s).repeat_interleave(B)
    view = torch.arange(B).repeat(s)
    accs = {n: InvarianceAccumulator() for n in LAYERS}
    num = {n: 0.0 for n in LAYERS}
    for start in range(0, s, 64):
        rows = slice(start * B, min(s, start + 64) * B)
        feats = net.features(finite_views(images, sample[rows], view[rows], seed, config), list(LAYERS))
        for n, f in feats.items():
            f = f.float().reshape(-1, B, f[0].numel())
            accs[n].update(f[:, 1:], f[:, 0])
            aug = f[:, 1:]
            num[n] += float((aug[:, :, None] - aug[:, None]).square().sum(-1).sum() / ((B - 1) * (B - 2)))
    out = {}
    for n in LAYERS:
        ratio = accs[n].result()
        numerator = num[n] / s
        out[n] = (numerator, numerator / ratio, ratio)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--views", type=int, default=4)
    args = parser.parse_args()
    run, cfg, weights = load_run(args.run)
    train, _ = run_data(cfg)
    images = train.images[: args.samples]
    for kind in ("clean", "ssl", "mixup"):
        x = torch.cat(list(batches(train.images, kind, seed=2)))
        print(
            f"pixels, {kind:6s}: mean {x.mean():.3f}  std over pixels {x.std():.3f}  "
            f"std over images of the image mean {x.mean(dim=(1, 2, 3)).std():.3f}"
        )
    for label, file in (("init", run / RunFolder.INIT), ("trained", weights)):
        for bn in ("as trained", "clean", "ssl", "mixup"):
            net = network_at(cfg, file)
            if bn != "as trained":
                reestimate_bn(net, train.images, bn)
            values = invariance(net, images, args.views, cfg.seed + 1)
            print(
                f"{label:8s} BN {bn:10s} "
                + "  ".join(f"{n}: num {v[0]:.4g} den {v[1]:.4g} I {v[2]:.3f}" for n, v in values.items())
            )
        net = network_at(cfg, file)
        for family, config in FAMILIES.items():
            values = invariance(net, images, args.views, cfg.seed + 1, config)
            print(f"{label:8s} views: {family:18s} " + "  ".join(f"{n}: I {v[2]:.3f}" for n, v in values.items()))


if __name__ == "__main__":
    main()
