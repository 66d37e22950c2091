"""bm.runs: provenance in every config.json, and bm.configs: configs read back from JSON."""

import json
import subprocess

import pytest

from bm.configs import from_dict, read_config, with_changes
from bm.deep.config import DeepTrainConfig
from bm.errors import BMError
from bm.runs import prepare_run_folder, provenance


def test_config_json_carries_provenance(tmp_path):
    prepare_run_folder(tmp_path / "r", {"device": "cpu", "lr": 0.1})
    record = json.loads((tmp_path / "r" / "config.json").read_text())
    assert record["config"] == {"device": "cpu", "lr": 0.1}
    for key in (
        "bm_version",
        "git_sha",
        "git_dirty",
        "git_diff_sha256",
        "python",
        "torch",
        "cuda",
        "device_name",
        "cpu_threads",
        "hostname",
        "started",
    ):
        assert key in record
    assert read_config(tmp_path / "r") == {"device": "cpu", "lr": 0.1}  # a run folder reads as its config


def test_a_dirty_tree_is_recorded_with_the_hash_of_its_diff():
    diff = subprocess.run(["git", "diff", "HEAD"], capture_output=True, text=True).stdout
    p = provenance()
    if p["git_sha"] is None:
        pytest.skip("not running from a git checkout")
    assert p["git_dirty"] == bool(diff) and (p["git_diff_sha256"] is None) == (not diff)


def test_configs_round_trip_and_change_by_dotted_path():
    cfg = DeepTrainConfig(snapshots=(2, 3), random_classes="per-sample", epochs=4)
    assert from_dict(DeepTrainConfig, json.loads(json.dumps(cfg.to_json()))) == cfg
    changed = with_changes(cfg, {"model.width": 4, "lr": 1e-3})
    assert (changed.model.width, changed.lr, changed.model.arch) == (4, 1e-3, cfg.model.arch)
    with pytest.raises(BMError, match="must lie in"):
        with_changes(cfg, {"model.image_size": 2})  # validated as any config is


def test_a_run_folder_from_an_earlier_bm_reads_with_defaults_and_a_newer_one_is_refused(tmp_path):
    from bm.deep.run import run_config

    old = DeepTrainConfig().to_json()
    del old["knn_bank"], old["model"]["image_size"]  # fields added by later versions
    (tmp_path / "config.json").write_text(json.dumps({"config": old, "bm_version": "0.0.9", "git_sha": None}))
    cfg = run_config(tmp_path)
    assert cfg.knn_bank == DeepTrainConfig.knn_bank and cfg.model.image_size == 32
    (tmp_path / "config.json").write_text(json.dumps({"config": {**old, "from_the_future": 1}, "bm_version": "9"}))
    with pytest.raises(BMError, match="unknown key.* from_the_future"):
        run_config(tmp_path)


def test_metrics_drop_a_torn_last_line_and_refuse_a_damaged_one(tmp_path):
    from bm.errors import RunFolderError
    from bm.runs import RunFolder

    (tmp_path / "metrics.jsonl").write_text('{"epoch": 0}\n{"epoch": 1}\n{"epo')
    assert RunFolder(tmp_path).metrics() == [{"epoch": 0}, {"epoch": 1}]
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 0}\n{"epo\n{"epoch": 2}\n')
    with pytest.raises(RunFolderError, match="line 2 is not a JSON record"):
        RunFolder(tmp_path).metrics()


def test_a_folder_from_before_a_new_runtime_key_is_the_same_run(tmp_path):
    """A preset folder written before `seeds` existed: the same preset without --seeds (None) is the same run, and
    with --seeds the change is recorded as a runtime one; any other change is still refused."""
    import json

    from bm.errors import RunFolderError
    from bm.runs import prepare_run_folder

    prepare_run_folder(tmp_path, {"preset": "fig8", "runs": ["a"]}, runtime=("runs", "seeds"))
    (tmp_path / "table.csv").write_text("x\n")  # it produced something: a different config is refused
    before = (tmp_path / "config.json").read_text()
    prepare_run_folder(tmp_path, {"preset": "fig8", "runs": ["a"], "seeds": None}, runtime=("runs", "seeds"))
    assert (tmp_path / "config.json").read_text() == before
    prepare_run_folder(tmp_path, {"preset": "fig8", "runs": ["a"], "seeds": [0, 1]}, runtime=("runs", "seeds"))
    assert json.loads((tmp_path / "config.json").read_text())["runtime"] == [{"seeds": [None, [0, 1]]}]
    with pytest.raises(RunFolderError, match="differs in: preset"):
        prepare_run_folder(tmp_path, {"preset": "fig7", "runs": ["a"], "seeds": [0, 1]}, runtime=("runs", "seeds"))


def test_a_gzipped_metrics_file_is_read_in_place_of_the_plain_one(tmp_path):
    """results/ keeps metrics.jsonl as metrics.jsonl.gz: the run's records read the same from either, a torn last
    line included, and the plain file wins where both exist."""
    import gzip

    from bm.runs import RunFolder

    lines = b'{"epoch": 1, "loss": 0.5}\n{"epoch": 2, "loss": 0.25}\n{"epo'
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "metrics.jsonl").write_bytes(lines)
    (tmp_path / "gz").mkdir()
    (tmp_path / "gz" / "metrics.jsonl.gz").write_bytes(gzip.compress(lines))
    rows = RunFolder(tmp_path / "plain").metrics()
    assert rows == RunFolder(tmp_path / "gz").metrics() == [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}]
    (tmp_path / "gz" / "metrics.jsonl").write_bytes(lines.splitlines()[0])
    assert RunFolder(tmp_path / "gz").metrics() == [{"epoch": 1, "loss": 0.5}]
