import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("bm", deadline=None, max_examples=60, derandomize=True)  # CI: the same examples every run
settings.load_profile("bm")

# the real CIFAR-10 subset: $BM_CIFAR10_MINI, else ../shared/data/cifar-10-mini beside the checkout
CIFAR_MINI = Path(
    os.environ.get("BM_CIFAR10_MINI") or Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-mini"
)


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
    from tests.deep.test_datasets import write_cifar10
    from tests.test_cli import TINY_ARGS

    root = tmp_path_factory.mktemp("workspace")
    write_cifar10(root / "data", per_batch=4)
    for argv in (
        [
            "deep-train",
            "--preset",
            "smoke",
            "--data-dir",
            str(root / "data"),
            "--out",
            str(root / "run"),
            "--width",
            "4",
            "--projector-width",
            "16",
            "--epochs",
            "2",
            "--batch-size",
            "8",
            "--snapshots",
            "1",
        ],
        ["toy-grid", "--out", str(root / "grid"), *TINY_ARGS],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
    return root
