import json
import os
import signal
from dataclasses import replace

import pytest
import torch

from bm.deep.config import DeepTrainConfig, ModelConfig
from bm.deep.datasets import ImageSet, load_dataset
from bm.deep.loop import Interrupted
from bm.deep.train import train
from bm.errors import BMError
from tests.conftest import write_cifar10

CFG = DeepTrainConfig(
    model=ModelConfig(width=4, projector_width=32),
    epochs=3,
    batch_size=16,
    lr=1e-3,
    probe_every=2,
    probe_k=3,
    decomposition_samples=8,
    decomposition_views=3,
    checkpoint_every=1,
    snapshots=(1,),
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_cifar10(root, per_batch=8)
    return load_dataset("cifar10", root, "train"), load_dataset("cifar10", root, "test")


def _metrics(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_run_folder_and_metrics(tmp_path, data):
    out = train(CFG, tmp_path / "run", data=data)
    init, *rows = _metrics(out)
    assert init["epoch"] == 0 and "loss" not in init and {"knn", "inv", "bias", "invariance"} <= set(init)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert "knn" in rows[1] and "knn" in rows[2] and "knn" not in rows[0]
    assert set(rows[1]["invariance"]) == {"stem", "layer1", "layer2", "layer3", "layer4", "embedding", "P", "O"}
    assert all(0 <= r["train_acc"] <= 1 and r["img_per_s"] > 0 for r in rows)
    assert 0 < init["wall_s"] < rows[0]["wall_s"] < rows[1]["wall_s"] < rows[2]["wall_s"]
    labels = torch.load(out / "labels.pt")
    assert labels["randomized"].all() and labels["labels"].shape == (40,)
    for name in ("config.json", "init.pt", "checkpoint.pt", "snapshot_1.pt"):
        assert (out / name).exists()
    assert torch.load(out / "checkpoint.pt", weights_only=False)["epoch"] == 3


def test_interrupt_and_resume_match_an_uninterrupted_run(tmp_path, data):
    whole = train(CFG, tmp_path / "whole", data=data)

    def interrupt(row):
        if row["epoch"] == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(Interrupted, match="--resume") as stopped:
        train(CFG, tmp_path / "cut", data=data, on_epoch=interrupt)
    assert stopped.value.exit_code == 143  # 128 + SIGTERM, the shell convention (SIGINT: 130)
    assert torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=False)["epoch"] == 1
    train(CFG, tmp_path / "cut", resume=True, data=data)
    a = torch.load(whole / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    drop = lambda rows: [{k: v for k, v in r.items() if k not in ("img_per_s", "wall_s")} for r in rows]  # noqa: E731
    assert drop(_metrics(tmp_path / "cut")) == drop(_metrics(whole))


def test_a_finished_run_extended_equals_an_uninterrupted_longer_run(tmp_path, data):
    """Raising --epochs on a finished run continues it bit for bit (the paper's runs need more than planned)."""
    short, long = replace(CFG, epochs=2, snapshots=()), replace(CFG, epochs=4, snapshots=())
    whole = train(long, tmp_path / "whole", data=data)
    train(short, tmp_path / "ext", data=data)
    train(long, tmp_path / "ext", resume=True, data=data)
    a = torch.load(whole / "checkpoint.pt", weights_only=False)
    b = torch.load(tmp_path / "ext" / "checkpoint.pt", weights_only=False)
    assert a["epoch"] == b["epoch"] == 4 and all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    probes = {"knn", "inv", "bias", "invariance", "img_per_s", "wall_s"}  # the short run also probed its last epoch
    drop = lambda rows: [{k: v for k, v in r.items() if k not in probes} for r in rows]  # noqa: E731
    assert drop(_metrics(tmp_path / "ext")) == drop(_metrics(whole))
    record = json.loads((tmp_path / "ext" / "config.json").read_text())
    assert record["config"]["epochs"] == 4 and record["extended"] == [{"epochs": [2, 4]}]
    with pytest.raises(BMError, match="can only be raised"):
        train(replace(long, epochs=3), tmp_path / "ext", resume=True, data=data)
    with pytest.raises(BMError, match="differs in: epochs, lr"):
        train(replace(long, epochs=6, lr=1e-2), tmp_path / "ext", resume=True, data=data)


def test_resume_drops_a_torn_last_metrics_line(tmp_path, data, capsys):
    whole = train(CFG, tmp_path / "whole", data=data)
    cut = replace(CFG, epochs=2)
    train(cut, tmp_path / "cut", data=data)
    path = tmp_path / "cut" / "metrics.jsonl"
    path.write_text(path.read_text() + '{"epoch": 3, "loss": 0.9')  # a kill inside the next write
    train(CFG, tmp_path / "cut", resume=True, data=data)
    assert "torn last line" in capsys.readouterr().err
    timed = ("img_per_s", "wall_s", "knn", "inv", "bias", "invariance")

    def drop(rows):
        return [{k: v for k, v in r.items() if k not in timed} for r in rows]

    assert drop(_metrics(tmp_path / "cut")) == drop(_metrics(whole))


def test_refusals(tmp_path, data):
    train(replace(CFG, epochs=1), tmp_path / "run", data=data)
    with pytest.raises(BMError, match="--resume"):
        train(replace(CFG, epochs=1), tmp_path / "run", data=data)
    with pytest.raises(BMError, match="no checkpoint"):
        train(CFG, tmp_path / "empty", resume=True, data=data)
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"garbage")
    with pytest.raises(BMError, match="corrupt"):
        train(replace(CFG, epochs=1), tmp_path / "run", resume=True, data=data)
    with pytest.raises(BMError, match="classes"):
        train(replace(CFG, model=replace(CFG.model, num_classes=7)), tmp_path / "other", data=data)


@pytest.mark.parametrize("protocol", ["finite", "iid"])
def test_finite_and_iid_protocols_train(tmp_path, data, protocol):
    cfg = replace(CFG, augment=protocol, views=3, iid_subset=10, epochs=1, probe_every=1, preserve_labels=False)
    train_set, test_set = data
    two_classes = ImageSet(train_set.images, train_set.labels % 2, train_set.classes, train_set.name)  # 20 per class
    out = train(cfg, tmp_path / protocol, data=(two_classes, test_set))
    assert [r["epoch"] for r in _metrics(out)] == [0, 1]


def test_finite_items_are_the_n_times_b_views(data):
    from bm.deep.items import training_items
    from bm.labels import LabelConfig, assign_labels

    train_set = data[0]
    labels = assign_labels(train_set.labels, 10, LabelConfig(), 0)
    targets = torch.nn.functional.one_hot(labels.labels, 10).float()
    items = training_items(replace(CFG, augment="finite", views=4), train_set, labels, targets, torch.Generator())
    n_items, fetch = items.n, items.fetch
    assert n_items == len(train_set) * 4
    x, t = fetch(torch.tensor([0, 4, 5]))  # view 0 of samples 0 and 1, view 1 of sample 1
    torch.testing.assert_close(x[0], train_set.images[0].float() / 255)
    torch.testing.assert_close(x[1], train_set.images[1].float() / 255)
    assert not torch.equal(x[2], x[1])
    assert torch.equal(t[1], t[2]) and torch.equal(t[0], targets[0])  # labels preserved by default


def _two_classes(data):
    train_set, test_set = data
    return ImageSet(train_set.images, train_set.labels % 2, train_set.classes, train_set.name), test_set  # 20 per class


@torch.no_grad()
def _accuracy(net, images_float, labels):
    net.eval()
    return int((net(images_float).argmax(1) == labels).sum()) / labels.numel()


def test_memorized_is_scored_on_the_iid_views_with_their_anchor_labels(tmp_path, data):
    """iid: the run trains on the s x B views with the anchor's label; its train_acc is exactly that accuracy, not
    the accuracy on the first clean images against their own labels."""
    from bm.analyses.probing import network_at
    from bm.deep.views import iid_views

    cfg = replace(CFG, augment="iid", views=3, iid_subset=10, epochs=2, probe_every=1, train_acc_every=1)
    two = _two_classes(data)
    out = train(cfg, tmp_path / "iid", data=two)
    saved = torch.load(out / "labels.pt", weights_only=True)
    table = iid_views(two[0].labels, 10, 3, cfg.seed).views
    net = network_at(cfg, out / "checkpoint.pt")
    expected = _accuracy(
        net, two[0].images[table.reshape(-1)].float() / 255, saved["labels"][table[:, 0]].repeat_interleave(3)
    )
    last = _metrics(out)[-1]
    assert last["train_acc"] == pytest.approx(expected, abs=1e-9)
    clean = _accuracy(net, two[0].images.float() / 255, saved["labels"])  # what the old code scored
    assert abs(clean - expected) > 1e-9
    # Definition 4.1's bank is the s x B images trained on; the other is every training image
    assert set(last["knn_banks"]) == {"train", "all"} and last["knn"] == last["knn_banks"]["train"]


def test_memorized_is_scored_on_the_finite_views_with_their_own_labels(tmp_path, data):
    from bm.analyses.probing import network_at
    from bm.deep.views import finite_labels, finite_views

    cfg = replace(CFG, augment="finite", views=3, preserve_labels=False, epochs=2, probe_every=2, train_acc_every=1)
    out = train(cfg, tmp_path / "finite", data=data)
    saved = torch.load(out / "labels.pt", weights_only=True)
    n = len(data[0])
    per_view = finite_labels(saved["labels"], 3, False, saved["num_classes"], cfg.seed + 2).reshape(-1)
    idx = torch.arange(n * 3)
    views = finite_views(data[0].images, idx // 3, idx % 3, cfg.seed)
    net = network_at(cfg, out / "checkpoint.pt")
    assert _metrics(out)[-1]["train_acc"] == pytest.approx(_accuracy(net, views, per_view), abs=1e-9)


def test_both_knn_banks_are_measured_and_the_config_names_the_headline_one(tmp_path, data):
    from bm.analyses.probing import network_at
    from bm.deep.measure import embed
    from bm.probe import knn_accuracy

    cfg = replace(CFG, subset=12, epochs=1, probe_every=1, knn_bank="all")
    out = train(cfg, tmp_path / "banks", data=data)
    row = _metrics(out)[-1]
    net = network_at(cfg, out / "checkpoint.pt")
    train_set, test_set = data
    emb = {
        name: embed(net, images, ["embedding"])["embedding"]
        for name, images in (("train", train_set.images[:12]), ("all", train_set.images), ("test", test_set.images))
    }
    for bank, labels in (("train", train_set.labels[:12]), ("all", train_set.labels)):
        assert row["knn_banks"][bank] == pytest.approx(
            knn_accuracy(emb[bank], labels, emb["test"], test_set.labels, k=cfg.probe_k), abs=1e-9
        )
    assert row["knn"] == row["knn_banks"]["all"]


def test_mixup_choices_are_config_fields_written_with_the_run(tmp_path, data):
    cfg = replace(
        CFG, augment="ssl+mixup", mixup_alpha=0.4, mixup_p=0.5, mixup_lambda="batch", mix_targets=False, epochs=1
    )
    out = train(cfg, tmp_path / "mixup", data=data)
    written = json.loads((out / "config.json").read_text())["config"]
    assert (written["mixup_alpha"], written["mixup_p"], written["mixup_lambda"], written["mix_targets"]) == (
        0.4,
        0.5,
        "batch",
        False,
    )
    with pytest.raises(BMError, match="mixup needs"):
        replace(CFG, mixup_p=1.5)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, data, monkeypatch):
    from bm.deep import train as train_module
    from bm.deep.loop import DivergedError

    forward = train_module.Network.forward
    broken = {"on": False}
    monkeypatch.setattr(
        train_module.Network, "forward", lambda self, x: forward(self, x) * (float("nan") if broken["on"] else 1.0)
    )
    with pytest.raises(DivergedError, match="last good checkpoint"):
        train(CFG, tmp_path / "run", data=data, on_epoch=lambda row: broken.update(on=row["epoch"] == 2))
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert state["epoch"] == 2 and all(
        torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point()
    )


def test_probes_log_unbiased_inv_bias_and_the_exact_bias_split(tmp_path, data):
    """Inv_hat = B'/(B'-1) Inv on the B' = B - 1 augmented views (online_estimates), Bias_hat = Bias - Inv_hat / B',
    and the Bias split (Eq. B.4) sums to the plug-in Bias."""
    out = train(replace(CFG, epochs=1, probe_every=1, decomposition_views=4), tmp_path / "run", data=data)
    for row in (r for r in _metrics(out) if "inv" in r):
        views = 3  # decomposition_views - 1 augmented views per sample
        assert row["inv_unbiased"] == pytest.approx(row["inv"] * views / (views - 1), rel=1e-5)
        assert row["bias_unbiased"] == pytest.approx(row["bias"] - row["inv_unbiased"] / views, rel=1e-4, abs=1e-7)
        assert sum(row["bias_split"].values()) == pytest.approx(row["bias"], rel=1e-5)
        assert min(row["bias_split"].values()) >= 0


def test_where_the_data_lives_the_device_and_the_cadences_are_not_a_runs_identity(tmp_path, data):
    """A run resumed (or found finished) with its data elsewhere or other probe / checkpoint cadences is the same
    run: resumed, config.json takes the new values and records the change; found finished, it is left as it ran; any
    other field is still another run."""
    from bm.deep.train import train_or_resume

    out = train(replace(CFG, epochs=1, data_dir="/old/place"), tmp_path / "run", data=data)
    moved = replace(CFG, epochs=2, data_dir="/new/place", probe_every=1, checkpoint_every=2)
    train(moved, out, resume=True, data=data)
    written = json.loads((out / "config.json").read_text())
    assert written["config"]["data_dir"] == "/new/place" and written["config"]["probe_every"] == 1
    assert written["runtime"] == [
        {"checkpoint_every": [1, 2], "data_dir": ["/old/place", "/new/place"], "probe_every": [2, 1]}
    ]
    assert written["extended"] == [{"epochs": [1, 2]}]
    before = (out / "config.json").read_bytes()
    train_or_resume(replace(moved, data_dir="/third/place"), out, data=data)  # finished: nothing runs
    assert (out / "config.json").read_bytes() == before  # it keeps the values it ran with
    with pytest.raises(BMError, match="different config|another"):
        train_or_resume(replace(moved, lr=2e-3), out, data=data)
