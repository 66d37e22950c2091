"""The Gaussian sketch of wide per-layer features (Johnson-Lindenstrauss): an exact, batch-independent x R / sqrt(k)
that keeps squared distances."""

import pytest
import torch

from bm.errors import BMError
from bm.probe import gaussian_sketch
from bm.probe.sketch import _rows


def test_the_sketch_is_x_times_one_fixed_gaussian_matrix_across_blocks_and_batches():
    x = torch.randn(7, 5000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)  # two row blocks
    R = torch.cat([_rows(5000, 64, 3, 0, 4096, x.device), _rows(5000, 64, 3, 4096, 5000, x.device)]).double()
    torch.testing.assert_close(gaussian_sketch(x, 64, seed=3), x @ R / 8, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        gaussian_sketch(x[2:5], 64, seed=3), gaussian_sketch(x, 64, seed=3)[2:5], rtol=1e-12, atol=1e-12
    )  # the same matrix whatever the batch
    assert not torch.allclose(gaussian_sketch(x, 64, seed=4), gaussian_sketch(x, 64, seed=3))
    assert abs(float(R.mean())) < 0.01 and abs(float(R.var()) - 1) < 0.02  # standard Gaussian entries
    with pytest.raises(BMError, match="k >= 1"):
        gaussian_sketch(x, 0)


def test_the_sketch_keeps_squared_distances_within_the_johnson_lindenstrauss_band():
    """50 points in 5000 dimensions sketched to 2048: every pairwise squared distance within 15% (the JL bound for
    this N and k is about sqrt(8 ln 50 / 2048) = 0.12)."""
    x = torch.randn(50, 5000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y = gaussian_sketch(x, 2048)
    ratio = torch.pdist(y).square() / torch.pdist(x).square()
    assert 0.85 < float(ratio.min()) and float(ratio.max()) < 1.15


def test_embed_sketches_only_the_layers_wider_than_k():
    from bm.deep.config import ModelConfig
    from bm.deep.measure import embed
    from bm.deep.models import Network

    torch.manual_seed(0)
    net = Network(ModelConfig(width=4, projector_width=32, num_classes=10))
    images = (torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 255).to(torch.uint8)
    plain = embed(net, images, ["stem", "embedding", "O"])
    sketched = embed(net, images, ["stem", "embedding", "O"], sketch=256)
    assert plain["stem"].shape[1] == 4 * 32 * 32 and sketched["stem"].shape == (6, 256)
    torch.testing.assert_close(sketched["stem"], gaussian_sketch(plain["stem"], 256))
    assert torch.equal(sketched["embedding"], plain["embedding"]) and torch.equal(sketched["O"], plain["O"])
