"""What bm loads from files it is handed: run files only through weights_only, CIFAR batches only through the
restricted unpickler, and damaged bytes of either end in the project's one error, never another exception."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bm.deep.datasets import DatasetError, load_dataset
from bm.errors import BMError, RunFolderError
from bm.runs import convert_saved, read_saved
from tests.conftest import run, write_cifar10
from tests.test_cli_table import Payload

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _checkpoint_bytes(tmp_path: Path) -> bytes:
    """A small checkpoint in the form the trainer writes (model, optimizer, RNG states, position)."""
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 3)).sum().backward()
    opt.step()
    path = tmp_path / "checkpoint.pt"
    torch.save(
        {
            "model": net.state_dict(),
            "optimizer": opt.state_dict(),
            "epoch": 3,
            "position": {"order": torch.arange(5), "offset": 2, "total": 1.5, "seen": 4},
            "generator": torch.Generator().get_state(),
            "torch_rng": torch.get_rng_state(),
        },
        path,
    )
    return path.read_bytes()


def test_a_run_file_of_the_trainers_form_loads_safely_and_a_payload_is_refused_unrun(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(_checkpoint_bytes(tmp_path))
    assert read_saved(path, ("model", "optimizer", "epoch"))["epoch"] == 3
    marker = tmp_path / "PWNED"
    torch.save({"model": Payload(marker)}, path)
    with pytest.raises(RunFolderError, match=r"checkpoint\.pt holds objects other than tensors.*--trust"):
        read_saved(path, ("model",))
    assert not marker.exists()


def test_convert_run_needs_trust_then_rewrites_numpy_holding_files_as_data_only(capsys, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    torch.save({"labels": np.arange(4), "num_classes": np.int64(10), "true": [np.float32(0.5)]}, folder / "labels.pt")
    torch.save({"model": {"w": torch.ones(2)}}, folder / "init.pt")  # already data only
    with pytest.raises(RunFolderError, match="--trust"):
        read_saved(folder / "labels.pt")
    code, _, err = run(capsys, ["convert-run", str(folder)])
    assert code == 2 and "--trust" in err and err.count("\n") == 1
    code, out, err = run(capsys, ["convert-run", str(folder), "--trust"])
    assert code == 0, err
    assert "labels.pt" in out and "init.pt" not in out
    saved = read_saved(folder / "labels.pt", ("labels", "num_classes"))
    assert torch.equal(saved["labels"], torch.arange(4)) and saved["num_classes"] == 10 and saved["true"] == [0.5]
    assert not convert_saved(folder / "labels.pt")  # a second pass finds nothing to do


def test_a_cifar_pickle_written_at_protocol_2_by_python_3_reads(tmp_path):
    """Official-format batches come in several pickle dialects; the restricted unpickler admits each."""
    write_cifar10(tmp_path)
    d = tmp_path / "cifar-10-batches-py"
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        batch = pickle.loads((d / name).read_bytes())
        batch = {k.encode(): v for k, v in batch.items()}  # bytes keys, as `encoding="bytes"` readers see them
        (d / name).write_bytes(pickle.dumps(batch, protocol=2))
    assert load_dataset("cifar10", tmp_path, "train").images.shape == (20, 3, 32, 32)


@pytest.fixture(scope="module")
def cifar_batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    write_cifar10(root)
    return root, (root / "cifar-10-batches-py" / "data_batch_1").read_bytes()


def _mutations():
    """Truncations, bit flips and random bytes, each as a function of the valid file's bytes."""
    return st.one_of(
        st.integers(0, 12000).map(lambda k: ("truncate", k)),
        st.tuples(st.integers(0, 12000), st.integers(0, 7)).map(lambda t: ("flip", t)),
        st.binary(max_size=300).map(lambda b: ("random", b)),
    )


def _mutate(data: bytes, mutation) -> bytes:
    kind, arg = mutation
    if kind == "truncate":
        return data[: arg % (len(data) + 1)]
    if kind == "flip":
        pos, bit = arg
        pos %= len(data)
        return data[:pos] + bytes([data[pos] ^ (1 << bit)]) + data[pos + 1 :]
    return arg


@FUZZ
@given(mutation=_mutations())
def test_a_damaged_cifar_batch_loads_valid_data_or_gives_the_one_error(cifar_batch, mutation):
    root, valid = cifar_batch
    path = root / "cifar-10-batches-py" / "data_batch_1"
    path.write_bytes(_mutate(valid, mutation))
    try:
        data = load_dataset("cifar10", root, "train")
    except DatasetError as e:
        assert "\n" not in str(e)
    else:  # whatever loaded is valid data
        assert data.images.dtype == torch.uint8 and data.images.shape[1:] == (3, 32, 32)
        assert len(data.labels) == len(data.images) and 0 <= int(data.labels.min()) <= int(data.labels.max()) < 10
    finally:
        path.write_bytes(valid)


@FUZZ
@given(mutation=_mutations())
def test_a_damaged_run_file_loads_or_gives_the_one_error(tmp_path, mutation):
    valid = _checkpoint_bytes(tmp_path)
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(_mutate(valid, mutation))
    try:
        state = read_saved(path, ("model", "epoch"))
    except RunFolderError as e:
        assert "\n" not in str(e)
    else:
        assert isinstance(state, dict) and set(state["model"]) == {"weight", "bias"}


def test_damaged_stl10_and_tinyimagenet_files_are_named_in_one_line(tmp_path):
    from torchvision.io import write_jpeg

    from tests.conftest import write_stl10

    write_stl10(tmp_path)
    d = tmp_path / "stl10_binary"
    (d / "class_names.txt").write_text("a\nb\n")
    with pytest.raises(DatasetError, match="2 class names, STL-10 has 10"):
        load_dataset("stl10", tmp_path, "test")
    (d / "class_names.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DatasetError, match="not UTF-8 text"):
        load_dataset("stl10", tmp_path, "test")
    t = tmp_path / "tiny-imagenet-200"
    (t / "train" / "n01" / "images").mkdir(parents=True)
    (t / "wnids.txt").write_text("n01\n")
    write_jpeg(torch.zeros(3, 64, 64, dtype=torch.uint8), str(t / "train" / "n01" / "images" / "a.JPEG"))
    write_jpeg(torch.zeros(3, 32, 32, dtype=torch.uint8), str(t / "train" / "n01" / "images" / "b.JPEG"))
    with pytest.raises(DatasetError, match=r"b\.JPEG is \(32, 32\), expected 64 x 64"):
        load_dataset("tinyimagenet", tmp_path, "train")
    (t / "train" / "n01" / "images" / "b.JPEG").write_bytes(b"not a jpeg")
    with pytest.raises(DatasetError, match=r"cannot decode image .*b\.JPEG"):
        load_dataset("tinyimagenet", tmp_path, "train")
    (t / "wnids.txt").write_text("n01\nn01\n")
    with pytest.raises(BMError, match="distinct class ids"):
        load_dataset("tinyimagenet", tmp_path, "train")
