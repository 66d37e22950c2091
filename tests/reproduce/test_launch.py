"""`bm reproduce --launcher`: submitit's debug and local executors give the in-process results, local keeps at most
--max-parallel runs alive, --status reads the run folders and the task log."""

import json

import pytest

from tests.reproduce.test_runner import tiny  # noqa: F401  (fixture)
from tests.test_cli import run

pytest.importorskip("submitit")


def _table(out, name="table2"):
    return json.loads((out / "tiny" / name / "result.json").read_text())["table_md"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # submitit's DebugJob leaves its log open
def test_debug_launcher_equals_the_in_process_run(capsys, tiny, tmp_path):  # noqa: F811
    args, out = tiny
    code, _, err = run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *args, "--launcher", "debug"])
    assert code == 0, err
    in_process = [a if a != str(out) else str(tmp_path / "plain") for a in args]
    code, _, err = run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *in_process])
    assert code == 0, err
    assert _table(out) == _table(tmp_path / "plain")
    code, stdout, _ = run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *args, "--status"])
    assert code == 0 and stdout.count("finished") == 4


@pytest.mark.slow
def test_local_launcher_runs_at_most_max_parallel_at_once(capsys, tiny, tmp_path):  # noqa: F811
    args, out = tiny
    code, _, err = run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *args, "--launcher", "local",
                                "--max-parallel", "2"])
    assert code == 0, err
    events = [json.loads(line) for line in (out / "tiny" / "table2" / "tasks.jsonl").read_text().splitlines()]
    assert sorted(e["event"] for e in events) == ["finished"] * 4 + ["started"] * 4
    alive, most = 0, 0
    for e in sorted(events, key=lambda e: (e["time"], e["event"] == "started")):  # ends before starts on a tie
        alive += 1 if e["event"] == "started" else -1
        most = max(most, alive)
    assert most == 2  # never more than --max-parallel, and it did run two at once
    in_process = [a if a != str(out) else str(tmp_path / "plain") for a in args]
    assert run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *in_process])[0] == 0
    assert _table(out) == _table(tmp_path / "plain")


def test_status_before_anything_ran_and_bad_launchers(capsys, tiny):  # noqa: F811
    args, _ = tiny
    code, stdout, _ = run(capsys, ["reproduce", "fig7", *args, "--status"])
    assert code == 0 and stdout.count("pending") == 2
    code, _, err = run(capsys, ["reproduce", "fig7", *args, "--launcher", "kubernetes"])
    assert code == 2 and "unknown launcher" in err and err.count("\n") == 1
