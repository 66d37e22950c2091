import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("bm", deadline=None, max_examples=60, derandomize=True)  # CI: the same examples every run
settings.load_profile("bm")

# the real CIFAR-10 subset: $BM_CIFAR10_MINI, else ../shared/data/cifar-10-mini beside the checkout
CIFAR_MINI = Path(os.environ.get("BM_CIFAR10_MINI") or Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-mini")


@pytest.fixture
def cifar_mini() -> Path:
    """The real CIFAR-10 subset beside the checkout; tests using it skip where it is absent."""
    if not (CIFAR_MINI / "cifar-10-batches-py" / "data_batch_1").exists():
        pytest.skip(f"{CIFAR_MINI} is not present (set BM_CIFAR10_MINI to its folder)")
    return CIFAR_MINI
