"""cifar-10-mini, the CPU subset of CIFAR-10 the mini scale trains on, built from the official files.

The subset holds the first 1017 images of each official batch (five training batches: 5085 images; the test batch:
1017), in their original order with their original labels, in the official `cifar-10-batches-py` layout (any CIFAR-10
reader opens it); `batches.meta` is the official file, unchanged. What is built is checked against the published
digests of the subset: the SHA-256 of each batch's pixels and labels (CONTENT_SHA256), and of each file as the
subset was published (FILE_SHA256; a pickle's bytes may differ across numpy versions, so that one is reported, not
required)."""

from __future__ import annotations

import hashlib
import pickle
import shutil
from pathlib import Path

import numpy as np

from bm.deep.datasets import DatasetError, read_cifar_batch
from bm.runs import atomic_write

__all__ = ["BATCHES", "CONTENT_SHA256", "FILE_SHA256", "PER_BATCH", "build_cifar10_mini", "content_digest"]

PER_BATCH = 1017
BATCHES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")
FOLDER = "cifar-10-batches-py"
# sha256(pixels (N, 3072) uint8 bytes + labels as uint8 bytes) per batch of the published subset
CONTENT_SHA256 = {
    "data_batch_1": "99a33fea1a64082db24ec8cb9b9055ed54c7906b06a35e3b89dce782350d5104",
    "data_batch_2": "6bd05a67f0b324311e268140bab99ae928df7563c71a819f8394cd4883966967",
    "data_batch_3": "8e85039a3cc430d87d7610fb7e958f513ed9a4b33f4ad678b7d9874ad925ce62",
    "data_batch_4": "effb18fca396c2d71f7b5f778b361d64ce2dc99f784a5804a1e11b8f3450fefc",
    "data_batch_5": "13f35c9c2a948346fe835aca8ddb06302f0e529b6bb9c42c52969cbd68925991",
    "test_batch": "75c535442cfd8cefafba4d95949edfaadfd0f9e7c0480f01f8742e1d8d7ed515",
}
# the published files' SHA256SUMS
FILE_SHA256 = {
    "batches.meta": "f962466ef690d46b226450fb9aadc74ba4bc64a76aa526b5827fe4bc5c7125cb",
    "data_batch_1": "cd6e28efc8a1680882abea0974d8a98fb70b599af2ab8b46a54853bc428c7d3d",
    "data_batch_2": "fd96c3b55181f3ec4425188cc9dc61c165abaf0ff11ddffff6a79bcdaa9129c4",
    "data_batch_3": "c03316a17fff980a62a5f453a8a49640f3a2319b55315bdb7497363517459a03",
    "data_batch_4": "ae156f8369a469d69a0c9a2cf6f28c0c8ae9cb892da8c6a83c283ec78296c450",
    "data_batch_5": "932992b565d1b7c8cecd4dbf1df4081e2a5f2e219007f5782b744092a8f03284",
    "test_batch": "9159c35eeb2d00170185900f38de703bcef05558f45105bc70472114d7df21d7",
}


def content_digest(data: np.ndarray, labels: list[int]) -> str:
    """SHA-256 of a batch's pixels (N, 3072) uint8, then its labels as uint8 bytes."""
    return hashlib.sha256(
        np.ascontiguousarray(data).tobytes() + np.asarray(labels, dtype=np.uint8).tobytes()
    ).hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_cifar10_mini(source: Path, out: Path, check: bool = True) -> dict[str, bool]:
    """Write OUT/cifar-10-batches-py from SOURCE (a folder holding the official cifar-10-batches-py, or that folder):
    the first PER_BATCH images of every batch, batches.meta copied. With `check`, every batch's pixels and labels must
    match CONTENT_SHA256, else a DatasetError and nothing is left in OUT. Returns, per file, whether its bytes also
    match the published file (FILE_SHA256)."""
    source = Path(source)
    root = source if source.name == FOLDER else source / FOLDER
    if not (root / "batches.meta").is_file():
        raise DatasetError(f"no {FOLDER}/batches.meta under {source}: point --from at the official CIFAR-10 files")
    target = Path(out) / FOLDER
    if target.exists():
        raise DatasetError(f"{target} exists; remove it or choose another --out")
    staging = Path(out) / f".{FOLDER}.building"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for name in BATCHES:
            batch_label, data, labels = read_cifar_batch(root / name)
            if len(labels) < PER_BATCH:
                raise DatasetError(f"{root / name} holds {len(labels)} images; the subset takes the first {PER_BATCH}")
            data, labels = np.ascontiguousarray(data[:PER_BATCH]), labels[:PER_BATCH]
            if check and content_digest(data, labels) != CONTENT_SHA256[name]:
                raise DatasetError(
                    f"{root / name}: its first {PER_BATCH} images or labels are not those of the official CIFAR-10 "
                    "(digest differs); cifar-10-mini is built only from the official files"
                )
            record = {"batch_label": batch_label, "labels": labels, "data": data, "filenames": [""] * PER_BATCH}
            atomic_write(staging / name, lambda f, r=record: pickle.dump(r, f, protocol=4))
        shutil.copyfile(root / "batches.meta", staging / "batches.meta")
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {name: _file_digest(target / name) == digest for name, digest in FILE_SHA256.items()}
