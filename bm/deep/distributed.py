"""Data parallelism through torchrun: one process per device, gradients averaged by DDP.

Exactness over a few spare flops: every rank draws the same permutation and augments the whole
global batch with the same generator, then keeps its own slice, so a sample's augmentation does
not depend on the number of processes; each rank's loss is its slice's sum divided by the global
batch size times the world size, so DDP's gradient average is the single-process gradient.
BatchNorm statistics are per rank unless SyncBatchNorm is used, which PyTorch supports on CUDA
only: on CUDA the network is converted, on CPU (gloo) runs match single-process runs exactly only
for networks without BatchNorm (the MLP encoder; tests use it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["Dist", "setup"]


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, value: float) -> float:
        """The sum of a float over ranks."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return float(t)

    def any(self, flag: bool) -> bool:
        return self.sum(float(flag)) > 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


def setup(device: str) -> Dist:
    """A `Dist` for this process: from torchrun's environment (WORLD_SIZE, RANK, LOCAL_RANK) when
    it is set, else a single process on `device`."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    dev = torch.device(device)
    if world == 1:
        return Dist(device=dev)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if dev.type == "cuda":
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return Dist(rank=dist.get_rank(), world=world, device=dev)
