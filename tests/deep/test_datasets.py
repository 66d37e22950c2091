import pytest
import torch
from torchvision.io import write_jpeg

from bm.deep.datasets import DatasetError, load_dataset
from tests.conftest import image_rows, pickle_to, write_cifar10, write_cifar100, write_stl10


def test_cifar10_round_trip(tmp_path):
    data = write_cifar10(tmp_path)
    train = load_dataset("cifar10", tmp_path, "train")
    assert train.images.shape == (20, 3, 32, 32) and train.images.dtype == torch.uint8
    rows, labels = data["data_batch_2"]
    assert torch.equal(train.images[4:8], torch.from_numpy(rows.reshape(-1, 3, 32, 32)))
    assert train.labels[4:8].tolist() == labels
    test = load_dataset("cifar10", tmp_path / "cifar-10-batches-py", "test")  # the folder itself works too
    assert len(test) == 4 and test.classes[3] == "class3"


def test_cifar100_fine_labels(tmp_path):
    rows = write_cifar100(tmp_path)
    ds = load_dataset("cifar100", tmp_path, "test")
    assert ds.labels.tolist() == [0, 99, 5, 5, 7, 1] and len(ds.classes) == 100
    assert torch.equal(ds.images, torch.from_numpy(rows.reshape(-1, 3, 32, 32)))


def test_stl10_binary_is_column_major(tmp_path):
    images = write_stl10(tmp_path)
    ds = load_dataset("stl10", tmp_path, "test")
    assert torch.equal(ds.images, torch.from_numpy(images)) and ds.labels.tolist() == [0, 9, 3]


def test_tiny_imagenet_train_and_val(tmp_path):
    d = tmp_path / "tiny-imagenet-200"
    wnids = ["n01", "n02"]
    (d / "val" / "images").mkdir(parents=True)
    (d / "wnids.txt").write_text("\n".join(wnids) + "\n")
    (d / "words.txt").write_text("n01\tgoldfish\nn02\ttabby cat\n")
    flat = torch.full((3, 64, 64), 0, dtype=torch.uint8)
    for k, w in enumerate(wnids):
        (d / "train" / w / "images").mkdir(parents=True)
        for j in range(2):
            write_jpeg(flat + 40 * k + j, str(d / "train" / w / "images" / f"{w}_{j}.JPEG"), quality=100)
    lines = []
    for j, w in enumerate(["n02", "n01", "n02"]):
        write_jpeg(flat + 7 * j, str(d / "val" / "images" / f"val_{j}.JPEG"), quality=100)
        lines.append(f"val_{j}.JPEG\t{w}\t0\t0\t63\t63")
    (d / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    train = load_dataset("tinyimagenet", tmp_path, "train")
    assert train.images.shape == (4, 3, 64, 64) and train.labels.tolist() == [0, 0, 1, 1]
    assert train.classes == ("goldfish", "tabby cat") and abs(int(train.images[3, 0, 0, 0]) - 41) <= 2  # JPEG
    val = load_dataset("tinyimagenet", tmp_path, "test")
    assert val.labels.tolist() == [1, 0, 1] and abs(int(val.images[2, 1, 5, 5]) - 14) <= 2


def test_missing_folder_names_the_layout_and_the_download_flag(tmp_path):
    with pytest.raises(DatasetError, match="cifar-10-batches-py.*--download"):
        load_dataset("cifar10", tmp_path)


@pytest.mark.parametrize("breakage", ["truncate", "garbage", "missing_meta", "bad_labels"])
def test_malformed_cifar_gives_a_clear_error(tmp_path, breakage):
    write_cifar10(tmp_path)
    d = tmp_path / "cifar-10-batches-py"
    if breakage == "truncate":
        pickle_to(d / "data_batch_3", {"data": image_rows(2)[:, :100], "labels": [0, 1]})
    elif breakage == "garbage":
        (d / "data_batch_1").write_bytes(b"not a pickle")
    elif breakage == "missing_meta":
        (d / "batches.meta").unlink()
    else:
        pickle_to(d / "data_batch_1", {"data": image_rows(2), "labels": [0, 12]})
    with pytest.raises(DatasetError, match="expected cifar-10-batches-py"):
        load_dataset("cifar10", tmp_path)


def test_unknown_dataset_and_split(tmp_path):
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset("mnist", tmp_path)
    with pytest.raises(DatasetError, match="split"):
        load_dataset("cifar10", tmp_path, "val")


def test_real_cifar10_mini(cifar_mini):
    train = load_dataset("cifar10", cifar_mini, "train")
    test = load_dataset("cifar10", cifar_mini, "test")
    assert train.images.shape == (5085, 3, 32, 32) and test.images.shape == (1017, 3, 32, 32)
    assert train.labels.min() == 0 and train.labels.max() == 9 and len(train.labels.unique()) == 10
    assert train.classes == ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    assert test.classes[int(test.labels[0])] == "cat"  # the official first test image
    assert 100 < train.images.float().mean() < 140  # real photographs, not noise or zeros


def test_stratified_subset_takes_each_class_first_images_in_order():
    import torch

    from bm.deep.datasets import ImageSet
    from bm.errors import BMError

    labels = torch.tensor([2, 0, 0, 1, 2, 0, 1, 1, 2, 0, 2])  # class counts 4, 3, 4
    images = torch.arange(11, dtype=torch.uint8).view(11, 1, 1, 1).expand(11, 3, 2, 2).contiguous()
    data = ImageSet(images, labels, ("a", "b", "c"), "t")
    s = data.subset(7, "stratified")  # 7 // 3 = 2 each, one more for class 0
    assert s.images[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 5, 6]  # data-set order kept
    assert torch.bincount(s.labels).tolist() == [3, 2, 2]
    assert data.subset(6, "stratified").images[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 6]
    assert data.subset(4, "first").labels.tolist() == [2, 0, 0, 1]
    with pytest.raises(BMError, match="class 'b'"):
        data.subset(11, "stratified")  # 4 of b wanted, 3 held
