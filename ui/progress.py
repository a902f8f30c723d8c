"""The indexer's `Progress` protocol shown through `gr.Progress`: images done out of the total, and images/s."""

from __future__ import annotations

import time
from collections.abc import Callable

from glimpse.indexer.pipeline import Progress


class GradioProgress(Progress):
    """Adapts `start/advance/close` to a `gr.Progress` (any callable taking `((done, total), desc=, unit=)`)."""

    def __init__(
        self, report: Callable, clock: Callable[[], float] = time.perf_counter, done: str = "indexed",
        unit: str = "images",
    ):  # fmt: skip
        self.report = report
        self.clock = clock
        self.verb, self.unit = done, unit
        self.total = self.done = 0
        self.started = 0.0

    def start(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, self.clock()
        self.report((0, total), desc=self.describe(), unit=self.unit)

    def advance(self, n: int) -> None:
        self.done += n
        self.report((self.done, self.total), desc=self.describe(), unit=self.unit)

    def describe(self) -> str:
        if not self.total:
            return f"nothing to do: no {self.unit}"
        elapsed = self.clock() - self.started
        rate = f" · {self.done / elapsed:.1f} {self.unit}/s" if self.done and elapsed > 0 else ""
        return f"{self.verb} {self.done} of {self.total} {self.unit}{rate}"
