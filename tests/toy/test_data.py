import math

import pytest
import torch

from bm.errors import BMError
from bm.toy.data import ToyDataConfig, ToyMixture


def test_mixture_statistics_match_appendix_e():
    cfg = ToyDataConfig(num_classes=3, dim=10, signal_dim=3, sigma=2.0, center_scale=4.0)
    mix = ToyMixture(cfg, dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    z = torch.full((20000,), 1)
    x = mix.sample_given(z, gen)
    signal, noise = x[:, :3], x[:, 3:]
    sigma1 = 2.0 / math.sqrt(10)
    torch.testing.assert_close(signal.mean(0), mix.centres[1], atol=4 * sigma1 / math.sqrt(20000) * 1.5, rtol=0)
    assert signal.var(0) == pytest.approx(torch.full((3,), sigma1**2), rel=0.05)  # Sigma1 = sigma^2 / 10 I
    assert noise.var(0) == pytest.approx(torch.full((7,), 4.0), rel=0.05)  # Sigma2 = sigma^2 I
    assert noise.mean(0).abs().max() < 0.1
    cov = torch.cov(x.T)
    off = cov - torch.diag(torch.diag(cov))
    assert off.abs().max() < 0.1  # independent coordinates


def test_centres_have_the_documented_scale_and_depend_only_on_the_task_seed():
    cfg = ToyDataConfig(num_classes=400, signal_dim=4, center_scale=5.0, sigma=1.0)
    a, b = ToyMixture(cfg).centres, ToyMixture(cfg).centres
    assert torch.equal(a, b)
    assert a.std().item() == pytest.approx(5.0 / math.sqrt(10), rel=0.1)
    assert not torch.equal(
        a, ToyMixture(ToyDataConfig(num_classes=400, signal_dim=4, center_scale=5.0, task_seed=1)).centres
    )


def test_augmentations_move_only_the_noise_coordinates():
    cfg = ToyDataConfig(dim=12, signal_dim=5, sigma=1.5)
    split = ToyMixture(cfg, dtype=torch.float64).split(3000, 4, seed=0)
    v = split.views
    assert torch.equal(v[:, 1:, :5], v[:, :1, :5].expand(-1, 3, -1))  # class coordinates unchanged
    delta = v[:, 1:, 5:] - v[:, :1, 5:]
    assert delta.var().item() == pytest.approx(1.5**2, rel=0.05)  # Sigma3 = Sigma2


def test_splits_are_nested_and_seeded():
    mix = ToyMixture(ToyDataConfig())
    big, again = mix.split(50, 8, seed=3), mix.split(50, 8, seed=3)
    assert torch.equal(big.views, again.views) and torch.equal(big.labels, again.labels)
    assert not torch.equal(big.views, mix.split(50, 8, seed=4).views)


def test_iid_views_are_fresh_samples_of_the_same_class():
    cfg = ToyDataConfig(augment="iid", num_classes=2, signal_dim=2, center_scale=30.0)
    mix = ToyMixture(cfg, dtype=torch.float64)
    split = mix.split(200, 5, seed=0)
    signal = split.views[:, :, :2]
    nearest = torch.cdist(signal.reshape(-1, 2), mix.centres).argmin(1).reshape(200, 5)
    assert torch.equal(nearest, split.true[:, None].expand(-1, 5))  # same true class
    assert not torch.equal(split.views[:, 1, :2], split.views[:, 0, :2])  # but other points


def test_label_protocols_reach_the_split():
    clean = ToyMixture(ToyDataConfig(label_noise=0.0)).split(100, 1, seed=0)
    assert torch.equal(clean.labels, clean.true)
    per = ToyMixture(ToyDataConfig(random_classes=7)).split(100, 1, seed=0)
    assert per.num_labels == 7 and int(per.labels.max()) < 7


@pytest.mark.parametrize(
    "kwargs",
    [
        {"signal_dim": 0},
        {"signal_dim": 20, "dim": 10},
        {"sigma": 0.0},
        {"augment": "rotate"},
        {"num_classes": 1},
        {"label_noise": 2.0},
    ],
)
def test_bad_configs(kwargs):
    with pytest.raises(BMError):
        ToyDataConfig(**kwargs)
