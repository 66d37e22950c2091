import pytest
import torch

from bm.deep.config import ModelConfig
from bm.deep.models import Network
from bm.errors import BMError


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_resnet18_cifar_has_the_published_size_and_shapes():
    net = Network(ModelConfig(projector_width=16))
    # torchvision's ResNet-18 has 11,689,512 parameters; the CIFAR form swaps the 7x7 stem (9,408)
    # for a 3x3 one (1,728) and drops the 512x1000 classifier (513,000)
    assert _count(net.encoder) == 11_689_512 - 9_408 + 1_728 - 513_000
    assert net.layer_names == ["stem", "layer1", "layer2", "layer3", "layer4", "embedding", "P", "O"]
    feats = net.features(torch.rand(2, 3, 32, 32), net.layer_names)
    shapes = {k: tuple(v.shape) for k, v in feats.items()}
    assert shapes == {
        "stem": (2, 64, 32, 32),
        "layer1": (2, 64, 32, 32),
        "layer2": (2, 128, 16, 16),
        "layer3": (2, 256, 8, 8),
        "layer4": (2, 512, 4, 4),
        "embedding": (2, 512),
        "P": (2, 16),
        "O": (2, 10),
    }
    assert (feats["P"] >= 0).all()


def test_tiny_imagenet_stride_and_reduced_width():
    net = Network(ModelConfig(width=8, projector_width=32, num_classes=200, image_size=64))
    feats = net.features(torch.rand(2, 3, 64, 64), ["stem", "layer4", "O"])
    assert feats["stem"].shape == (2, 8, 32, 32) and feats["layer4"].shape == (2, 64, 4, 4)
    assert feats["O"].shape == (2, 200)


@pytest.mark.parametrize("arch,size,layers", [("vgg11", 32, 6), ("vgg16", 64, 6), ("mlp", 32, 4)])
def test_other_encoders_end_in_a_flat_embedding(arch, size, layers):
    net = Network(ModelConfig(arch=arch, width=8, projector_width=16, image_size=size, mlp_hidden=32))
    out = net(torch.rand(3, 3, size, size))
    assert out.shape == (3, 10)
    assert len(net.encoder.names) == layers
    emb = net.embed(torch.rand(3, 3, size, size))
    assert emb.shape == (3, net.embedding_dim)


def test_forward_equals_the_named_output_and_projector_has_no_bias():
    net = Network(ModelConfig(width=4, projector_width=8)).eval()
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(net(x), net.features(x, ["O"])["O"])
    assert all(m.bias is None for m in net.projector.modules() if isinstance(m, torch.nn.Linear))


def test_bad_configs_and_layers():
    with pytest.raises(BMError, match="unknown model"):
        ModelConfig(arch="resnet50")
    with pytest.raises(BMError, match="unknown layer"):
        Network(ModelConfig(width=4, projector_width=8)).features(torch.rand(1, 3, 32, 32), ["layer9"])
