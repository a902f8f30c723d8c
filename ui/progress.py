"""The indexer's `Progress` protocol shown through `gr.Progress`: images done out of the total, and images/s."""

from __future__ import annotations

import time
from collections.abc import Callable

from glimpse.indexer.pipeline import Progress

from .i18n import number, t


class GradioProgress(Progress):
    """Adapts `start/advance/close` to a `gr.Progress` (any callable taking `((done, total), desc=, unit=)`).
    `done` and `unit`: catalog keys (progress.indexed, progress.images), said in `lang`."""

    def __init__(
        self, report: Callable, clock: Callable[[], float] = time.perf_counter, done: str = "progress.indexed",
        unit: str = "progress.images", lang: str = "en",
    ):  # fmt: skip
        self.report = report
        self.clock = clock
        self.lang = lang
        self.verb, self.unit = t(done, lang), t(unit, lang)
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
            return t("progress.nothing", self.lang, unit=self.unit)
        elapsed = self.clock() - self.started
        rate = ""
        if self.done and elapsed > 0:
            rate = t("progress.rate", self.lang, rate=number(self.done / elapsed, self.lang, 1), unit=self.unit)
        return t(
            "progress.line", self.lang, verb=self.verb, done=number(self.done, self.lang),
            total=number(self.total, self.lang), unit=self.unit, rate=rate,
        )  # fmt: skip
