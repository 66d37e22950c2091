"""A model, a data set, a protocol, a probe, a scale and a preset, each one module's registration outside the bm
package (tests/plugins/example.py), used through the CLI with no other file touched."""

import json
import sys
from types import SimpleNamespace

import pytest
import torch

from tests.conftest import run


@pytest.fixture
def plugin(monkeypatch):
    monkeypatch.setenv("BM_PLUGINS", "tests.plugins.example")
    yield
    from bm.analyses.probing import PROBES
    from bm.deep.catalog import DATASETS, MODELS
    from bm.deep.protocols import PROTOCOLS
    from bm.reproduce.presets import PRESETS
    from bm.reproduce.scales import SCALES

    for registry, name in (
        (DATASETS, "stripes"),
        (MODELS, "tiny-cnn"),
        (PROTOCOLS, "hflip"),
        (PROBES, "centroid"),
        (PROTOCOLS, "shifts"),
        (SCALES, "example"),
        (PRESETS, "example"),
    ):
        registry.pop(name, None)
    sys.modules.pop("tests.plugins.example", None)  # the next test's plugin registers afresh


def test_a_plugin_registers_one_of_each_and_the_cli_runs_them(capsys, plugin, tmp_path):
    from tests.plugins.example import write_stripes

    write_stripes(tmp_path / "data")
    code, out, err = run(
        capsys,
        [
            "reproduce",
            "example",
            "--scale",
            "example",
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert code == 0, err
    record = json.loads((tmp_path / "out" / "example" / "example" / "result.json").read_text())
    ((name, cfg),) = record["runs"].items()
    assert (cfg["dataset"], cfg["model"]["arch"], cfg["augment"], cfg["model"]["image_size"]) == (
        "stripes",
        "tiny-cnn",
        "hflip",
        16,
    )
    assert "centroid_clean_test" in (tmp_path / "out" / "example" / "example" / "table.csv").read_text()
    folder = tmp_path / "out" / "example" / "runs" / name
    code, out, err = run(capsys, ["probe", str(folder), "--fit", "clean,centroid", "--k", "3", "--layers", "embedding"])
    assert code == 0, err
    probe = json.loads((folder / "probe.json").read_text())["results"]["trained"]["embedding"]
    assert 0 <= probe["centroid_clean_test"] <= 1
    SMALL = ["--batch-size", "8", "--width", "4", "--projector-width", "8", "--probe-k", "3"]
    SMALL += ["--decomposition-samples", "4"]  # a small network on the plugin's data set
    code, out, err = run(
        capsys,
        [
            "deep-train",
            "--dataset",
            "stripes",
            "--model",
            "tiny-cnn",
            "--augment",
            "hflip",
            "--data-dir",
            str(tmp_path / "data"),
            "--epochs",
            "1",
            *SMALL,
            "--out",
            str(tmp_path / "deep"),
        ],
    )
    assert code == 0, err
    assert json.loads((tmp_path / "deep" / "config.json").read_text())["config"]["model"]["image_size"] == 16
    # the fixed-set protocol: n B items an epoch (its option views), memorization scored on exactly those n B views
    code, out, err = run(
        capsys,
        [
            "deep-train",
            "--dataset",
            "stripes",
            "--model",
            "tiny-cnn",
            "--augment",
            "shifts",
            "--views",
            "3",
            "--subset",
            "8",
            "--data-dir",
            str(tmp_path / "data"),
            "--epochs",
            "2",
            *SMALL,
            "--out",
            str(tmp_path / "shifts"),
        ],
    )
    assert code == 0, err
    from bm.deep.datasets import load_dataset
    from bm.deep.items import training_items
    from bm.deep.models import Network
    from bm.deep.run import run_config
    from bm.runs import RunFolder, read_saved
    from tests.plugins.example import CLASSES

    cfg = run_config(tmp_path / "shifts")
    images = load_dataset("stripes", tmp_path / "data", "train").first(8)
    labels = RunFolder(tmp_path / "shifts").labels(("labels", "num_classes"))
    items = training_items(
        cfg,
        images,
        SimpleNamespace(**labels),
        torch.nn.functional.one_hot(labels["labels"], CLASSES).float(),
        torch.Generator(),
    )
    x, y = items.memorized(torch.arange(items.n_memorized))
    assert items.n == items.n_memorized == 24 and torch.equal(x[1], images.images[0].roll(1, -1).float() / 255)
    net = Network(cfg.model)
    net.load_state_dict(read_saved(tmp_path / "shifts" / RunFolder.CHECKPOINT, ("model",))["model"])
    net.eval()
    with torch.no_grad():
        accuracy = float((net(x).argmax(1) == y).float().mean())
    rows = RunFolder(tmp_path / "shifts").metrics()
    assert rows[-1]["train_acc"] == pytest.approx(accuracy)  # the run's memorization is that of its 24 items


def test_an_unknown_plugin_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("BM_PLUGINS", "no_such_plugin_module")
    code, _, err = run(capsys, ["reproduce", "--list"])
    assert code == 2 and err.startswith("bm: error: BM_PLUGINS: cannot import plugin 'no_such_plugin_module'")
    assert err.count("\n") == 1


def test_taken_names_are_refused():
    from bm.deep.catalog import DatasetEntry, ModelEntry, register_dataset, register_model
    from bm.errors import BMError
    from bm.reproduce.presets import PRESETS, register_preset
    from bm.reproduce.scales import SCALES, register_scale

    for register, thing in (
        (register_model, ("resnet18", ModelEntry("x:y"))),
        (register_dataset, ("cifar10", DatasetEntry("f", "l", 32, 10, "x:y"))),
    ):
        with pytest.raises(BMError, match="already registered"):
            register(*thing)
    with pytest.raises(BMError, match="already registered"):
        register_preset(PRESETS["fig12"])
    with pytest.raises(BMError, match="already registered"):
        register_scale(SCALES["mini"])


@pytest.mark.parametrize(
    "source,needle",
    [
        ('raise RuntimeError("boom")\n', "cannot import plugin 'bad_plugin' (RuntimeError: boom)"),
        ("def (:\n", "cannot import plugin 'bad_plugin' (SyntaxError"),
        ("import sys\nsys.exit(3)\n", "plugin 'bad_plugin' called sys.exit(3)"),
        (
            "from bm.reproduce.scales import SCALES, register_scale\nregister_scale(SCALES['mini'])\n",
            "scale 'mini' is already registered by bm; bad_plugin registers it again",
        ),
    ],
)
def test_a_broken_plugin_is_one_line_naming_it(capsys, monkeypatch, tmp_path, source, needle):
    (tmp_path / "bad_plugin.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BM_PLUGINS", "bad_plugin")
    monkeypatch.delitem(sys.modules, "bad_plugin", raising=False)
    code, _, err = run(capsys, ["reproduce", "--list"])
    assert code == 2 and err.startswith("bm: error: BM_PLUGINS:") and err.count("\n") == 1, err
    assert needle in err


def test_a_name_that_is_no_module_is_refused(capsys, monkeypatch):
    monkeypatch.setenv("BM_PLUGINS", ".x")
    code, _, err = run(capsys, ["reproduce", "--list"])
    assert code == 2 and "'.x' is not a module name" in err and err.count("\n") == 1


def test_a_duplicate_between_two_plugins_names_both(capsys, monkeypatch, tmp_path):
    for name in ("first_plugin", "second_plugin"):
        (tmp_path / f"{name}.py").write_text(
            "from bm.analyses.probing import register_probe\n\n@register_probe('twice')\ndef probe(d):\n    return {}\n"
        )
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BM_PLUGINS", "first_plugin,second_plugin")
    from bm.analyses.probing import PROBES

    try:
        code, _, err = run(capsys, ["reproduce", "--list"])
    finally:
        PROBES.pop("twice", None)
    assert code == 2 and "probe 'twice' is already registered by first_plugin; second_plugin registers it again" in err
