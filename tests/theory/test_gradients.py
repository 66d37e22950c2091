"""bm.theory.gradients: group gradients equal the closed form of a linear model, add up to the full gradient, and at
initialization scale like sqrt(m) for labels independent of the inputs and like m for labels that share them."""

import numpy as np
import torch

from bm.theory.gradients import compare_groups, group_gradients
from bm.toy.config import ToyDataConfig
from bm.toy.data import ToyMixture

C = 5


def _linear(W, x, labels):
    """Per-example MSE of a linear model against centred one-hot targets."""
    y = torch.nn.functional.one_hot(labels, C).double() - 1 / C
    return ((x @ W.T - y) ** 2).sum(1), y


def test_group_gradients_are_the_closed_form_and_add_up():
    g = torch.Generator().manual_seed(0)
    x, labels = torch.randn(40, 7, generator=g, dtype=torch.float64), torch.randint(0, C, (40,), generator=g)
    W = torch.randn(C, 7, generator=g, dtype=torch.float64, requires_grad=True)
    loss, y = _linear(W, x, labels)
    mask = torch.arange(40) % 3 == 0
    grads = group_gradients(loss, [W], {"a": mask, "b": ~mask, "all": torch.ones(40, dtype=torch.bool)})
    closed = lambda m: 2 * (x[m] @ W.detach().T - y[m]).T @ x[m]  # noqa: E731  d/dW sum ||W x - y||^2
    assert torch.allclose(grads["a"][0], closed(mask)) and torch.allclose(grads["b"][0], closed(~mask))
    assert torch.allclose(grads["a"][0] + grads["b"][0], grads["all"][0])
    c = compare_groups(grads["a"], grads["b"], int(mask.sum()), int((~mask).sum()))
    full = grads["all"][0].flatten()
    assert np.isclose(c["cos_a_full"], float(grads["a"][0].flatten() @ full / (c["norm_a"] * full.norm())))
    assert np.isclose(c["ratio"], c["norm_a"] / c["norm_b"]) and np.isclose(c["per_example_a"], c["norm_a"] / 14)
    empty = group_gradients(loss, [W], {"none": torch.zeros(40, dtype=torch.bool)})["none"][0]
    assert torch.equal(empty, torch.zeros_like(W))


def test_at_init_permuted_labels_add_up_like_sqrt_m_and_true_ones_like_m():
    """Stephenson et al.'s mechanism on the toy mixture, W = 0: log-log slopes of the summed gradient's norm
    against the group size m (mean over 20 draws per m) are 1/2 for uniformly random labels and about 1 for the true
    classes (approaching 1 as m grows: the class means' term grows like m, the noise around them like sqrt(m))."""
    mix = ToyMixture(ToyDataConfig(num_classes=C), dtype=torch.float64)
    ms = [128, 512, 2048, 8192]
    norms = {"true": [], "permuted": []}
    for m in ms:
        per = {"true": [], "permuted": []}
        for seed in range(20):
            gen = torch.Generator().manual_seed(seed)
            x, z = mix.sample(m, gen)
            permuted = torch.randint(0, C, (m,), generator=gen)
            W = torch.zeros(C, x.shape[1], dtype=torch.float64, requires_grad=True)
            for name, labels in (("true", z), ("permuted", permuted)):
                loss, _ = _linear(W, x, labels)
                grad = group_gradients(loss, [W], {"all": torch.ones(m, dtype=torch.bool)})["all"][0]
                per[name].append(float(grad.norm()))
        for name in norms:
            norms[name].append(np.mean(per[name]))
    slope = {name: np.polyfit(np.log(ms), np.log(v), 1)[0] for name, v in norms.items()}
    assert abs(slope["permuted"] - 0.5) < 0.05 and abs(slope["true"] - 1.0) < 0.05, slope
