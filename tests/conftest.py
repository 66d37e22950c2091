import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("bm", deadline=None, max_examples=60, derandomize=True)  # CI: the same examples every run
settings.load_profile("bm")

if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest -n: one CPU thread per worker, so workers never oversubscribe
    import torch  # the cores (2 workers x 2 threads on 2 cores ran the suite several times slower)

    torch.set_num_threads(1)

# the real CIFAR-10 subset: $BM_CIFAR10_MINI, else ../shared/data/cifar-10-mini beside the checkout
CIFAR_MINI = Path(
    os.environ.get("BM_CIFAR10_MINI") or Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-mini"
)


def smoke_run(data: Path, out: Path, *extra: str, projector: int = 16) -> list[str]:
    """`bm deep-train` argv of the smoke preset at width 4 (projector `projector`) on `data` into `out`, then `extra`."""
    return [
        "deep-train",
        "--preset",
        "smoke",
        "--data-dir",
        str(data),
        "--out",
        str(out),
        "--width",
        "4",
        "--projector-width",
        str(projector),
        *extra,
    ]


@pytest.fixture
def cifar_mini() -> Path:
    """The real CIFAR-10 subset beside the checkout; tests using it skip where it is absent."""
    if not (CIFAR_MINI / "cifar-10-batches-py" / "data_batch_1").exists():
        pytest.skip(f"{CIFAR_MINI} is not present (set BM_CIFAR10_MINI to its folder)")
    return CIFAR_MINI


@pytest.fixture(scope="session")
def workspace(tmp_path_factory):
    """A written CIFAR-10 folder, a finished 2-epoch deep run with a snapshot at epoch 1, a finished toy grid (copy
    what a test changes)."""
    from bm.cli import main
    from tests.conftest import TINY_ARGS, smoke_run, write_cifar10

    root = tmp_path_factory.mktemp("workspace")
    write_cifar10(root / "data", per_batch=4)
    for argv in (
        smoke_run(root / "data", root / "run", "--epochs", "2", "--batch-size", "8", "--snapshots", "1"),
        ["toy-grid", "--out", str(root / "grid"), *TINY_ARGS],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
    return root


# ----------------------------------------------------------------------------- helpers the tests share
TINY_ARGS = [
    "--ns",
    "4,8",
    "--Bs",
    "1,2",
    "--seeds",
    "0",
    "--steps",
    "30",
    "--dim",
    "6",
    "--signal-dim",
    "2",
    "--prototypes",
    "6",
    "--probe-train",
    "40",
    "--test",
    "40",
    "--k",
    "5",
    "--capacity-n-max",
    "16",
    "--capacity-repeats",
    "1",
    "--batch-size",
    "8",
]


def run(capsys, argv):
    """`bm ARGV` in this process: (exit code, stdout, stderr)."""
    from bm.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def pickle_to(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def image_rows(n, size=32, rng=None):
    """n random uint8 image rows (n, 3 size^2); without `rng`, the same rows on every call (tests do not depend on
    which tests ran before them)."""
    return (rng or np.random.default_rng(0)).integers(0, 256, (n, 3 * size * size), dtype=np.uint8)


def write_cifar10(root, per_batch=4):
    """Official-format CIFAR-10 batches of random images, the same on every call; labels cycle through the 10 classes
    across the training batches (balanced: 5 x per_batch images, each class as often), shuffled within each batch."""
    rng = np.random.default_rng(0)
    d = root / "cifar-10-batches-py"
    data = {}
    for k, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        rows = image_rows(per_batch, rng=rng)
        labels = rng.permutation((np.arange(per_batch) + k * per_batch) % 10).tolist()
        pickle_to(d / name, {"batch_label": name, "data": rows, "labels": labels, "filenames": [""] * per_batch})
        data[name] = (rows, labels)
    pickle_to(d / "batches.meta", {"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": per_batch})
    return data


def write_cifar100(root, labels=(0, 99, 5, 5, 7, 1)):
    """Train and test splits with the same images and fine labels."""
    d = root / "cifar-100-python"
    rows = image_rows(len(labels))
    for split in ("train", "test"):
        pickle_to(d / split, {"data": rows, "fine_labels": list(labels), "coarse_labels": [0] * len(labels)})
    pickle_to(d / "meta", {"fine_label_names": [f"f{i}" for i in range(100)], "coarse_label_names": ["c"] * 20})
    return rows


def write_stl10(root, labels=(1, 10, 4), splits=("test",)):
    """STL-10 binary files (labels 1..10) holding the same images for each split; returns (N, C, H, W)."""
    d = root / "stl10_binary"
    d.mkdir(parents=True, exist_ok=True)
    images = np.random.default_rng(0).integers(0, 256, (len(labels), 3, 96, 96), dtype=np.uint8)
    for split in splits:
        images.transpose(0, 1, 3, 2).tofile(d / f"{split}_X.bin")  # the files store each channel column-major
        np.array(labels, dtype=np.uint8).tofile(d / f"{split}_y.bin")
    (d / "class_names.txt").write_text("\n".join(f"c{i}" for i in range(10)) + "\n")
    return images
