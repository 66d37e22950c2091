"""Batched image augmentations with per-sample parameters, on the device where the batch lives.

Every random choice of the SSL pipeline (Table 6 of the paper) is read from a tensor of uniforms
u (N, NUM_UNIFORMS) in [0, 1). Online augmentation draws u from an explicit torch.Generator
(`draw_uniforms`), so a seed reproduces a batch exactly; a finite augmentation set (Sec. 5.1)
derives u from a counter-based hash of (seed, sample index, view index) (`view_uniforms`), so
view b of sample i is regenerated identically whenever it is needed and nothing is stored.

The ops follow torchvision's functional ops on float images in [0, 1] (tests compare them):
RandomResizedCrop (scale (0.08, 1), ratio (3/4, 4/3), up to 10 tries then the centre crop;
bilinear resize back to the input size), horizontal flip, colour jitter in a random order applied
with probability 0.8, random greyscale; normalization is separate (`normalize`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from bm.deep.config import MIXUP_LAMBDAS, MixupOptions
from bm.errors import BMError

__all__ = [
    "NUM_UNIFORMS",
    "MIXUP_LAMBDAS",
    "Mixup",
    "MixupOptions",
    "SSLAugment",
    "draw_uniforms",
    "mixup",
    "normalize",
    "ssl_augment",
    "view_uniforms",
]

_TRIES = 10
# layout of the uniforms: 10 crop scales, 10 crop log-ratios, crop top, crop left, flip, jitter on,
# brightness, contrast, saturation, hue, 4 keys whose order is the jitter order, greyscale
_SCALE, _RATIO, _TOP, _LEFT, _FLIP, _JITTER, _FACTORS, _ORDER, _GRAY = 0, 10, 20, 21, 22, 23, 24, 28, 32
NUM_UNIFORMS = 33
_GRAY_WEIGHTS = (0.2989, 0.587, 0.114)  # ITU-R 601-2 luma, as torchvision


@dataclass(frozen=True)
class SSLAugment:
    """The SSL augmentation set of Table 6; strengths as in torchvision's transforms."""

    scale: tuple[float, float] = (0.08, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter_p: float = 0.8
    brightness: float = 0.8
    contrast: float = 0.8
    saturation: float = 0.8
    hue: float = 0.2
    gray_p: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.scale[0] <= self.scale[1] <= 1 or not 0 < self.ratio[0] <= self.ratio[1]:
            raise BMError(
                f"need 0 < scale[0] <= scale[1] <= 1 and 0 < ratio[0] <= ratio[1]; got {self.scale}, {self.ratio}"
            )
        if not all(0 <= p <= 1 for p in (self.flip_p, self.jitter_p, self.gray_p)) or not 0 <= self.hue <= 0.5:
            raise BMError("probabilities must lie in [0, 1] and hue in [0, 0.5]")


# ----------------------------------------------------------------------------- random parameters


def draw_uniforms(n: int, generator: torch.Generator, device: str | torch.device = "cpu") -> torch.Tensor:
    """(n, NUM_UNIFORMS) fresh uniforms from `generator` (which must live on `device`)."""
    return torch.rand(n, NUM_UNIFORMS, generator=generator, device=device)


def _mul32(x: torch.Tensor, c: int) -> torch.Tensor:
    """x * c mod 2^32 for x in [0, 2^32) held in int64, without int64 overflow."""
    lo, hi = x & 0xFFFF, x >> 16
    return (lo * c + ((hi * (c & 0xFFFF)) << 16)) & 0xFFFFFFFF


def _hash32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer mixing function (xorshift-multiply, as in C. Wellons' 'lowbias32')."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def view_uniforms(seed: int, sample: torch.Tensor, view: torch.Tensor) -> torch.Tensor:
    """(N, NUM_UNIFORMS) uniforms that depend only on (seed, sample[k], view[k]): the parameters of
    view `view[k]` of sample `sample[k]` in a finite augmentation set, on the indices' device."""
    sample, view = sample.long().reshape(-1, 1), view.long().reshape(-1, 1)
    param = torch.arange(NUM_UNIFORMS, device=sample.device)[None]
    x = _hash32(torch.full_like(sample, seed & 0xFFFFFFFF) ^ _hash32(sample & 0xFFFFFFFF))
    x = _hash32(x ^ _hash32(view & 0xFFFFFFFF))
    x = _hash32(x ^ _hash32(param + 0x9E3779B9 & 0xFFFFFFFF))  # (N, NUM_UNIFORMS)
    return (x >> 8).to(torch.float32) / float(1 << 24)  # 24 random bits: exact floats in [0, 1)


# ----------------------------------------------------------------------------- geometric ops


def crop_boxes(u: torch.Tensor, height: int, width: int, config: SSLAugment) -> torch.Tensor:
    """RandomResizedCrop boxes (N, 4) = (top, left, h, w) from uniforms, as torchvision's get_params."""
    area = height * width
    s0, s1 = config.scale
    r0, r1 = math.log(config.ratio[0]), math.log(config.ratio[1])
    target = area * (s0 + (s1 - s0) * u[:, _SCALE : _SCALE + _TRIES].double())  # (N, 10)
    aspect = torch.exp(r0 + (r1 - r0) * u[:, _RATIO : _RATIO + _TRIES].double())
    w = torch.round(torch.sqrt(target * aspect)).long()
    h = torch.round(torch.sqrt(target / aspect)).long()
    ok = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = ok.long().argmax(1, keepdim=True)  # first try that fits
    w, h = w.gather(1, first)[:, 0], h.gather(1, first)[:, 0]
    in_ratio = width / height  # fallback: the centre crop torchvision takes after 10 misses
    if in_ratio < config.ratio[0]:
        fw, fh = width, int(round(width / config.ratio[0]))
    elif in_ratio > config.ratio[1]:
        fw, fh = int(round(height * config.ratio[1])), height
    else:
        fw, fh = width, height
    found = ok.any(1)
    w, h = torch.where(found, w, fw), torch.where(found, h, fh)
    top = torch.where(found, (u[:, _TOP].double() * (height - h + 1)).long(), (height - fh) // 2)
    left = torch.where(found, (u[:, _LEFT].double() * (width - w + 1)).long(), (width - fw) // 2)
    return torch.stack([top, left, h, w], 1)


def _axis_weights(start: torch.Tensor, length: torch.Tensor, out: int) -> tuple[torch.Tensor, ...]:
    """Bilinear (align_corners=False) source rows and weights (N, out) for resizing [start, start+length)."""
    o = torch.arange(out, device=start.device, dtype=torch.float64)[None]
    src = ((o + 0.5) * (length[:, None].double() / out) - 0.5).clamp(min=0)
    i0 = src.floor().long()
    i0 = torch.minimum(i0, length[:, None] - 1)
    i1 = torch.minimum(i0 + 1, length[:, None] - 1)
    w1 = (src - i0).clamp(0, 1)
    return start[:, None] + i0, start[:, None] + i1, 1 - w1, w1


def resized_crop(images: torch.Tensor, boxes: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Crop boxes (N, 4) = (top, left, h, w) of float images (N, C, H, W) and resize to `size` with
    bilinear interpolation (as torchvision's resized_crop for crops no larger than `size`)."""
    N, C, H, W = images.shape
    out_h, out_w = size
    r0, r1, a0, a1 = _axis_weights(boxes[:, 0], boxes[:, 2], out_h)  # (N, out_h)
    c0, c1, b0, b1 = _axis_weights(boxes[:, 1], boxes[:, 3], out_w)  # (N, out_w)
    dt = images.dtype
    rows = lambda idx: images.gather(2, idx[:, None, :, None].expand(N, C, out_h, W))  # noqa: E731
    tmp = rows(r0) * a0.to(dt)[:, None, :, None] + rows(r1) * a1.to(dt)[:, None, :, None]  # (N, C, out_h, W)
    cols = lambda idx: tmp.gather(3, idx[:, None, None, :].expand(N, C, out_h, out_w))  # noqa: E731
    return cols(c0) * b0.to(dt)[:, None, None, :] + cols(c1) * b1.to(dt)[:, None, None, :]


# ----------------------------------------------------------------------------- colour ops


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma (N, 1, H, W) of RGB images (N, 3, H, W)."""
    r, g, b = x.unbind(1)
    return (_GRAY_WEIGHTS[0] * r + _GRAY_WEIGHTS[1] * g + _GRAY_WEIGHTS[2] * b)[:, None]


def _blend(x: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    f = factor[:, None, None, None].to(x.dtype)
    return (f * x + (1 - f) * other).clamp(0, 1)


def adjust_brightness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return _blend(x, torch.zeros_like(x), factor)


def adjust_contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return _blend(x, grayscale(x).mean(dim=(1, 2, 3), keepdim=True), factor)


def adjust_saturation(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return _blend(x, grayscale(x), factor)


def adjust_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of RGB images (N, 3, H, W) by shift (N,) turns, through HSV."""
    vmax, vmin = x.amax(1), x.amin(1)  # (N, H, W)
    chroma = vmax - vmin
    safe = torch.where(chroma > 0, chroma, torch.ones_like(chroma))
    r, g, b = x.unbind(1)
    # hue in sixths of a turn, by which channel is largest (ties: red, then green, as torchvision)
    h_r = ((g - b) / safe) % 6
    h_g = (b - r) / safe + 2
    h_b = (r - g) / safe + 4
    hue = torch.where(vmax == r, h_r, torch.where(vmax == g, h_g, h_b))
    hue = torch.where(chroma > 0, hue / 6, torch.zeros_like(hue))
    sat = torch.where(vmax > 0, chroma / torch.where(vmax > 0, vmax, torch.ones_like(vmax)), torch.zeros_like(vmax))
    hue = (hue + shift[:, None, None].to(x.dtype)) % 1.0
    # back to RGB: each channel k in (5, 3, 1) is v - v s max(0, min(t, 4 - t, 1)), t = (k + 6h) mod 6
    k = torch.tensor([5.0, 3.0, 1.0], device=x.device, dtype=x.dtype)[None, :, None, None]
    t = (k + hue[:, None] * 6) % 6
    ramp = torch.minimum(torch.minimum(t, 4 - t), torch.ones_like(t)).clamp(min=0)
    return (vmax[:, None] * (1 - sat[:, None] * ramp)).clamp(0, 1)


_COLOUR_OPS = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)


def _jitter(x: torch.Tensor, u: torch.Tensor, config: SSLAugment) -> torch.Tensor:
    """ColorJitter with per-sample factors and a per-sample random order, on samples where it applies."""
    on = u[:, _JITTER] < config.jitter_p
    spans = (config.brightness, config.contrast, config.saturation)
    factors = [1 + s * (2 * u[:, _FACTORS + j] - 1) for j, s in enumerate(spans)]
    factors.append(config.hue * (2 * u[:, _FACTORS + 3] - 1))
    order = u[:, _ORDER : _ORDER + 4].argsort(1)  # (N, 4): a uniformly random permutation per sample
    x = x.clone()
    for position in range(4):
        for op_index, op in enumerate(_COLOUR_OPS):
            rows = (on & (order[:, position] == op_index)).nonzero().squeeze(1)
            if rows.numel():
                x[rows] = op(x[rows], factors[op_index][rows])
    return x


def ssl_augment(images: torch.Tensor, u: torch.Tensor, config: SSLAugment = SSLAugment()) -> torch.Tensor:
    """The SSL pipeline on a batch: images (N, 3, H, W) uint8 or float in [0, 1], uniforms
    (N, NUM_UNIFORMS) on the same device -> float images (N, 3, H, W) in [0, 1] (not normalized)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise BMError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}")
    if u.shape != (images.shape[0], NUM_UNIFORMS):
        raise BMError(f"uniforms must have shape ({images.shape[0]}, {NUM_UNIFORMS}), got {tuple(u.shape)}")
    x = images.float() / 255 if images.dtype == torch.uint8 else images
    H, W = x.shape[-2:]
    x = resized_crop(x, crop_boxes(u, H, W, config), (H, W))
    x = torch.where((u[:, _FLIP] < config.flip_p)[:, None, None, None], x.flip(-1), x)
    x = _jitter(x, u, config)
    return torch.where((u[:, _GRAY] < config.gray_p)[:, None, None, None], grayscale(x).expand_as(x), x)


def normalize(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """(x - mean) / std per channel for float images (N, C, H, W)."""
    m = torch.tensor(mean, device=x.device, dtype=x.dtype)[None, :, None, None]
    s = torch.tensor(std, device=x.device, dtype=x.dtype)[None, :, None, None]
    return (x - m) / s


# ----------------------------------------------------------------------------- mixup


@dataclass(frozen=True)
class Mixup:
    """images and targets after mixup; lam (N,) the weight of each sample's own image, partner (N,)
    the index of the image it was mixed with (itself where mixup did not apply)."""

    images: torch.Tensor
    targets: torch.Tensor
    lam: torch.Tensor
    partner: torch.Tensor


def mixup(
    images: torch.Tensor, targets: torch.Tensor, generator: torch.Generator, options: MixupOptions = MixupOptions()
) -> Mixup:
    """Mixup (Zhang et al. 2018): x_i <- lam_i x_i + (1 - lam_i) x_pi(i), pi a random permutation, lam ~ Beta(alpha,
    alpha) per sample (or one per batch), applied with probability p per sample (or per batch); images (N, 3, H, W),
    targets (N, C), mixed the same way unless `mix_targets` is off (the released code)."""
    n, dev = images.shape[0], images.device
    per_batch = options.lam == "batch"
    partner = torch.randperm(n, generator=generator, device=generator.device).to(dev)
    draws = torch.rand(1 if per_batch else n, generator=generator, device=generator.device)
    on = (draws < options.p).to(dev).expand(n)
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
    lam = torch.from_numpy(np.random.default_rng(seed).beta(options.alpha, options.alpha, 1 if per_batch else n))
    lam = lam.to(dev, images.dtype).expand(n)
    lam = torch.where(on, lam, torch.ones_like(lam))
    partner = torch.where(on, partner, torch.arange(n, device=dev))
    mixed = lam[:, None, None, None] * images + (1 - lam[:, None, None, None]) * images[partner]
    out_targets = lam[:, None] * targets + (1 - lam[:, None]) * targets[partner] if options.mix_targets else targets
    return Mixup(mixed, out_targets, lam, partner)
