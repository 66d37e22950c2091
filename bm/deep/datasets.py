"""Image data sets as uint8 tensors (N, 3, H, W), read from their official on-disk layouts.

CIFAR-10 (`cifar-10-batches-py/`), CIFAR-100 (`cifar-100-python/`, fine labels), STL-10
(`stl10_binary/`, 96x96, for transfer probing) and TinyImageNet-200 (`tiny-imagenet-200/`, 64x64).
Downloads go through torchvision's dataset classes (which verify checksums); reading uses the small
readers here, so any file in the official format opens, subsets included (torchvision's CIFAR
classes refuse files whose checksum differs). The tensors are moved once to the training device.
"""

from __future__ import annotations

import pickle
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bm.errors import BMError

__all__ = ["DATASETS", "IMAGE_SIZES", "TRAIN_SIZES", "DatasetError", "ImageSet", "load_dataset"]


class DatasetError(BMError):
    """A data folder that is missing or not in the expected layout."""


@dataclass(frozen=True)
class ImageSet:
    """images uint8 (N, 3, H, W); labels long (N,); classes: names, index = label."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    name: str

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device: str | torch.device) -> "ImageSet":
        return ImageSet(self.images.to(device), self.labels.to(device), self.classes, self.name)

    def first(self, n: int) -> "ImageSet":
        """The first n images (n = 0: all of them), as a run's `subset` selects them."""
        return ImageSet(self.images[:n], self.labels[:n], self.classes, self.name) if n else self

    def take(self, index: torch.Tensor) -> "ImageSet":
        """The images at data-set indices `index` (k,), in that order."""
        index = index.to(self.images.device)
        return ImageSet(self.images[index], self.labels[index], self.classes, self.name)

    def resized(self, size: int) -> "ImageSet":
        """The images resized (bilinear, antialiased) to size x size; itself when they already are."""
        if self.images.shape[-1] == size and self.images.shape[-2] == size:
            return self
        x = torch.nn.functional.interpolate(self.images.float(), size=(size, size), mode="bilinear", antialias=True)
        return ImageSet(x.round().clamp(0, 255).to(torch.uint8), self.labels, self.classes, self.name)


@dataclass(frozen=True)
class _Spec:
    folder: str
    layout: str  # shown when the folder is missing or malformed
    read: Callable[[Path, str], ImageSet]
    download: Callable[[Path], None]


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except FileNotFoundError:
        raise DatasetError(f"missing file {path}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, OSError) as e:
        raise DatasetError(f"{path} is not a readable pickle ({e})") from None


def _chw(data: np.ndarray, path: Path, size: int) -> torch.Tensor:
    arr = np.asarray(data, dtype=np.uint8)
    if arr.ndim != 2 or arr.shape[1] != 3 * size * size:
        raise DatasetError(f"{path}: expected rows of {3 * size * size} bytes, got array of shape {arr.shape}")
    return torch.from_numpy(arr.reshape(-1, 3, size, size).copy())


def _read_cifar(root: Path, split: str, files: dict[str, list[str]], label_key: str, meta: str, names_key: str,
                name: str) -> ImageSet:
    images, labels = [], []
    for file in files[split]:
        batch = _unpickle(root / file)
        if "data" not in batch or label_key not in batch:
            raise DatasetError(f"{root / file} lacks the keys 'data' and '{label_key}'")
        images.append(_chw(batch["data"], root / file, 32))
        labels.append(torch.as_tensor(batch[label_key], dtype=torch.long))
    classes = tuple(_unpickle(root / meta)[names_key])
    y = torch.cat(labels)
    if y.numel() and (y.min() < 0 or y.max() >= len(classes)):
        raise DatasetError(f"{root}: labels outside [0, {len(classes)})")
    return ImageSet(torch.cat(images), y, classes, name)


def _cifar10(root: Path, split: str) -> ImageSet:
    files = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    return _read_cifar(root, split, files, "labels", "batches.meta", "label_names", "cifar10")


def _cifar100(root: Path, split: str) -> ImageSet:
    return _read_cifar(root, split, {"train": ["train"], "test": ["test"]}, "fine_labels", "meta",
                       "fine_label_names", "cifar100")


def _stl10(root: Path, split: str) -> ImageSet:
    x_path, y_path = root / f"{split}_X.bin", root / f"{split}_y.bin"
    for p in (x_path, y_path, root / "class_names.txt"):
        if not p.exists():
            raise DatasetError(f"missing file {p}")
    raw = np.fromfile(x_path, dtype=np.uint8)
    if raw.size % (3 * 96 * 96):
        raise DatasetError(f"{x_path}: size {raw.size} is not a multiple of 3*96*96")
    images = torch.from_numpy(raw.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2).copy())  # stored column-major
    labels = torch.from_numpy(np.fromfile(y_path, dtype=np.uint8).astype(np.int64)) - 1  # files count from 1
    classes = tuple(line.strip() for line in (root / "class_names.txt").read_text().splitlines() if line.strip())
    if labels.shape[0] != images.shape[0] or labels.min() < 0 or labels.max() >= len(classes):
        raise DatasetError(f"{y_path}: {labels.shape[0]} labels in 1..{len(classes)} expected for {images.shape[0]} images")
    return ImageSet(images, labels, classes, "stl10")


def _read_jpeg(path: Path) -> torch.Tensor:
    from torchvision.io import ImageReadMode, decode_image

    try:
        return decode_image(str(path), mode=ImageReadMode.RGB)
    except (RuntimeError, OSError) as e:
        raise DatasetError(f"cannot decode image {path}: {e}") from None


def _tiny_imagenet(root: Path, split: str) -> ImageSet:
    wnids_file = root / "wnids.txt"
    if not wnids_file.exists():
        raise DatasetError(f"missing file {wnids_file}")
    wnids = [w.strip() for w in wnids_file.read_text().split() if w.strip()]
    index = {w: k for k, w in enumerate(wnids)}
    if split == "train":
        items = [(p, index[w]) for w in wnids for p in sorted((root / "train" / w / "images").glob("*.JPEG"))]
    else:
        ann = root / "val" / "val_annotations.txt"
        if not ann.exists():
            raise DatasetError(f"missing file {ann}")
        items = []
        for line in ann.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) < 2 or parts[1] not in index:
                raise DatasetError(f"{ann}: malformed line {line!r}")
            items.append((root / "val" / "images" / parts[0], index[parts[1]]))
    if not items:
        raise DatasetError(f"no {split} images found under {root}")
    images = torch.stack([_read_jpeg(p) for p, _ in items])
    if images.shape[1:] != (3, 64, 64):
        raise DatasetError(f"{root}: expected 64x64 RGB images, got {tuple(images.shape[1:])}")
    words = root / "words.txt"
    names = dict(line.split("\t", 1) for line in words.read_text().splitlines() if "\t" in line) if words.exists() else {}
    classes = tuple(names.get(w, w).strip() for w in wnids)
    return ImageSet(images, torch.tensor([y for _, y in items]), classes, "tinyimagenet")


def _torchvision_download(cls_name: str, **kwargs) -> Callable[[Path], None]:
    def download(parent: Path) -> None:
        import torchvision

        getattr(torchvision.datasets, cls_name)(str(parent), download=True, **kwargs)

    return download


def _download_tiny_imagenet(parent: Path) -> None:
    url = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
    archive = parent / "tiny-imagenet-200.zip"
    parent.mkdir(parents=True, exist_ok=True)
    try:
        urllib.request.urlretrieve(url, archive)
    except OSError as e:
        raise DatasetError(f"could not download {url}: {e}") from None
    with zipfile.ZipFile(archive) as z:
        z.extractall(parent)
    archive.unlink()


DATASETS: dict[str, _Spec] = {
    "cifar10": _Spec("cifar-10-batches-py", "cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta} "
                     "(the official 'CIFAR-10 python version')", _cifar10, _torchvision_download("CIFAR10")),
    "cifar100": _Spec("cifar-100-python", "cifar-100-python/{train, test, meta} (the official 'CIFAR-100 python "
                      "version')", _cifar100, _torchvision_download("CIFAR100")),
    "stl10": _Spec("stl10_binary", "stl10_binary/{train_X.bin, train_y.bin, test_X.bin, test_y.bin, "
                   "class_names.txt} (the official 'STL-10 binary files')", _stl10,
                   _torchvision_download("STL10", split="train")),
    "tinyimagenet": _Spec("tiny-imagenet-200", "tiny-imagenet-200/{wnids.txt, train/<wnid>/images/*.JPEG, "
                          "val/images/*.JPEG, val/val_annotations.txt}", _tiny_imagenet, _download_tiny_imagenet),
}
SPLITS = ("train", "test")
IMAGE_SIZES = {"cifar10": 32, "cifar100": 32, "stl10": 96, "tinyimagenet": 64}  # side of the square images
TRAIN_SIZES = {"cifar10": 50000, "cifar100": 50000, "tinyimagenet": 100000, "stl10": 5000}  # official training sets


def load_dataset(name: str, data_dir: str | Path, split: str = "train", download: bool = False) -> ImageSet:
    """Read `split` ("train" or "test"; TinyImageNet's "test" is its labelled val split) of data set
    `name` from data_dir, which holds the data set's official folder (or is that folder)."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if split not in SPLITS:
        raise DatasetError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    spec = DATASETS[name]
    data_dir = Path(data_dir)
    root = data_dir if data_dir.name == spec.folder else data_dir / spec.folder
    if not root.is_dir() and download:
        spec.download(root.parent)
    if not root.is_dir():
        raise DatasetError(
            f"{name}: no folder {root}; expected {spec.layout} inside --data-dir. "
            f"Pass --download to fetch it (needs internet), or point --data-dir at the folder that holds it"
        )
    try:
        data = spec.read(root, "train" if split == "train" else ("val" if name == "tinyimagenet" else "test"))
    except DatasetError as e:
        raise DatasetError(f"{name}: {e}; expected {spec.layout}") from None
    return data
