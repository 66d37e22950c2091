"""`bm data cifar10-mini`: the subset built exactly from official-format files, checked against its digests."""

import hashlib

import torch

from bm.deep.datasets import load_dataset
from bm.deep.subsets import FILE_SHA256, PER_BATCH, build_cifar10_mini
from tests.conftest import run, write_cifar10


def test_built_from_the_published_subset_it_is_byte_identical(tmp_path, cifar_mini):
    """The subset's own files are official-format batches of 1017 images: building from them must reproduce every
    published file digest (SHA256SUMS) and the same images and labels."""
    same = build_cifar10_mini(cifar_mini, tmp_path)
    assert same == dict.fromkeys(FILE_SHA256, True)
    built = tmp_path / "cifar-10-batches-py"
    assert {n: hashlib.sha256((built / n).read_bytes()).hexdigest() for n in FILE_SHA256} == FILE_SHA256
    for split in ("train", "test"):
        a, b = load_dataset("cifar10", tmp_path, split), load_dataset("cifar10", cifar_mini, split)
        assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)


def test_it_takes_the_first_images_of_each_batch_in_order(tmp_path):
    official = write_cifar10(tmp_path / "official", per_batch=PER_BATCH + 3)
    build_cifar10_mini(tmp_path / "official", tmp_path / "mini", check=False)  # not the real images: no digest check
    train = load_dataset("cifar10", tmp_path / "mini", "train")
    assert len(train) == 5 * PER_BATCH
    rows, labels = official["data_batch_3"]
    part = slice(2 * PER_BATCH, 3 * PER_BATCH)
    assert torch.equal(train.images[part], torch.from_numpy(rows[:PER_BATCH].reshape(-1, 3, 32, 32)))
    assert train.labels[part].tolist() == labels[:PER_BATCH]


def test_files_that_are_not_the_official_ones_are_one_line_and_leave_nothing(capsys, tmp_path):
    write_cifar10(tmp_path / "official", per_batch=PER_BATCH)
    code, _, err = run(
        capsys, ["data", "cifar10-mini", "--from", str(tmp_path / "official"), "--out", str(tmp_path / "o")]
    )
    assert code == 2 and err.startswith("bm: error:") and err.count("\n") == 1 and "digest differs" in err
    assert list((tmp_path / "o").iterdir()) == []
    write_cifar10(tmp_path / "small", per_batch=5)
    code, _, err = run(
        capsys, ["data", "cifar10-mini", "--from", str(tmp_path / "small"), "--out", str(tmp_path / "p")]
    )
    assert code == 2 and "holds 5 images" in err and err.count("\n") == 1
