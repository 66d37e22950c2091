"""What users add to the deep pipeline by name: encoders (MODELS) and image data sets (DATASETS).

Torch-free, so that configs check names and the CLI lists them without loading torch. An entry names its functions
either as "module:attribute" (imported when first used; the built-ins live in bm.deep.models and bm.deep.datasets) or
as callables (a user's module registering its own at import, see bm.plugins). One call registers; the configs'
checks, the help texts, `load_dataset` and `Network` all read these dicts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from bm.errors import BMError
from bm.registry import register

__all__ = [
    "DATASETS",
    "IMAGE_SIZES",
    "MODELS",
    "TRAIN_SIZES",
    "DatasetEntry",
    "ModelEntry",
    "register_dataset",
    "register_model",
    "resolve",
]


@dataclass(frozen=True)
class ModelEntry:
    """An encoder: stages(ModelConfig) -> ([(layer name, module)], embedding width); the projector goes on top."""

    stages: str | Callable


@dataclass(frozen=True)
class DatasetEntry:
    """An image data set: its folder inside --data-dir, the layout shown when that folder is missing or malformed,
    the side of its square images, its training-set size (steps per epoch of the full set), read(root, split) ->
    bm.deep.datasets.ImageSet (a reader that validates what it reads), download(parent) (None: none), and the name of
    the split bm's "test" reads."""

    folder: str
    layout: str
    image_size: int
    train_size: int
    read: str | Callable
    download: str | Callable | None = None
    test_split: str = "test"


MODELS: dict[str, ModelEntry] = {
    "resnet18": ModelEntry("bm.deep.models:resnet18_stages"),
    "vgg11": ModelEntry("bm.deep.models:vgg_stages"),
    "vgg16": ModelEntry("bm.deep.models:vgg_stages"),
    "mlp": ModelEntry("bm.deep.models:mlp_stages"),
    "cnn4": ModelEntry("bm.deep.models:cnn4_stages"),
}
DATASETS: dict[str, DatasetEntry] = {
    "cifar10": DatasetEntry(
        "cifar-10-batches-py",
        "cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta} (the official 'CIFAR-10 python version')",
        32,
        50000,
        "bm.deep.datasets:read_cifar10",
        "bm.deep.datasets:download_cifar10",
    ),
    "cifar100": DatasetEntry(
        "cifar-100-python",
        "cifar-100-python/{train, test, meta} (the official 'CIFAR-100 python version')",
        32,
        50000,
        "bm.deep.datasets:read_cifar100",
        "bm.deep.datasets:download_cifar100",
    ),
    "stl10": DatasetEntry(
        "stl10_binary",
        "stl10_binary/{train_X.bin, train_y.bin, test_X.bin, test_y.bin, "
        "class_names.txt} (the official 'STL-10 binary files')",
        96,
        5000,
        "bm.deep.datasets:read_stl10",
        "bm.deep.datasets:download_stl10",
    ),
    "tinyimagenet": DatasetEntry(
        "tiny-imagenet-200",
        "tiny-imagenet-200/{wnids.txt, train/<wnid>/images/*.JPEG, val/images/*.JPEG, val/val_annotations.txt}",
        64,
        100000,
        "bm.deep.datasets:read_tiny_imagenet",
        "bm.deep.datasets:download_tiny_imagenet",
        test_split="val",
    ),
}


def register_model(name: str, entry: ModelEntry) -> ModelEntry:
    """Add an encoder under a new name (a taken one is one BMError)."""
    register(MODELS, "model", name, entry)
    return entry


def register_dataset(name: str, entry: DatasetEntry) -> DatasetEntry:
    """Add a data set under a new name (a taken one is one BMError)."""
    if entry.image_size < 8 or entry.train_size < 1:
        raise BMError(f"data set {name!r}: image_size must be >= 8 and train_size >= 1")
    register(DATASETS, "data set", name, entry)
    return entry


def resolve(ref: str | Callable) -> Callable:
    """An entry's function: itself, or the attribute a "module:attribute" string names."""
    if callable(ref):
        return ref
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


class _Column(Mapping):
    """One field of every data set, by name, read live (a data set registered later is in it)."""

    def __init__(self, field: str) -> None:
        self.field = field

    def __getitem__(self, name: str) -> int:
        return getattr(DATASETS[name], self.field)

    def __iter__(self) -> Iterator[str]:
        return iter(DATASETS)

    def __len__(self) -> int:
        return len(DATASETS)


IMAGE_SIZES: Mapping[str, int] = _Column("image_size")  # side of the square images
TRAIN_SIZES: Mapping[str, int] = _Column("train_size")  # official training-set sizes
