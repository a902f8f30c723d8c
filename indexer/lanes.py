"""Run one batch of model work split across lanes: threads that each own a share of the CPU cores.

On a CPU with few cores, one batch on all cores spends much of the caption decoder's time in OpenMP
fork/join: each of its hundreds of small operations per token waits for every core, and when another program
takes a core for a moment, everything waits (measured on 2 cores: 5 to 10 times slower under a background
load). Two lanes of one thread each run the same work with no cross-core waits at all: as fast on an idle
machine, several times faster on a busy one. The model weights are shared; torch releases the GIL inside
its kernels, so the lanes run in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

MIN_PER_LANE = 4  # a smaller share is not worth a lane


def plan(device: str = "cpu", cores: int | None = None) -> tuple[int, int]:
    """(lanes, torch threads per lane) for `device`: two lanes sharing the cores on a CPU, one on a GPU."""
    if device.startswith("cuda"):
        return 1, max(1, _torch_threads())
    cores = cores or _torch_threads() or os.cpu_count() or 1
    lanes = 2 if cores >= 2 else 1
    return lanes, max(1, cores // lanes)


class Lanes:
    """A thread per lane, each set to `threads` torch threads. Use as a context manager."""

    def __init__(self, lanes: int = 2, threads: int = 1):
        self.lanes, self.threads = max(1, lanes), max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._saved_threads: int | None = None

    def __enter__(self) -> Lanes:
        if self.lanes > 1:
            self._saved_threads = _torch_threads()
            self._pool = ThreadPoolExecutor(
                max_workers=self.lanes, thread_name_prefix="glimpse-lane", initializer=_set_threads,
                initargs=(self.threads,),
            )  # fmt: skip
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            # torch keeps the last thread count as the default for threads created later: restore ours
            _set_threads(self._saved_threads)

    def map(self, work: Callable[[Sequence], tuple], items: Sequence) -> list[tuple]:
        """`work` on contiguous shares of `items`, one share per lane; results in lane order."""
        shares = split(items, self.lanes if self._pool is not None else 1)
        if len(shares) == 1:
            return [work(items)]
        futures = [self._pool.submit(work, share) for share in shares]
        return [f.result() for f in futures]


def split(items: Sequence, lanes: int) -> list[Sequence]:
    """Contiguous, near-equal shares of at least MIN_PER_LANE items (fewer shares when `items` is small)."""
    count = max(1, min(lanes, len(items) // MIN_PER_LANE))
    size, extra = divmod(len(items), count)
    shares, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        shares.append(items[start:end])
        start = end
    return shares


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)
