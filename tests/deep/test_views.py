import pytest
import torch

from bm.deep.views import (
    augment_batch,
    finite_labels,
    finite_views,
    iid_capacity,
    iid_views,
    randaugment,
    randaugment_setting,
)
from bm.errors import BMError

IMAGES = (torch.rand(20, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)


def test_finite_views_are_regenerated_identically_and_view_zero_is_the_image():
    sample = torch.tensor([3, 3, 3, 7, 7])
    view = torch.tensor([0, 1, 2, 1, 1])
    a = finite_views(IMAGES, sample, view, seed=11)
    b = finite_views(IMAGES, sample.flip(0), view.flip(0), seed=11).flip(0)  # other batch order
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(a[0], IMAGES[3].float() / 255)
    assert not torch.equal(a[1], a[2])  # different views differ
    assert torch.equal(a[3], a[4])  # the same view twice is the same image
    assert not torch.equal(a[1], finite_views(IMAGES, sample, view, seed=12)[1])


def test_finite_labels_preserving_or_not():
    y = torch.tensor([1, 2, 3])
    assert torch.equal(finite_labels(y, 4, True, 10, seed=0), y[:, None].expand(3, 4))
    free = finite_labels(torch.zeros(2000, dtype=torch.long), 5, False, 10, seed=0)
    assert free.shape == (2000, 5) and (free[:, 0] != free[:, 1]).float().mean() == pytest.approx(0.9, abs=0.03)


def test_iid_views_share_the_true_class_and_come_from_outside_the_subset():
    y = torch.arange(600) % 3
    v = iid_views(y, subset_size=60, B=5, seed=1)
    assert torch.equal(v.views[:, 0], v.subset)
    assert (y[v.views] == y[v.subset][:, None]).all()
    outside = ~torch.isin(v.views[:, 1:], v.subset)
    assert outside.all()
    assert all(len(set(row.tolist())) == 5 for row in v.views)  # distinct views per point
    with pytest.raises(BMError):
        iid_views(y, subset_size=600)


def test_iid_views_at_cifar_size_are_disjoint_and_stratified():
    """Table 4 (s = 1000, B = 50) on CIFAR-sized labels: all 50,000 view slots hold distinct images (independent
    draws held 31,986) and every class has s / C = 100 anchors (independent draws: 87-118)."""
    y = torch.arange(10).repeat_interleave(5000)  # CIFAR-10: 5000 per class
    v = iid_views(y, subset_size=1000, B=50, seed=3)
    assert v.views.unique().numel() == 50000
    assert torch.equal(torch.bincount(y[v.subset], minlength=10), torch.full((10,), 100))
    assert (y[v.views] == y[v.subset][:, None]).all()
    assert not torch.equal(v.views, iid_views(y, 1000, 50, seed=4).views)  # the seed draws them


def test_iid_views_refuse_an_s_and_B_the_data_cannot_hold_in_one_line():
    y = torch.tensor([0] * 120 + [1] * 80)  # stratified: s = 4 needs 2 x 50 of each class, class 1 has 80
    assert iid_capacity(y, 50) == 3  # class 0 takes the odd anchor: 2 x 50 <= 120, 1 x 50 <= 80
    v = iid_views(y, 3, 50)
    assert torch.equal(torch.bincount(y[v.subset]), torch.tensor([2, 1]))
    with pytest.raises(BMError, match=r"^i\.i\.d\. views: s = 4 .* class 1, which has 80; .* at most s = 3$"):
        iid_views(y, 4, 50)


@pytest.mark.parametrize(
    "strength, expected",
    [
        (0.0, (1, 0, 100)),
        (0.25, (1, 25, 100)),
        (0.3, (2, 30, 100)),
        (0.5, (2, 50, 100)),
        (0.67, (3, 67, 100)),
        (1.0, (4, 99, 100)),
    ],
)
def test_randaugment_strength_is_the_released_codes_mapping(strength, expected):
    """num_ops = floor(10 s / 3) + 1 and magnitude floor(100 s) of 100 bins (s = 1: the top bin, 99)."""
    assert randaugment_setting("strength", strength, 9) == expected
    assert randaugment_setting("magnitude", strength, 17) == (2, 17, 31)  # the old mapping, kept as an option
    with pytest.raises(BMError, match="strength must lie in"):
        randaugment_setting("strength", 1.5, 9)


def test_randaugment_strength_reaches_the_training_batch():
    from bm.deep.views import AugmentOptions

    weak = augment_batch(
        "randaugment",
        IMAGES,
        torch.Generator().manual_seed(4),
        None,
        AugmentOptions(randaugment_setting("strength", 0.0, 0)),
    )[0]
    strong = augment_batch(
        "randaugment",
        IMAGES,
        torch.Generator().manual_seed(4),
        None,
        AugmentOptions(randaugment_setting("strength", 1.0, 0)),
    )[0]
    direct = randaugment(IMAGES, 99, torch.Generator().manual_seed(4), num_ops=4, bins=100).float() / 255
    torch.testing.assert_close(strong, direct, rtol=0, atol=0)
    clean = IMAGES.float() / 255
    assert (strong - clean).abs().mean() > (weak - clean).abs().mean()


def test_randaugment_is_seeded_and_strength_zero_changes_little():
    a = randaugment(IMAGES, 9, torch.Generator().manual_seed(2))
    b = randaugment(IMAGES, 9, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and a.dtype == torch.uint8 and a.shape == IMAGES.shape
    strong = (randaugment(IMAGES, 30, torch.Generator().manual_seed(3)).float() - IMAGES.float()).abs().mean()
    weak = (randaugment(IMAGES, 0, torch.Generator().manual_seed(3)).float() - IMAGES.float()).abs().mean()
    assert weak < strong
    with pytest.raises(BMError):
        randaugment(IMAGES, 31, torch.Generator())


@pytest.mark.parametrize("protocol", ["none", "ssl", "ssl+mixup", "randaugment"])
def test_protocols_are_reproducible_and_shaped(protocol):
    targets = torch.eye(10)[torch.arange(20) % 10]
    a = augment_batch(protocol, IMAGES, torch.Generator().manual_seed(5), targets)
    b = augment_batch(protocol, IMAGES, torch.Generator().manual_seed(5), targets)
    assert torch.equal(a[0], b[0]) and a[0].shape == IMAGES.shape and a[0].dtype == torch.float32
    assert 0 <= a[0].min() and a[0].max() <= 1
    if protocol == "none":
        torch.testing.assert_close(a[0], IMAGES.float() / 255)
    if protocol == "ssl+mixup":
        assert a[2] is not None and torch.allclose(a[1].sum(1), torch.ones(20))
    else:
        assert a[2] is None and a[1] is targets


def test_unknown_protocol():
    with pytest.raises(BMError, match="protocol"):
        augment_batch("cutout", IMAGES, torch.Generator())
