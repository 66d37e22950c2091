"""How independent pieces of work run (in this process, as local subprocesses, as a SLURM job array): the spec
every command that launches jobs takes. Torch-free; bm.launch runs the jobs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from bm.errors import BMError

__all__ = ["LAUNCHERS", "Jobs", "SlurmOptions"]

LAUNCHERS = ("debug", "local", "slurm")


@dataclass(frozen=True)
class SlurmOptions:
    partition: str | None = None
    gpus_per_task: int = 1
    time_min: int = 24 * 60
    account: str | None = None
    array_parallelism: int = 64
    extra: dict[str, str] = field(default_factory=dict)  # any other sbatch option, KEY=VALUE

    def parameters(self) -> dict:
        params = {"slurm_gpus_per_task": self.gpus_per_task, "timeout_min": self.time_min,
                  "slurm_array_parallelism": self.array_parallelism, "tasks_per_node": 1}
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
    `max_parallel` alive) or slurm (one job array submitted with `slurm`). Checked on construction (one BMError)."""

    launcher: str
    max_parallel: int = 2
    slurm: SlurmOptions = field(default_factory=SlurmOptions)

    def __post_init__(self) -> None:
        if self.launcher not in LAUNCHERS:
            raise BMError(f"unknown launcher {self.launcher!r}; choose one of {', '.join(LAUNCHERS)}")
        if self.max_parallel < 1:
            raise BMError(f"--max-parallel must be >= 1, got {self.max_parallel}")

    @property
    def threads(self) -> int | None:
        """CPU threads per job: local jobs share this machine's cores (measured: two ResNet jobs on 2 cores with
        torch's default 2 threads each ran 10x slower than one alone); elsewhere each job has its own (None: torch's
        default)."""
        return max(1, (os.cpu_count() or 1) // self.max_parallel) if self.launcher == "local" else None
