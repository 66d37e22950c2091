"""`bm reproduce --launcher`: submitit's debug and local executors give the in-process results, local keeps at most
--max-parallel runs alive, --status reads the run folders and the task log."""

import json

import pytest

from tests.conftest import run
from tests.reproduce.test_runner import tiny  # noqa: F401  (fixture)

pytest.importorskip("submitit")


def _table(out, name="table2"):
    return json.loads((out / "tiny" / name / "result.json").read_text())["table_md"]


@pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning"
)  # submitit's DebugJob leaves its log open
@pytest.mark.slow
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
    code, _, err = run(
        capsys, ["reproduce", "table2", "--datasets", "cifar10", *args, "--launcher", "local", "--max-parallel", "2"]
    )
    assert code == 0, err
    events = [json.loads(line) for line in (out / "tiny" / "table2" / "tasks.jsonl").read_text().splitlines()]
    assert sorted(e["event"] for e in events) == ["finished"] * 4 + ["started"] * 4
    alive, most = 0, 0
    for e in sorted(events, key=lambda e: (e["time"], e["event"] == "started")):  # ends before starts on a tie
        alive += 1 if e["event"] == "started" else -1
        most = max(most, alive)
    assert most == 2  # never more than --max-parallel, and it did run two at once
    from bm.threads import using_threads

    in_process = [a if a != str(out) else str(tmp_path / "plain") for a in args]
    with using_threads(2):  # the caller's thread count does not reach the runs: each trains on its cpu_threads
        assert run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *in_process])[0] == 0
    assert _table(out) == _table(tmp_path / "plain")
    for folder in (out / "tiny" / "runs").iterdir():  # every logged number, to the last bit
        assert _numbers(folder) == _numbers(tmp_path / "plain" / "tiny" / "runs" / folder.name)


def _numbers(folder):
    """A run's metrics.jsonl without its timings."""
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("wall_s", "img_per_s")} for r in rows]


def test_status_before_anything_ran_and_bad_launchers(capsys, tiny):  # noqa: F811
    args, _ = tiny
    code, stdout, _ = run(capsys, ["reproduce", "fig7", *args, "--status"])
    assert code == 0 and stdout.count("pending") == 2
    code, stdout, err = run(capsys, ["reproduce", "fig5", *args, "--status"])  # its own job: no runs before it runs
    assert code == 0 and stdout == "fig5: no runs yet (its own job adds its runs as it starts them)\n" and not err
    code, _, err = run(capsys, ["reproduce", "fig7", *args, "--launcher", "kubernetes"])
    assert code == 2 and "unknown launcher" in err and err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "signame, events",
    [
        ("SIGUSR2", ["started", "requeued", "started", "finished"]),  # time limit: submitit requeues the task itself
        (
            "SIGTERM",
            ["started", "stopped", "started", "finished"],
        ),  # scancel / preemption: ends; SLURM (or a rerun) requeues
    ],
)
@pytest.mark.slow
def test_a_local_task_stopped_by_a_signal_resumes_by_requeue_and_ends_bit_for_bit(tmp_path, signame, events):
    """A signal mid-run: train() checkpoints the exact position; the task is requeued (by submitit's checkpoint hook
    for SIGUSR2; for SIGTERM by submitting the same task again, as SLURM's requeue reruns the same job) and resumes;
    the final weights equal an uninterrupted run's."""
    import os
    import signal
    import time

    import submitit
    import torch

    from bm.deep.config import DeepTrainConfig, ModelConfig
    from bm.deep.task import TrainTask
    from bm.deep.train import train
    from bm.launch import run_status
    from bm.runs import RunFolder
    from tests.conftest import write_cifar10

    write_cifar10(tmp_path / "data", per_batch=8)
    cfg = DeepTrainConfig(
        data_dir=str(tmp_path / "data"),
        epochs=40,
        batch_size=8,
        probe_every=40,
        checkpoint_every=40,
        model=ModelConfig(arch="mlp", width=4, projector_width=16, num_classes=0, mlp_hidden=32),
        decomposition_samples=4,
    )
    train(cfg, tmp_path / "whole")
    executor = submitit.LocalExecutor(folder=tmp_path / "jobs")
    task = TrainTask(cfg, tmp_path / "cut", tmp_path / "t.jsonl")
    job = executor.submit(task)
    deadline = time.time() + 120
    while len(RunFolder(tmp_path / "cut").metrics()) < 4 and time.time() < deadline:  # epochs 0-3 written
        time.sleep(0.05)
    pid = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[0])["pid"]  # the task's own process
    os.kill(pid, getattr(signal, signame))
    if signame == "SIGTERM":
        with pytest.raises(submitit.core.utils.FailedJobError, match="Interrupted"):
            job.result()
        status = run_status({"cut": tmp_path / "cut"}, {"cut": 40}, tmp_path / "t.jsonl")
        assert status[0]["state"] == "cut short" and status[0]["error"].startswith("SIGTERM")
        job = executor.submit(task)
    job.result()
    assert [json.loads(line)["event"] for line in (tmp_path / "t.jsonl").read_text().splitlines()] == events
    a = RunFolder(tmp_path / "whole").weights(40)
    b = RunFolder(tmp_path / "cut").weights(40)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_toy_grid_seeds_as_jobs_equal_the_in_process_grid(capsys, tmp_path):
    from bm.runs import read_csv_rows
    from tests.conftest import TINY_ARGS

    args = [a if a != "0" or TINY_ARGS[i - 1] != "--seeds" else "0,1" for i, a in enumerate(TINY_ARGS)]
    assert run(capsys, ["toy-grid", "--out", str(tmp_path / "plain"), *args])[0] == 0
    code, _, err = run(
        capsys, ["toy-grid", "--out", str(tmp_path / "jobs"), *args, "--launcher", "local", "--max-parallel", "2"]
    )
    assert code == 0, err
    rows = [
        [{k: v for k, v in r.items() if k != "seconds"} for r in read_csv_rows(tmp_path / x / "grid.csv")]
        for x in ("plain", "jobs")
    ]
    assert rows[0] == rows[1] and {r["seed"] for r in rows[1]} == {"0", "1"}


def test_slurm_options_reach_the_job_array_of_every_command(capsys, tiny, tmp_path, monkeypatch):  # noqa: F811
    """reproduce, toy-grid and capacity deep take the same --slurm-* options; what reaches submitit's executor is
    checked at the one place they all pass through (bm.launch.launch), with no cluster."""
    import bm.launch
    from bm.errors import BMError
    from tests.conftest import TINY_ARGS

    seen = []

    def fake_launch(tasks, jobs, logs, wait=True):
        seen.append((len(tasks), jobs.slurm.parameters(), wait))
        if wait:
            raise BMError("no cluster here")
        return [f"7_{i}" for i in range(len(tasks))]

    monkeypatch.setattr(bm.launch, "launch", fake_launch)
    slurm = [
        "--launcher",
        "slurm",
        "--slurm-partition",
        "gpu",
        "--slurm-time",
        "90",
        "--slurm-extra",
        "constraint=h100",
    ]
    args, _ = tiny
    code, stdout, err = run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *args, *slurm])
    assert code == 0 and "7_0" in stdout, err
    code, _, err = run(capsys, ["toy-grid", "--out", str(tmp_path / "toy"), *TINY_ARGS, *slurm])
    assert code == 2 and "no cluster here" in err
    code, _, err = run(
        capsys,
        [
            "capacity",
            "deep",
            "--data-dir",
            args[3],
            "--out",
            str(tmp_path / "cap"),
            "--model",
            "mlp",
            "--n",
            "8",
            "--n-max",
            "8",
            "--steps",
            "1",
            *slurm,
        ],
    )
    assert code == 2 and "no cluster here" in err
    expected = {
        "slurm_gpus_per_task": 1,
        "timeout_min": 90,
        "slurm_array_parallelism": 64,
        "tasks_per_node": 1,
        "slurm_partition": "gpu",
        "slurm_additional_parameters": {"constraint": "h100"},
    }
    assert [s[1:] for s in seen] == [(expected, False), (expected, True), (expected, True)] and seen[0][0] == 4
    asked = json.loads((tmp_path / "out" / "tiny" / "table2" / "jobs.json").read_text())
    assert asked["slurm"]["partition"] == "gpu" and asked["slurm"]["extra"] == {"constraint": "h100"}
    assert list(asked["job_ids"].values()) == ["7_0", "7_1", "7_2", "7_3"] and list(asked["job_ids"]) == asked["runs"]
    # --status asks SLURM (sacct through submitit) for each run's job; here a stand-in answers
    states = dict(zip(asked["runs"], ["PENDING", "RUNNING", "OUT_OF_MEMORY", "CANCELLED"]))
    monkeypatch.setattr(bm.launch, "slurm_states", lambda logs, ids: {r: states[r] for r in ids})
    code, stdout, err = run(capsys, ["reproduce", "table2", "--datasets", "cifar10", *args, "--status"])
    assert code == 0, err
    shown = {line.split()[0]: line.split()[1:] for line in stdout.splitlines()}
    assert [shown[r][0] for r in asked["runs"]] == ["pending", "running", "failed", "failed"]
    assert shown[asked["runs"][2]][-2:] == ["SLURM:", "OUT_OF_MEMORY"]


def test_status_without_a_scheduler_reads_the_task_log_and_the_folders(tmp_path):
    from bm.launch import run_status, slurm_states

    log = tmp_path / "tasks.jsonl"
    log.write_text(
        "\n".join(
            json.dumps({"run": r, "event": e, **({"error": "SIGTERM: stopped"} if e == "stopped" else {})})
            for r, e in [("a", "started"), ("b", "started"), ("b", "failed"), ("c", "started"), ("c", "stopped")]
        )
        + '\n{"run": "a", "ev\n'
    )  # + a torn line
    folders = {r: tmp_path / r for r in "abcd"}
    rows = run_status(folders, dict.fromkeys(folders, 5), log)
    assert [r["state"] for r in rows] == ["running", "failed", "cut short", "pending"]
    assert rows[2]["error"] == "SIGTERM: stopped"
    rows = run_status(folders, dict.fromkeys(folders, 5), log, {"a": "NODE_FAIL", "c": "CANCELLED", "d": "PENDING"})
    assert [(r["state"], r["error"]) for r in rows] == [
        ("failed", "SLURM: NODE_FAIL"),
        ("failed", ""),
        ("cut short", "SIGTERM: stopped"),
        ("pending", ""),
    ]
    assert slurm_states(tmp_path, {"a": "1"}) == {}  # no sacct on this machine: nothing made up


@pytest.mark.parametrize("visible", ["0,2", ""])
def test_a_local_job_sees_the_gpus_its_caller_sees(tmp_path, monkeypatch, visible):
    """submitit's local executor sets CUDA_VISIBLE_DEVICES of each job to the GPUs it was given (none unless told), which
    had made `--launcher local --device cuda` fail on a GPU machine ("CUDA is not available"): a job now sees exactly
    the caller's devices."""
    import functools
    import os

    from bm.jobs import Jobs
    from bm.launch import launch

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    seen = launch([functools.partial(os.getenv, "CUDA_VISIBLE_DEVICES")] * 2, Jobs("local", 2), tmp_path / "logs")
    assert seen == [visible, visible]
