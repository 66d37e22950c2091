"""Independent pieces of work as jobs through submitit: `debug` (in this process), `local` (subprocesses, at most
`max_parallel` at once) or `slurm` (one job array). Used by `bm reproduce` (its runs), `bm toy-grid` (its seeds) and
`bm capacity deep` (the runs of each search round).

Generic: a task is any picklable callable (a deep run's is `bm.deep.task.TrainTask`, a toy seed's
`bm.toy.grid.SeedTask`); this module knows nothing of what they train. A deep run's task loads its data and calls
`train_or_resume`, so a finished run is never trained again and one cut short resumes bit for bit. Stop signals reach
`train()`, which writes the exact position first:
- SIGUSR2 (submitit's `--signal=USR2@90` before the SLURM time limit, or a preemption notice): the task hands the
  signal on to submitit, whose `checkpoint` hook requeues the same task; it resumes from the saved position.
- SIGTERM (`scancel`, or a preemption that SLURM requeues itself, PreemptMode=REQUEUE): the task ends "stopped"
  without asking for a requeue, so that a cancel stays a cancel; SLURM's own requeue, or running the same preset
  again, reruns the same task, which resumes from the saved position.
Every task appends its start, end and outcome to OUT/<scale>/<preset>/tasks.jsonl, which `--status` reads with the
run folders and, after a SLURM launch, the jobs' states (`slurm_states`). submitit is the optional extra `slurm`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bm.errors import BMError
from bm.jobs import Jobs

__all__ = ["launch", "run_status", "slurm_states", "submitit_module", "visible_gpus"]


def submitit_module():
    try:
        import submitit
    except ImportError:
        raise BMError("--launcher needs submitit: pip install 'benign-memorization[slurm]'") from None
    return submitit


def launch(tasks: list, jobs: Jobs, logs: Path, wait: bool = True) -> list:
    """Run the tasks (picklable callables) as `jobs`; returns their results in order, once all ended (failed ones are
    reported together, after the others finished). slurm with `wait=False` returns the job ids at once."""
    submitit = submitit_module()
    logs.mkdir(parents=True, exist_ok=True)
    if jobs.launcher == "slurm":
        executor = submitit.AutoExecutor(folder=logs, cluster="slurm")
        executor.update_parameters(name="bm", **jobs.slurm.parameters())
        with executor.batch():  # one job array; each job's callable is its task, so submitit can requeue it
            submitted = [executor.submit(task) for task in tasks]
        if not wait:
            return [job.job_id for job in submitted]
        return _results(list(zip(tasks, submitted)), len(tasks))
    debug = jobs.launcher == "debug"
    executor = (submitit.DebugExecutor if debug else submitit.LocalExecutor)(folder=logs)
    if not debug:  # submitit hides every GPU from a local job unless told which it may see: all of ours
        gpus = visible_gpus()
        executor.update_parameters(timeout_min=7 * 24 * 60, gpus_per_node=len(gpus), visible_gpus=gpus)
    pending, running, ended = list(tasks), [], []
    while pending or running:  # submitit's LocalExecutor has no cap of its own: keep at most max_parallel alive
        while pending and len(running) < jobs.max_parallel:
            task = pending.pop(0)
            running.append((task, executor.submit(task)))
            if debug:
                break  # a debug job runs when its result is asked for
        for pair in list(running):
            if debug or pair[1].done():
                running.remove(pair)
                ended.append(pair)
        time.sleep(0 if debug else 0.5)
    ended.sort(key=lambda pair: tasks.index(pair[0]))
    return _results(ended, len(tasks))


def visible_gpus() -> tuple[int, ...]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES numbers (that variable's list where it is set, else
    every device torch counts); a local job sees the same ones, so `--device cuda` reaches them."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return tuple(int(d) for d in listed.split(",") if d.strip().isdigit())
    import torch

    return tuple(range(torch.cuda.device_count()))


def _results(pairs: list, total: int) -> list:
    """The jobs' results in order (waiting for each); the failed ones named together in one BMError."""
    results, failed = [], []
    for task, job in pairs:
        try:
            results.append(job.result())
        except Exception as e:  # the others go on; all failures are reported at the end
            failed.append(f"{task} ({type(e).__name__}; log {job.paths.stderr})")
    if failed:
        raise BMError(f"{len(failed)} of {total} jobs failed: " + "; ".join(failed))
    return results


QUEUED = ("PENDING", "REQUEUED", "REQUEUE_HOLD", "CONFIGURING", "RESIZING", "SUSPENDED")
ALIVE = ("RUNNING", "COMPLETING", "STAGE_OUT")
ENDED_BADLY = ("FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "CANCELLED", "PREEMPTED", "BOOT_FAIL", "DEADLINE")


def slurm_states(logs: Path, job_ids: dict[str, str]) -> dict[str, str]:
    """run -> SLURM state (sacct, through submitit) of the job that trains it; {} where SLURM cannot be asked."""
    try:
        submitit = submitit_module()
        jobs = {run: submitit.SlurmJob(logs, job_id) for run, job_id in job_ids.items()}  # all registered first:
        states = {run: job.state for run, job in jobs.items()}  # the first state asks sacct for every one at once
    except Exception:  # no sacct here, or no submitit: the run folders and tasks.jsonl still tell most of it
        return {}
    return {run: state.split()[0] for run, state in states.items() if state and state != "UNKNOWN"}


def run_status(
    folders: dict[str, Path], epochs: dict[str, int], log: Path, scheduler: dict[str, str] | None = None
) -> list[dict]:
    """Per run: finished (all epochs), running, failed, cut short (some epochs and no task alive, or stopped by a
    signal) or pending; from the run folders, tasks.jsonl and, where known, the scheduler's state of its job
    (`scheduler`: run -> SLURM state; it catches what no task could write down: queued, killed, out of memory)."""
    from bm.runs import RunFolder, read_jsonl

    last = {e["run"]: e for e in read_jsonl(log)[0] if isinstance(e.get("run"), str)}  # a torn or foreign line: nothing
    rows = []
    for name, folder in folders.items():
        done = RunFolder(folder).finished_epochs()
        event = last.get(name, {}).get("event")
        error = last.get(name, {}).get("error", "")
        job = (scheduler or {}).get(name)
        if done >= epochs[name]:
            state = "finished"
        elif job in QUEUED:
            state = "pending"
        elif job in ALIVE:
            state = "running"
        elif job in ENDED_BADLY:
            state, error = ("cut short" if event == "stopped" else "failed"), error or f"SLURM: {job}"
        else:
            state = (
                "running"
                if event in ("started", "requeued")
                else "failed"
                if event == "failed"
                else "cut short"
                if done or event == "stopped"
                else "pending"
            )
        rows.append({"run": name, "state": state, "epochs": f"{done}/{epochs[name]}", "error": error})
    return rows
