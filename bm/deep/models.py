"""Encoders h_psi and the projector g_phi of the deep experiments (Table 6), with named layers.

Network = projector(encoder(x)). Encoders end at the embedding (global pooling, no classifier):
ResNet18 in its CIFAR form (3x3 first convolution with stride 1 and no max-pool; stride 2 again
for inputs of 64x64 or more, such as TinyImageNet), VGG with batch norm (one pooling fewer for 32x32 inputs
than for 64x64 so that both end at 1x1), and an MLP for the ResNet-versus-MLP comparison.
The projector is Linear(D, w, bias=False) -> ReLU -> Linear(w, C, bias=False), as in the authors'
code, w = 65536 by default.

Every probe-able layer has a stable name (`Network.layer_names`): ResNet stem, layer1..layer4,
embedding; VGG block1..block5, embedding; MLP fc1..fcL, embedding; projector P (hidden, after the
ReLU) and O (output). `Network.features(x, names)` returns those activations.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from bm.deep.catalog import MODELS, resolve
from bm.deep.config import ModelConfig
from bm.errors import BMError, RunFolderError

__all__ = ["ModelConfig", "Network", "mlp_stages", "resnet18_stages", "vgg_stages"]

_VGG_PLANS = {"vgg11": (1, 1, 2, 2, 2), "vgg16": (2, 2, 3, 3, 3)}  # convolutions per block


class _Named(nn.Module):
    """A chain of named stages; `run` returns the activations of the requested names."""

    def __init__(self, stages: list[tuple[str, nn.Module]]) -> None:
        super().__init__()
        self.names = [name for name, _ in stages]
        self.stages = nn.ModuleDict(stages)

    def run(self, x: torch.Tensor, keep: set[str]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        kept = {}
        for name in self.names:
            x = self.stages[name](x)
            if name in keep:
                kept[name] = x
        return x, kept


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


def resnet18_stages(cfg: ModelConfig) -> tuple[list[tuple[str, nn.Module]], int]:
    w = cfg.width
    first_stride = 1 if cfg.image_size < 64 else 2
    stages = [("stem", nn.Sequential(nn.Conv2d(3, w, 3, first_stride, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()))]
    c_in = w
    for k, (mult, stride) in enumerate(zip((1, 2, 4, 8), (1, 2, 2, 2)), start=1):
        c_out = w * mult
        stages.append((f"layer{k}", nn.Sequential(_BasicBlock(c_in, c_out, stride), _BasicBlock(c_out, c_out, 1))))
        c_in = c_out
    stages.append(("embedding", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())))
    return stages, c_in


def vgg_stages(cfg: ModelConfig) -> tuple[list[tuple[str, nn.Module]], int]:
    stages, c_in = [], 3
    size = cfg.image_size
    for k, (convs, mult) in enumerate(zip(_VGG_PLANS[cfg.arch], (1, 2, 4, 8, 8)), start=1):
        layers: list[nn.Module] = []
        for _ in range(convs):
            layers += [
                nn.Conv2d(c_in, cfg.width * mult, 3, 1, 1, bias=False),
                nn.BatchNorm2d(cfg.width * mult),
                nn.ReLU(),
            ]
            c_in = cfg.width * mult
        if size > 1:
            layers.append(nn.MaxPool2d(2))
            size //= 2
        stages.append((f"block{k}", nn.Sequential(*layers)))
    stages.append(("embedding", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())))
    return stages, c_in


def cnn4_stages(cfg: ModelConfig) -> tuple[list[tuple[str, nn.Module]], int]:
    """Nakkiran et al. 2019's model-wise double-descent family: four 3 x 3 conv-BN-ReLU layers of widths k, 2k, 4k, 8k
    (k = cfg.width), a 2 x 2 max-pool after each of the last three, then a global max-pool (the embedding, 8k)."""
    stages, c_in = [], 3
    for k, mult in enumerate((1, 2, 4, 8), start=1):
        c_out = cfg.width * mult
        layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
        stages.append((f"conv{k}", nn.Sequential(*layers, *([nn.MaxPool2d(2)] if k > 1 else []))))
        c_in = c_out
    stages.append(("embedding", nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten())))
    return stages, c_in


def mlp_stages(cfg: ModelConfig) -> tuple[list[tuple[str, nn.Module]], int]:
    d_in = 3 * cfg.image_size**2
    stages = []
    for k in range(1, cfg.mlp_depth + 1):
        block = [nn.Flatten()] if k == 1 else []
        stages.append((f"fc{k}", nn.Sequential(*block, nn.Linear(d_in, cfg.mlp_hidden), nn.ReLU())))
        d_in = cfg.mlp_hidden
    stages.append(("embedding", nn.Identity()))
    return stages, d_in


class Network(nn.Module):
    """g_phi(h_psi(x)): images (N, 3, H, W) -> outputs (N, C)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
        stages, self.embedding_dim = resolve(MODELS[cfg.arch].stages)(cfg)
        self.encoder = _Named(stages)
        self.projector = _Named(
            [
                ("P", nn.Sequential(nn.Linear(self.embedding_dim, cfg.projector_width, bias=False), nn.ReLU())),
                ("O", nn.Linear(cfg.projector_width, cfg.num_classes, bias=False)),
            ]
        )

    @property
    def layer_names(self) -> list[str]:
        return self.encoder.names + self.projector.names

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector.run(self.encoder.run(x, set())[0], set())[0]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """h_psi(x): the embedding (N, D) after global pooling."""
        return self.encoder.run(x, set())[0]

    def features(self, x: torch.Tensor, names: Sequence[str]) -> dict[str, torch.Tensor]:
        """Activations of the named layers, each (N, ...), in one forward pass."""
        unknown = sorted(set(names) - set(self.layer_names))
        if unknown:
            raise BMError(f"unknown layer(s) {', '.join(unknown)}; this model has {', '.join(self.layer_names)}")
        keep = set(names)
        z, kept = self.encoder.run(x, keep)
        if keep & set(self.projector.names):
            kept.update(self.projector.run(z, keep)[1])
        return {name: kept[name] for name in names}


def load_weights(net: torch.nn.Module, state: object, source: object) -> torch.nn.Module:
    """net.load_state_dict(state), a state that does not fit this network (missing or unexpected keys, other
    shapes, not a mapping) being one RunFolderError naming `source` (the file it came from)."""
    try:
        net.load_state_dict(state)  # type: ignore[arg-type]
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise RunFolderError(f"{source} does not hold weights of this run's network ({first[:160]})") from None
    return net
