"""bm gradients: the permuted and clean groups' gradients of a real run add up to its full gradient, per epoch."""

import json

import pytest
import torch

from bm.analyses.gradients import permuted_gradients
from bm.analyses.probing import load_run, run_data
from bm.deep.models import Network, load_weights
from tests.conftest import run

ARGS = ["--preset", "smoke", "--width", "4", "--projector-width", "16", "--batch-size", "8", "--epochs", "2"]


def _full_gradient_norm(folder, epoch):
    """|gradient of the summed training loss over every trained image|, computed directly, batch by batch."""
    rf, cfg, _ = load_run(folder)
    labels = rf.labels(("labels", "num_classes"))
    images = run_data(cfg)[0].images
    targets = torch.nn.functional.one_hot(labels["labels"].long(), int(labels["num_classes"])).float()
    net = Network(cfg.model)
    load_weights(net, rf.weights(epoch), "test")
    net.train()
    grads = [torch.zeros_like(p) for p in net.parameters()]
    for s in range(0, len(images), cfg.batch_size):
        loss = (net(images[s : s + cfg.batch_size].float() / 255) - targets[s : s + cfg.batch_size]).square().sum()
        grads = [g + d for g, d in zip(grads, torch.autograd.grad(loss, list(net.parameters())))]
    return float(torch.cat([g.flatten().double() for g in grads]).norm())


def _groups_add_up(capsys, folder):
    """bm gradients on a run trained with --snapshots 1 for 2 epochs: the permuted and clean groups' gradients add up
    to the full gradient (computed directly) at epochs 0, 1 and 2; the command writes the chosen epochs and a plot."""
    record = permuted_gradients(folder)
    randomized = load_run(folder)[0].labels(("randomized",))["randomized"]
    assert record["counts"] == {"permuted": int(randomized.sum()), "clean": int((~randomized).sum())}
    assert list(record["epochs"]) == ["0", "1", "2"]
    for epoch, row in record["epochs"].items():
        t = row["total"]  # a . f + b . f = |f|^2 with f = a + b: the norms and cosines give |f|
        full = t["norm_permuted"] * t["cos_permuted_full"] + t["norm_clean"] * t["cos_clean_full"]
        assert abs(full - _full_gradient_norm(folder, int(epoch))) <= 1e-4 * full
        assert set(row["layers"]) == set(row["label_layers"]) and "O" in row["layers"]
        assert 0 <= row["permuted_fit"] <= 1
    code, out, err = run(capsys, ["gradients", str(folder), "--epochs", "0,2"])
    assert code == 0, err
    written = json.loads((folder / "gradients.json").read_text())
    assert list(written["epochs"]) == ["0", "2"] and (folder / "gradients.png").exists() and "label term" in out


def test_runs_without_two_groups_or_weights_are_one_line(capsys, tmp_path, workspace):
    folder = tmp_path / "run"
    argv = ["deep-train", *ARGS, "--data-dir", str(workspace / "data"), "--out", str(folder), "--label-noise", "1"]
    assert run(capsys, argv)[0] == 0
    code, _, err = run(capsys, ["gradients", str(folder)])
    assert code == 2 and "only randomized" in err and err.count("\n") == 1
    code, _, err = run(capsys, ["gradients", str(folder), "--epochs", "7"])
    assert code == 2 and err.count("\n") == 1


def _rows(folder):
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_the_gradient_probe_leaves_training_unchanged_and_equals_bm_gradients(capsys, tmp_path, workspace):
    """--gradient-probe (Stephenson et al.'s measurement in training, at every probe): every other logged number is
    bit-identical to the same run without it (batch statistics restored, no randomness drawn), and each probe's
    record equals what bm gradients computes afterwards from the weights of that epoch. On the run without it, bm
    gradients' two groups add up to the full gradient at every epoch with weights (_groups_add_up)."""
    argv = ["deep-train", *ARGS, "--data-dir", str(workspace / "data"), "--label-noise", "0.5"]
    argv += ["--snapshots", "1", "--probe-every", "1"]
    assert run(capsys, [*argv, "--out", str(tmp_path / "plain")])[0] == 0
    assert run(capsys, [*argv, "--out", str(tmp_path / "probed"), "--gradient-probe"])[0] == 0
    _groups_add_up(capsys, tmp_path / "plain")
    plain, probed = _rows(tmp_path / "plain"), _rows(tmp_path / "probed")
    timeless = lambda r: {k: v for k, v in r.items() if k not in ("wall_s", "img_per_s", "gradients")}  # noqa: E731
    assert [timeless(r) for r in probed] == [timeless(r) for r in plain]
    measured = {r["epoch"]: r["gradients"] for r in probed if "gradients" in r}
    assert sorted(measured) == [0, 1, 2] and not any("gradients" in r for r in plain)
    after = permuted_gradients(tmp_path / "probed")["epochs"]
    for epoch, row in measured.items():
        for kind in ("total", "label_total"):
            for key, value in row[kind].items():
                assert value == pytest.approx(after[str(epoch)][kind][key], rel=1e-5, abs=1e-9)
        assert row["permuted_fit"] == after[str(epoch)]["permuted_fit"]
        assert set(row["label_layers"]) == set(after[str(epoch)]["label_layers"])


def test_the_gradient_probe_needs_two_groups_of_clean_images(capsys, tmp_path, workspace):
    argv = [
        "deep-train",
        *ARGS,
        "--data-dir",
        str(workspace / "data"),
        "--out",
        str(tmp_path / "r"),
        "--gradient-probe",
    ]
    for extra in (["--label-noise", "1"], ["--label-noise", "0"], ["--label-noise", "0.5", "--augment", "finite"]):
        code, _, err = run(capsys, [*argv, *extra])
        assert code == 2 and "gradient_probe" in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()
