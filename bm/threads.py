"""CPU thread counts for small batched work, chosen by measurement (one policy for the toy trainer and MFTMA).

The toy trainer's products are (M, 256, 16)-sized and MFTMA's anchor solves and L-BFGS fit are as small: threads
gain little on them on a quiet machine and cost up to 100x when another process holds a core, because the
OpenMP threads of every small op wait for the one that is descheduled. `fastest_threads` times a short,
representative slice of the real work at 1 thread and at torch's default and keeps the faster; the slice runs
where the work will run, so a busy machine chooses 1. Results do not depend on the choice (the products are
split over the batch axis; tests compare 1 and N threads bit for bit).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from threadpoolctl import threadpool_limits

__all__ = ["fastest_threads", "using_threads"]

_chosen: dict[str, int] = {}  # key -> threads, for keyed work (timed once per process)


@contextmanager
def using_threads(n: int) -> Iterator[None]:
    """torch's intra-op threads and every BLAS / OpenMP pool of the process (numpy's and scipy's OpenBLAS:
    MFTMA's L-BFGS fit runs there) set to n (n >= 1) inside the block, restored after."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(old)


def fastest_threads(
    work: Callable[[], object], requested: int = 0, repeats: int = 2, key: str | None = None
) -> tuple[int, dict[int, float]]:
    """(threads, {threads: best seconds}) for `work`: `requested` if it is >= 1 (no timing), else the faster of
    1 and torch's default, each timed `repeats` times after a warm-up call at each (the first call at a new
    thread count pays one-off costs), alternating so that a drift of a shared machine hits both. One default
    thread: 1, untimed. With a `key`, the first timing is kept for the process (later calls with that key
    reuse it: for work too short to be timed every time, such as one MFTMA call)."""
    default = torch.get_num_threads()
    if requested >= 1 or default == 1:
        return (requested if requested >= 1 else 1), {}
    if key in _chosen:
        return _chosen[key], {}
    candidates = (1, default)
    seconds = {n: float("inf") for n in candidates}
    for round_ in range(repeats + 1):  # round 0 is the warm-up
        for n in candidates:
            with using_threads(n):
                start = time.perf_counter()
                work()
                if round_:
                    seconds[n] = min(seconds[n], time.perf_counter() - start)
    best = min(candidates, key=lambda n: (seconds[n], n))
    if key is not None:
        _chosen[key] = best
    return best, seconds
