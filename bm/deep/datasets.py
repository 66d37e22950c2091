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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bm.deep.catalog import DATASETS, IMAGE_SIZES, TRAIN_SIZES, resolve
from bm.errors import BMError

__all__ = [
    "DATASETS",
    "IMAGE_SIZES",
    "TRAIN_SIZES",
    "DatasetError",
    "ImageSet",
    "load_dataset",
    "read_cifar10",
    "read_cifar_batch",
    "read_cifar100",
    "read_stl10",
    "read_tiny_imagenet",
]


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

    def stratified(self, n: int) -> "ImageSet":
        """n images with (nearly) equal class counts: per class c its first n // C images, one more for the n mod C
        lowest class indices, in data-set order (n = 0: all of them). A class with too few images is one BMError."""
        if not n:
            return self
        C = len(self.classes)
        want = torch.full((C,), n // C, dtype=torch.long)
        want[: n % C] += 1
        labels = self.labels.cpu()
        rank = torch.zeros_like(labels)  # rank[i]: how many images of i's class come before i
        for c in range(C):
            where = (labels == c).nonzero().flatten()
            if len(where) < want[c]:
                raise BMError(
                    f"a stratified subset of {n} needs {int(want[c])} images of class {self.classes[c]!r}; "
                    f"the training set has {len(where)}"
                )
            rank[where] = torch.arange(len(where))
        return self.take((rank < want[labels]).nonzero().flatten())

    def subset(self, n: int, order: str = "first") -> "ImageSet":
        """A run's training images (bm.deep.config.SUBSET_ORDERS): the first n or a stratified n."""
        return self.stratified(n) if order == "stratified" else self.first(n)

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


# what the official CIFAR pickles hold besides dicts, lists, strings and numbers: numpy's array reconstruction (numpy 1
# and 2 spell its module differently) and, in files written by Python 3 at protocol 2, bytes spelled via _codecs
_CIFAR_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _CifarUnpickler(pickle.Unpickler):
    """Admits only the globals of _CIFAR_GLOBALS; any other (a payload's os.system, say) is refused by name, unrun."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _CIFAR_GLOBALS:
            raise DatasetError(
                f"{self.path} is not a CIFAR batch: it asks for {module}.{name}, which bm does not load "
                "(a pickle that names other objects can run code)"
            )
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    """A CIFAR pickle, read by the restricted unpickler: a dict with string keys (bytes keys decoded)."""
    try:
        with open(path, "rb") as f:
            unpickler = _CifarUnpickler(f, encoding="latin1")
            unpickler.path = path
            obj = unpickler.load()
    except FileNotFoundError:
        raise DatasetError(f"missing file {path}") from None
    except DatasetError:
        raise
    except Exception as e:  # noqa: BLE001 - damaged bytes raise many types inside pickle and numpy; all mean the same
        raise DatasetError(f"{path} is not a readable CIFAR pickle ({type(e).__name__})") from None
    if not isinstance(obj, dict):
        raise DatasetError(f"{path} is not a CIFAR batch (a {type(obj).__name__}, not a dict)")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _chw(data, path: Path, size: int) -> torch.Tensor:
    """uint8 rows (N, 3 size^2) -> images (N, 3, size, size); anything else is refused, naming the file."""
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * size * size:
        what = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetError(f"{path}: 'data' must be uint8 rows of {3 * size * size} bytes, got {what}")
    return torch.from_numpy(data.reshape(-1, 3, size, size).copy())


def _int_labels(values, path: Path, key: str, n: int, classes: int) -> torch.Tensor:
    """Labels: n integers in [0, classes), as a list (the official files) or an integer array."""
    if isinstance(values, np.ndarray) and values.ndim == 1 and np.issubdtype(values.dtype, np.integer):
        values = values.tolist()
    if not isinstance(values, list) or not all(type(v) is int for v in values):
        raise DatasetError(f"{path}: '{key}' must be a list of integers")
    if len(values) != n:
        raise DatasetError(f"{path}: {len(values)} labels for {n} images")
    if values and not 0 <= min(values) <= max(values) < classes:
        raise DatasetError(f"{path}: labels outside [0, {classes})")
    return torch.tensor(values, dtype=torch.long)


def _read_cifar(
    root: Path,
    split: str,
    files: dict[str, list[str]],
    label_key: str,
    meta: str,
    names_key: str,
    name: str,
    num_classes: int,
) -> ImageSet:
    """The official CIFAR python files, checked: uint8 rows, integer labels in range and one per row, the class
    names, and the batches of a split all of one size (10,000 in the official files; a subset's own size)."""
    names = _unpickle(root / meta).get(names_key)
    if not isinstance(names, list) or len(names) != num_classes or not all(isinstance(c, str) for c in names):
        raise DatasetError(f"{root / meta}: '{names_key}' must list {num_classes} class names")
    images, labels = [], []
    for file in files[split]:
        batch = _unpickle(root / file)
        if "data" not in batch or label_key not in batch:
            raise DatasetError(f"{root / file} lacks the keys 'data' and '{label_key}'")
        images.append(_chw(batch["data"], root / file, 32))
        labels.append(_int_labels(batch[label_key], root / file, label_key, images[-1].shape[0], num_classes))
    sizes = sorted({len(x) for x in images})
    if len(sizes) > 1:
        raise DatasetError(
            f"{root}: the {split} batches hold different numbers of images ({', '.join(map(str, sizes))})"
        )
    return ImageSet(torch.cat(images), torch.cat(labels), tuple(names), name)


def read_cifar_batch(path: Path) -> tuple[str, np.ndarray, list[int]]:
    """One CIFAR-10 batch file as (batch_label, data (N, 3072) uint8, labels), read and checked like a split."""
    batch = _unpickle(path)
    if "data" not in batch or "labels" not in batch:
        raise DatasetError(f"{path} lacks the keys 'data' and 'labels'")
    images = _chw(batch["data"], path, 32)
    labels = _int_labels(batch["labels"], path, "labels", images.shape[0], 10).tolist()
    label = batch.get("batch_label", "")
    return label.decode("latin1") if isinstance(label, bytes) else str(label), batch["data"], labels


def read_cifar10(root: Path, split: str) -> ImageSet:
    files = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    return _read_cifar(root, split, files, "labels", "batches.meta", "label_names", "cifar10", 10)


def read_cifar100(root: Path, split: str) -> ImageSet:
    return _read_cifar(
        root, split, {"train": ["train"], "test": ["test"]}, "fine_labels", "meta", "fine_label_names", "cifar100", 100
    )


def read_stl10(root: Path, split: str) -> ImageSet:
    x_path, y_path = root / f"{split}_X.bin", root / f"{split}_y.bin"
    for p in (x_path, y_path, root / "class_names.txt"):
        if not p.exists():
            raise DatasetError(f"missing file {p}")
    raw = np.fromfile(x_path, dtype=np.uint8)
    if raw.size % (3 * 96 * 96) or not raw.size:
        raise DatasetError(f"{x_path}: size {raw.size} is not a positive multiple of 3*96*96")
    images = torch.from_numpy(raw.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2).copy())  # stored column-major
    labels = torch.from_numpy(np.fromfile(y_path, dtype=np.uint8).astype(np.int64)) - 1  # files count from 1
    classes = tuple(line.strip() for line in _text(root / "class_names.txt").splitlines() if line.strip())
    if len(classes) != 10:
        raise DatasetError(f"{root / 'class_names.txt'}: {len(classes)} class names, STL-10 has 10")
    if labels.shape[0] != images.shape[0] or labels.min() < 0 or labels.max() >= len(classes):
        raise DatasetError(
            f"{y_path}: {labels.shape[0]} labels in 1..{len(classes)} expected for {images.shape[0]} images"
        )
    return ImageSet(images, labels, classes, "stl10")


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise DatasetError(f"{path} is not UTF-8 text") from None


def _read_jpeg(path: Path, size: int = 64) -> torch.Tensor:
    """One RGB image (3, size, size) uint8; a missing, undecodable or wrongly sized image is named."""
    from torchvision.io import ImageReadMode, decode_image

    try:
        image = decode_image(str(path), mode=ImageReadMode.RGB)
    except Exception as e:  # noqa: BLE001 - the decoders raise several types on damaged files
        raise DatasetError(f"cannot decode image {path} ({type(e).__name__})") from None
    if tuple(image.shape) != (3, size, size):
        raise DatasetError(f"image {path} is {tuple(image.shape[1:])}, expected {size} x {size}")
    return image


def read_tiny_imagenet(root: Path, split: str) -> ImageSet:
    wnids_file = root / "wnids.txt"
    if not wnids_file.exists():
        raise DatasetError(f"missing file {wnids_file}")
    wnids = [w.strip() for w in _text(wnids_file).split() if w.strip()]
    if not wnids or len(set(wnids)) != len(wnids):
        raise DatasetError(
            f"{wnids_file}: expected distinct class ids (200 in the official files), got {len(wnids)} "
            f"with {len(wnids) - len(set(wnids))} repeated"
        )
    index = {w: k for k, w in enumerate(wnids)}
    if split == "train":
        items = [(p, index[w]) for w in wnids for p in sorted((root / "train" / w / "images").glob("*.JPEG"))]
    else:
        ann = root / "val" / "val_annotations.txt"
        if not ann.exists():
            raise DatasetError(f"missing file {ann}")
        items = []
        for line in _text(ann).splitlines():
            parts = line.split("\t")
            if len(parts) < 2 or parts[1] not in index:
                raise DatasetError(f"{ann}: malformed line {line!r}")
            items.append((root / "val" / "images" / parts[0], index[parts[1]]))
    if not items:
        raise DatasetError(f"no {split} images found under {root}")
    images = torch.stack([_read_jpeg(p) for p, _ in items])
    words = root / "words.txt"
    names = dict(line.split("\t", 1) for line in _text(words).splitlines() if "\t" in line) if words.exists() else {}
    classes = tuple(names.get(w, w).strip() for w in wnids)
    return ImageSet(images, torch.tensor([y for _, y in items]), classes, "tinyimagenet")


def _torchvision_download(cls_name: str, parent: Path, **kwargs) -> None:
    import torchvision

    getattr(torchvision.datasets, cls_name)(str(parent), download=True, **kwargs)


def download_cifar10(parent: Path) -> None:
    _torchvision_download("CIFAR10", parent)


def download_cifar100(parent: Path) -> None:
    _torchvision_download("CIFAR100", parent)


def download_stl10(parent: Path) -> None:
    _torchvision_download("STL10", parent, split="train")


def download_tiny_imagenet(parent: Path) -> None:
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


SPLITS = ("train", "test")


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
        if spec.download is None:
            raise DatasetError(f"{name} has no download; put {spec.layout} inside --data-dir")
        resolve(spec.download)(root.parent)
    if not root.is_dir():
        raise DatasetError(
            f"{name}: no folder {root}; expected {spec.layout} inside --data-dir. "
            f"Pass --download to fetch it (needs internet), or point --data-dir at the folder that holds it"
        )
    try:
        data = resolve(spec.read)(root, "train" if split == "train" else spec.test_split)
    except DatasetError as e:
        raise DatasetError(f"{name}: {e}; expected {spec.layout}") from None
    return data
