"""A model, a data set, a protocol, a probe, a scale and a preset, each one module's registration outside the bm
package (tests/plugins/example.py), used through the CLI with no other file touched."""

import json
import sys

import pytest

from tests.test_cli import run


@pytest.fixture
def plugin(monkeypatch):
    monkeypatch.setenv("BM_PLUGINS", "tests.plugins.example")
    yield
    from bm.deep.catalog import DATASETS, MODELS
    from bm.deep.probing import PROBES
    from bm.deep.views import PROTOCOLS
    from bm.reproduce.presets import PRESETS
    from bm.reproduce.scales import SCALES

    for registry, name in ((DATASETS, "stripes"), (MODELS, "tiny-cnn"), (PROTOCOLS, "hflip"), (PROBES, "centroid"),
                           (SCALES, "example"), (PRESETS, "example")):
        registry.pop(name, None)
    sys.modules.pop("tests.plugins.example", None)  # the next test's plugin registers afresh


def test_a_plugin_registers_one_of_each_and_the_cli_runs_them(capsys, plugin, tmp_path):
    from tests.plugins.example import write_stripes

    write_stripes(tmp_path / "data")
    code, out, err = run(capsys, ["reproduce", "example", "--scale", "example", "--data-dir", str(tmp_path / "data"),
                                  "--out", str(tmp_path / "out")])
    assert code == 0, err
    record = json.loads((tmp_path / "out" / "example" / "example" / "result.json").read_text())
    (name, cfg), = record["runs"].items()
    assert (cfg["dataset"], cfg["model"]["arch"], cfg["augment"], cfg["model"]["image_size"]) == (
        "stripes", "tiny-cnn", "hflip", 16)
    assert "centroid_clean_test" in (tmp_path / "out" / "example" / "example" / "table.csv").read_text()
    folder = tmp_path / "out" / "example" / "runs" / name
    code, out, err = run(capsys, ["probe", str(folder), "--fit", "clean,centroid", "--k", "3", "--layers", "embedding"])
    assert code == 0, err
    probe = json.loads((folder / "probe.json").read_text())["results"]["trained"]["embedding"]
    assert 0 <= probe["centroid_clean_test"] <= 1
    code, out, err = run(capsys, ["deep-train", "--dataset", "stripes", "--model", "tiny-cnn", "--augment", "hflip",
                                  "--data-dir", str(tmp_path / "data"), "--epochs", "1", "--batch-size", "8",
                                  "--width", "4", "--projector-width", "8", "--probe-k", "3",
                                  "--decomposition-samples", "4", "--out", str(tmp_path / "deep")])
    assert code == 0, err
    assert json.loads((tmp_path / "deep" / "config.json").read_text())["config"]["model"]["image_size"] == 16


def test_an_unknown_plugin_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("BM_PLUGINS", "no_such_plugin_module")
    code, _, err = run(capsys, ["reproduce", "--list"])
    assert code == 2 and err.startswith("bm: error: BM_PLUGINS: cannot import 'no_such_plugin_module'")
    assert err.count("\n") == 1


def test_taken_names_are_refused():
    from bm.deep.catalog import DatasetEntry, ModelEntry, register_dataset, register_model
    from bm.errors import BMError
    from bm.reproduce.presets import PRESETS, register_preset
    from bm.reproduce.scales import SCALES, register_scale

    for register, thing in ((register_model, ("resnet18", ModelEntry("x:y"))),
                            (register_dataset, ("cifar10", DatasetEntry("f", "l", 32, 10, "x:y")))):
        with pytest.raises(BMError, match="already registered"):
            register(*thing)
    with pytest.raises(BMError, match="already registered"):
        register_preset(PRESETS["fig12"])
    with pytest.raises(BMError, match="already registered"):
        register_scale(SCALES["mini"])
