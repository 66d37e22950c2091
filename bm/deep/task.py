"""A deep run as a picklable job for `bm.launch`: train (or resume, or skip) one config into one folder."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from bm.deep.config import DeepTrainConfig
from bm.deep.datasets import load_dataset
from bm.deep.loop import Interrupted
from bm.deep.train import train_or_resume
from bm.launch import submitit_module
from bm.plugins import load_plugins
from bm.runs import append_line

__all__ = ["TrainTask"]


class TrainTask:
    """One run as a picklable job: train (or resume, or skip) `config` into `folder` (on the config's own CPU
    threads); logs to `log`."""

    def __init__(self, config: DeepTrainConfig, folder: Path, log: Path) -> None:
        self.config, self.folder, self.log = config, Path(folder), Path(log)

    def __call__(self) -> str:
        self._note("started")
        try:
            load_plugins()  # a job in a fresh process: the user's registrations (its data set, model, ...) first
            cfg = self.config
            data = tuple(load_dataset(cfg.dataset, Path(cfg.data_dir), split) for split in ("train", "test"))
            train_or_resume(cfg, self.folder, data)
        except Interrupted as e:  # train saved the exact position
            if e.signum == signal.SIGUSR2 and callable(signal.getsignal(signal.SIGUSR2)):
                os.kill(
                    os.getpid(), signal.SIGUSR2
                )  # train restored submitit's handler: it calls checkpoint() and exits
                time.sleep(600)  # (never reached: the handler runs on return from kill and ends the process)
            self._note("stopped", error=f"{signal.Signals(e.signum).name}: {e}")  # resumable: a rerun continues it
            raise
        except BaseException as e:
            self._note("failed", error=f"{type(e).__name__}: {e}")
            raise
        self._note("finished")
        return str(self.folder)

    def __repr__(self) -> str:
        return f"run {self.folder.name}"

    def checkpoint(self, *args, **kwargs):
        """submitit's requeue hook (SLURM time limit, preemption: SIGUSR2): the same task again. The signal first
        reached train(), which checkpointed the exact position (as for SIGTERM), so the requeued task resumes
        there bit for bit."""
        self._note("requeued")
        return submitit_module().helpers.DelayedSubmission(self)

    def _note(self, event: str, **extra) -> None:
        append_line(
            self.log,
            json.dumps(
                {
                    "run": self.folder.name,
                    "event": event,
                    "time": time.time(),  # one write:
                    "pid": os.getpid(),
                    **extra,
                }
            )
            + "\n",
        )  # tasks do not interleave in a line
