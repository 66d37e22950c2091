import pytest
import torch

from bm.errors import BMError
from bm.labels import PER_SAMPLE, LabelConfig, assign_labels

TRUE = torch.arange(1000) % 10


def test_clean_keeps_every_label():
    out = assign_labels(TRUE, 10, LabelConfig(noise=0.0), seed=0)
    assert torch.equal(out.labels, TRUE) and not out.randomized.any() and out.num_classes == 10


def test_random_labels_are_uniform_and_fixed_by_the_seed():
    a = assign_labels(TRUE, 10, LabelConfig(), seed=1)
    b = assign_labels(TRUE, 10, LabelConfig(), seed=1)
    c = assign_labels(TRUE, 10, LabelConfig(), seed=2)
    assert torch.equal(a.labels, b.labels) and not torch.equal(a.labels, c.labels)
    assert a.randomized.all()
    counts = torch.bincount(a.labels, minlength=10).float()
    assert counts.min() > 60 and counts.max() < 140  # 100 expected per class
    assert (a.labels == TRUE).float().mean() == pytest.approx(0.1, abs=0.04)  # independent of the truth


def test_noise_fraction_randomizes_exactly_that_many():
    out = assign_labels(TRUE, 10, LabelConfig(noise=0.3), seed=3)
    assert int(out.randomized.sum()) == 300
    assert torch.equal(out.labels[~out.randomized], TRUE[~out.randomized])


def test_random_classes_and_per_sample():
    out = assign_labels(TRUE, 10, LabelConfig(classes=3), seed=4)
    assert out.num_classes == 3 and set(out.labels.tolist()) == {0, 1, 2}
    per = assign_labels(TRUE, 10, LabelConfig(classes=PER_SAMPLE), seed=4)
    assert per.num_classes == 1000 and torch.equal(per.labels.sort().values, torch.arange(1000))


@pytest.mark.parametrize("kwargs", [{"noise": -0.1}, {"noise": 1.5}, {"classes": 0}, {"classes": "many"}])
def test_bad_configs(kwargs):
    with pytest.raises(BMError):
        LabelConfig(**kwargs)
