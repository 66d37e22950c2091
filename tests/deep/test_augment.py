import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torchvision.transforms.v2 import functional as TF

from bm.deep.augment import (
    NUM_UNIFORMS,
    MixupOptions,
    SSLAugment,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    crop_boxes,
    draw_uniforms,
    grayscale,
    mixup,
    normalize,
    resized_crop,
    ssl_augment,
    view_uniforms,
)
from bm.errors import BMError


def _images(n=6, size=32, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@given(st.integers(0, 2**31), st.sampled_from([32, 64]))
def test_resized_crop_matches_torchvision(seed, size):
    x = _images(4, size, seed)
    boxes = crop_boxes(
        torch.rand(4, NUM_UNIFORMS, generator=torch.Generator().manual_seed(seed)), size, size, SSLAugment()
    )
    ours = resized_crop(x, boxes, (size, size))
    for k in range(4):
        top, left, h, w = boxes[k].tolist()
        ref = TF.resized_crop(x[k], top, left, h, w, [size, size], antialias=True)
        torch.testing.assert_close(ours[k], ref, atol=1e-5, rtol=0)


def test_crop_boxes_respect_scale_ratio_and_bounds():
    u = torch.rand(20000, NUM_UNIFORMS, generator=torch.Generator().manual_seed(1))
    top, left, h, w = crop_boxes(u, 32, 32, SSLAugment()).T
    assert (top >= 0).all() and (left >= 0).all() and (top + h <= 32).all() and (left + w <= 32).all()
    area = (h * w).float() / 1024
    assert area.min() >= 0.05 and area.max() <= 1.0  # scale (0.08, 1) up to rounding
    ratio = w.float() / h.float()
    assert ratio.min() > 0.5 and ratio.max() < 2.0
    # positions are uniform over the free range: the mean offset is half of it
    free = (32 - h).float()
    assert (top.float() / free.clamp(min=1))[free > 8].mean() == pytest.approx(0.5, abs=0.02)


def test_crop_falls_back_to_the_centre_after_ten_misses():
    config = SSLAugment(scale=(1.0, 1.0), ratio=(3.0, 4.0))  # never fits a square image
    boxes = crop_boxes(torch.rand(5, NUM_UNIFORMS), 32, 32, config)
    # torchvision's fallback for in_ratio < min(ratio): w = width, h = round(w / min(ratio))
    assert boxes.tolist() == [[(32 - 11) // 2, 0, 11, 32]] * 5


@pytest.mark.parametrize(
    "ours,theirs,low,high",
    [
        (adjust_brightness, TF.adjust_brightness, 0.2, 1.8),
        (adjust_contrast, TF.adjust_contrast, 0.2, 1.8),
        (adjust_saturation, TF.adjust_saturation, 0.2, 1.8),
        (adjust_hue, TF.adjust_hue, -0.5, 0.5),
    ],
)
def test_colour_ops_match_torchvision(ours, theirs, low, high):
    x = _images(8, 16, seed=2)
    x[0] = 0.5  # grey image: zero chroma
    x[1, :, :4] = x[1, 0:1, :4]  # ties between channels
    x[2, 1] = x[2, 0]  # red and green tie everywhere
    factors = torch.linspace(low, high, 8)
    got = ours(x, factors)
    for k in range(8):
        torch.testing.assert_close(got[k], theirs(x[k], float(factors[k])), atol=2e-5, rtol=0)


def test_grayscale_matches_torchvision():
    x = _images(3)
    torch.testing.assert_close(grayscale(x), TF.rgb_to_grayscale(x), atol=1e-6, rtol=0)


def test_jitter_order_follows_the_uniform_keys():
    x = _images(1, 16, seed=3)
    u = torch.rand(1, NUM_UNIFORMS, generator=torch.Generator().manual_seed(4))
    u[0, 20:24] = torch.tensor([0.0, 0.0, 0.9, 0.0])  # crop at the corner, no flip, jitter on
    u[0, 0:10] = 1.0  # full-area crops: the crop is the identity
    u[0, 10:20] = 0.5  # ratio 1
    u[0, 24:28] = torch.tensor([0.9, 0.1, 0.7, 0.8])  # factors
    u[0, 28:32] = torch.tensor([0.3, 0.1, 0.9, 0.5])  # order: contrast, brightness, hue, saturation
    u[0, 32] = 0.99  # no greyscale
    u[0, 23] = 0.1  # jitter applies (p = 0.8)
    got = ssl_augment(x, u)
    cfg = SSLAugment()
    b, c, s = (1 + 0.8 * (2 * f - 1) for f in (0.9, 0.1, 0.7))
    h = 0.2 * (2 * 0.8 - 1)
    ref = TF.adjust_contrast(x[0], c)
    ref = TF.adjust_brightness(ref, b)
    ref = TF.adjust_hue(ref, h)
    ref = TF.adjust_saturation(ref, s)
    assert cfg.jitter_p == 0.8
    torch.testing.assert_close(got[0], ref, atol=3e-5, rtol=0)


def test_pipeline_is_reproducible_from_a_seed_and_stays_in_range():
    x = (torch.rand(16, 3, 32, 32) * 255).to(torch.uint8)
    a = ssl_augment(x, draw_uniforms(16, torch.Generator().manual_seed(5)))
    b = ssl_augment(x, draw_uniforms(16, torch.Generator().manual_seed(5)))
    c = ssl_augment(x, draw_uniforms(16, torch.Generator().manual_seed(6)))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (16, 3, 32, 32) and a.dtype == torch.float32 and a.min() >= 0 and a.max() <= 1


def test_probabilities_of_flip_jitter_and_greyscale():
    u = draw_uniforms(50000, torch.Generator().manual_seed(7))
    cfg = SSLAugment()
    assert (u[:, 22] < cfg.flip_p).float().mean() == pytest.approx(0.5, abs=0.01)
    assert (u[:, 23] < cfg.jitter_p).float().mean() == pytest.approx(0.8, abs=0.01)
    assert (u[:, 32] < cfg.gray_p).float().mean() == pytest.approx(0.2, abs=0.01)
    x = torch.rand(400, 3, 8, 8, generator=torch.Generator().manual_seed(8))
    out = ssl_augment(x, draw_uniforms(400, torch.Generator().manual_seed(9)))
    grey = (out[:, 0] == out[:, 1]).all(-1).all(-1) & (out[:, 1] == out[:, 2]).all(-1).all(-1)
    assert grey.float().mean() == pytest.approx(0.2, abs=0.06)


def test_view_uniforms_are_deterministic_uniform_and_distinct():
    sample = torch.arange(5000).repeat_interleave(4)
    view = torch.arange(4).repeat(5000)
    u = view_uniforms(3, sample, view)
    assert torch.equal(u, view_uniforms(3, sample, view))
    assert not torch.equal(u, view_uniforms(4, sample, view))
    assert u.shape == (20000, NUM_UNIFORMS) and u.min() >= 0 and u.max() < 1
    flat = u.flatten().double()
    assert flat.mean() == pytest.approx(0.5, abs=0.005) and flat.var() == pytest.approx(1 / 12, abs=0.002)
    corr = np.corrcoef(u.T.numpy())
    assert np.abs(corr - np.eye(NUM_UNIFORMS)).max() < 0.05  # parameters uncorrelated
    same_sample = view_uniforms(3, torch.zeros(2, dtype=torch.long), torch.tensor([0, 1]))
    assert not torch.equal(same_sample[0], same_sample[1])
    # a view does not depend on which other views share its batch
    torch.testing.assert_close(view_uniforms(3, sample[7:8], view[7:8])[0], u[7])


def test_mixup_mixes_images_and_targets_with_recorded_partners():
    x = torch.rand(64, 3, 4, 4, generator=torch.Generator().manual_seed(10))
    y = torch.eye(10)[torch.randint(0, 10, (64,), generator=torch.Generator().manual_seed(11))]
    m = mixup(x, y, torch.Generator().manual_seed(12), MixupOptions(alpha=1.0, p=0.8))
    lam = m.lam[:, None, None, None]
    torch.testing.assert_close(m.images, lam * x + (1 - lam) * x[m.partner])
    torch.testing.assert_close(m.targets, m.lam[:, None] * y + (1 - m.lam[:, None]) * y[m.partner])
    untouched = m.lam == 1
    assert torch.equal(m.partner[untouched], torch.arange(64)[untouched])
    assert 0.05 < untouched.float().mean() < 0.45  # p = 0.8
    kept = mixup(x, y, torch.Generator().manual_seed(12), MixupOptions(mix_targets=False))
    assert torch.equal(kept.targets, y) and torch.equal(kept.images, m.images)


def test_mixup_per_batch_draws_one_lambda_and_mixes_all_or_nothing():
    x = torch.rand(32, 3, 4, 4, generator=torch.Generator().manual_seed(10))
    y = torch.eye(10)[torch.randint(0, 10, (32,), generator=torch.Generator().manual_seed(11))]
    batches = [
        mixup(x, y, torch.Generator().manual_seed(s), MixupOptions(lam="batch", mix_targets=False)) for s in range(200)
    ]
    for m in batches:
        assert m.lam.unique().numel() == 1  # one lambda for the whole batch
        if m.lam[0] == 1:  # not mixed: every image is its own partner
            assert torch.equal(m.partner, torch.arange(32))
        torch.testing.assert_close(
            m.images, m.lam[:, None, None, None] * x + (1 - m.lam[:, None, None, None]) * x[m.partner]
        )
        assert torch.equal(m.targets, y)  # the released code: the first image's targets
    share = sum(bool(m.lam[0] < 1) for m in batches) / len(batches)
    assert 0.7 < share < 0.9  # p = 0.8 per batch
    with pytest.raises(BMError, match="mixup needs"):
        MixupOptions(lam="pixel")


def test_normalize_and_errors():
    x = torch.rand(2, 3, 4, 4)
    out = normalize(x, (0.5, 0.4, 0.3), (0.2, 0.1, 0.3))
    torch.testing.assert_close(out[:, 1], (x[:, 1] - 0.4) / 0.1)
    with pytest.raises(BMError):
        ssl_augment(torch.rand(2, 1, 4, 4), torch.rand(2, NUM_UNIFORMS))
    with pytest.raises(BMError):
        ssl_augment(x, torch.rand(3, NUM_UNIFORMS))
    with pytest.raises(BMError):
        SSLAugment(scale=(0.5, 0.2))
