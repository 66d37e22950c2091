"""The training loop's room: a run's state (network, optimizer, generator, position inside an epoch), its
checkpoints (exact to the batch: a signal between batches saves the position and the run resumes bit for bit), the
signals that stop it, and one epoch of optimizer steps (DDP slices, bf16 autocast on CUDA, divergence check)."""

from __future__ import annotations

import math
import signal
from collections.abc import Callable
from dataclasses import dataclass

import torch

from bm.deep.config import DeepTrainConfig
from bm.deep.models import Network, load_weights
from bm.errors import BMError
from bm.runs import RunFolder, atomic_save, read_saved

__all__ = ["STOP_SIGNALS", "DivergedError", "Interrupted", "RunState", "Stop", "train_epoch", "wrapped"]

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR2)  # SIGUSR2: a scheduler's time limit (submitit)


class DivergedError(BMError):
    """The loss became NaN or inf; the last good checkpoint is kept."""


class Interrupted(BMError):
    """SIGTERM, SIGINT or SIGUSR2 arrived; a checkpoint of the exact position was written and the run can be resumed.
    Exit code 128 + the signal's number, the shell convention: 143 for SIGTERM, 130 for SIGINT."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


class Stop:
    """While open, STOP_SIGNALS are caught and remembered (`signum`) instead of ending the process; the loop stops at
    the next batch boundary. Closing restores the previous handlers."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.previous = {s: signal.signal(s, self._caught) for s in STOP_SIGNALS}

    def _caught(self, num: int, _frame) -> None:
        self.signum = num

    def close(self) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)


@dataclass
class RunState:
    """Where a run stands: its network, optimizer and generator, the epochs done and the position inside the next
    (its order, the next batch's offset, the running loss sum and count; None at an epoch's end). Rank 0 saves it."""

    run: RunFolder
    net: Network
    opt: torch.optim.Optimizer
    gen: torch.Generator
    main: bool
    epoch: int = 0
    position: dict | None = None

    CHECKPOINT_KEYS = ("model", "optimizer", "epoch", "position", "generator", "torch_rng")

    @staticmethod
    def read(run: RunFolder, device: torch.device) -> dict:
        """The checkpoint of `run`, read safely (a refused one leaves the folder untouched)."""
        return read_saved(run / RunFolder.CHECKPOINT, RunState.CHECKPOINT_KEYS, device)

    def restore(self, state: dict) -> None:
        """Load a read checkpoint into the network, optimizer, generator and torch's RNG."""
        try:
            load_weights(self.net, state["model"], self.run / RunFolder.CHECKPOINT)
            self.opt.load_state_dict(state["optimizer"])
        except (RuntimeError, KeyError, ValueError, TypeError) as e:
            raise BMError(f"{self.run / RunFolder.CHECKPOINT} is from another model: {e}") from None
        self.gen.set_state(state["generator"].to(self.gen.get_state().device))
        torch.set_rng_state(state["torch_rng"])
        self.epoch, self.position = state["epoch"], state["position"]

    def checkpoint(self, position: dict | None = None) -> None:
        """Save the state after `epoch` epochs (and `position` inside the next), atomically; rank 0 only."""
        if self.main:
            atomic_save(
                self.run / RunFolder.CHECKPOINT,
                {
                    "model": self.net.state_dict(),
                    "optimizer": self.opt.state_dict(),
                    "epoch": self.epoch,
                    "position": position,
                    "generator": self.gen.get_state(),
                    "torch_rng": torch.get_rng_state(),
                },
            )


def wrapped(net: Network, cfg: DeepTrainConfig, ddp) -> torch.nn.Module:
    """The module the loop calls: channels-last on CUDA, DDP (SyncBatchNorm on CUDA) under torchrun, compiled."""
    model = net
    if ddp.device.type == "cuda":
        net.to(memory_format=torch.channels_last)
    if ddp.world > 1:
        if ddp.device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[ddp.device] if ddp.device.type == "cuda" else None
        )
    return torch.compile(model) if cfg.compile else model


def train_epoch(
    state: RunState, model: torch.nn.Module, fetch: Callable, n: int, cfg: DeepTrainConfig, ddp, stop: Stop
) -> tuple[float, int]:
    """The batches of epoch state.epoch + 1 from state.position on (fetch(indices) -> images, targets; n items);
    returns (summed squared error, items seen). A signal between batches checkpoints the exact position and raises
    Interrupted."""
    device, position, epoch = ddp.device, state.position, state.epoch
    autocast = device.type == "cuda" and cfg.bf16
    order = position["order"].to(device)
    total, seen = position["total"], position["seen"]
    for s in range(position["offset"], n, cfg.batch_size):
        if ddp.any(stop.signum is not None):  # between batches: the state is exactly resumable
            state.checkpoint({"order": order.cpu(), "offset": s, "total": total, "seen": seen})
            raise Interrupted(
                f"stopped by signal {stop.signum} in epoch {epoch + 1}; continue with --resume", stop.signum
            )
        idx = order[s : s + cfg.batch_size]
        x, t = fetch(idx)
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        x, t = x[ddp.rank :: ddp.world], t[ddp.rank :: ddp.world]  # this rank's slice of the global batch
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            pred = model(x)
        local = (pred.float() - t).square().sum()
        loss = local * (ddp.world / idx.numel())  # DDP averages over ranks: the global batch mean
        if not math.isfinite(ddp.sum(local.item())):
            raise DivergedError(
                f"loss became {loss.item()} at epoch {epoch + 1}; the last good checkpoint "
                f"is {state.run / RunFolder.CHECKPOINT}"
            )
        state.opt.zero_grad(set_to_none=True)
        loss.backward()
        state.opt.step()
        total += ddp.sum(local.item())
        seen += idx.numel()
    return total, seen
