"""How independent pieces of work run (in this process, as local subprocesses, as a SLURM job array): the spec
every command that launches jobs takes. Torch-free; bm.launch runs the jobs."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bm.configs import setting
from bm.errors import BMError

__all__ = ["LAUNCHERS", "Jobs", "SlurmOptions"]

LAUNCHERS = ("debug", "local", "slurm")


@dataclass(frozen=True)
class SlurmOptions:
    partition: str | None = setting(None, flag="slurm-partition", help="SLURM partition.")
    gpus_per_task: int = setting(1, flag="slurm-gpus-per-task", help="SLURM GPUs per task.")
    time_min: int = setting(
        24 * 60,
        flag="slurm-time",
        help="SLURM time limit per task, minutes (a task reaching it is checkpointed and requeued).",
    )
    account: str | None = setting(None, flag="slurm-account", help="SLURM account.")
    array_parallelism: int = setting(
        64, flag="slurm-array-parallelism", help="SLURM: tasks of the array running at once."
    )
    extra: dict[str, str] = setting(
        factory=dict, flag="slurm-extra", help="Any other sbatch option as KEY=VALUE (repeatable)."
    )

    def parameters(self) -> dict:
        params: dict[str, object] = {
            "slurm_gpus_per_task": self.gpus_per_task,
            "timeout_min": self.time_min,
            "slurm_array_parallelism": self.array_parallelism,
            "tasks_per_node": 1,
        }
        if self.partition:
            params["slurm_partition"] = self.partition
        if self.account:
            params["slurm_account"] = self.account
        if self.extra:
            params["slurm_additional_parameters"] = dict(self.extra)
        return params


@dataclass(frozen=True)
class Jobs:
    """How independent pieces of work run: `launcher` debug (in this process), local (subprocesses, at most
    `max_parallel` alive) or slurm (one job array submitted with `slurm`); None: none, the work runs in the calling
    process. Checked on construction (one BMError)."""

    launcher: str | None = setting(
        None,
        help="Run the independent pieces as submitit jobs: debug (in this process), "
        "local (subprocesses, --max-parallel at once) or slurm (one job array, with the "
        "--slurm-* options). Needs the slurm extra.",
    )
    max_parallel: int = setting(2, help="--launcher local: jobs at once.")
    slurm: SlurmOptions = setting(factory=SlurmOptions, help="The SLURM parameters.")

    def __post_init__(self) -> None:
        if self.launcher is not None and self.launcher not in LAUNCHERS:
            raise BMError(f"unknown launcher {self.launcher!r}; choose one of {', '.join(LAUNCHERS)}")
        if self.max_parallel < 1:
            raise BMError(f"--max-parallel must be >= 1, got {self.max_parallel}")
        if self.launcher != "slurm" and self.slurm != SlurmOptions():
            raise BMError("--slurm-* options apply to --launcher slurm")

    @property
    def threads(self) -> int | None:
        """CPU threads per job: local jobs share this machine's cores (measured: two ResNet jobs on 2 cores with
        torch's default 2 threads each ran 10x slower than one alone); elsewhere each job has its own (None: torch's
        default)."""
        return max(1, (os.cpu_count() or 1) // self.max_parallel) if self.launcher == "local" else None
