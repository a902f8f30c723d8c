"""kill -9 at random points of an index run, and the checks that must hold afterwards.

Used by tests/test_faults.py (a short run in the suite) and benchmarks/kill_trials.py (as many as you like).
The indexer runs in a forked child with the parent's already-loaded models, so each trial costs a fraction of
a second instead of a fresh interpreter and model load.
"""

from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from glimpse.indexer.catalog import Catalog
from glimpse.indexer.pipeline import Progress, index_folder
from glimpse.indexer.store import IndexStore
from glimpse.indexer.vectors import vector_files


class _FileProgress(Progress):
    """Appends the number of images committed so far to a file after every batch."""

    def __init__(self, path: Path):
        self.path, self.done = path, 0

    def advance(self, n: int) -> None:
        self.done += n
        with open(self.path, "a") as f:
            f.write(f"{self.done}\n")


def run_in_child(library: Path, index: Path, models, batch_size: int, progress_file: Path) -> int:
    """Fork an indexer; return its pid. The child never returns."""
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            import torch

            torch.set_num_threads(1)
            with IndexStore.open_or_create(index, models.ids(), models.embedder.dim) as store:
                index_folder(library, store, models, batch_size=batch_size, progress=_FileProgress(progress_file))
            code = 0
        finally:
            os._exit(code)
    return pid


@dataclass
class TrialResult:
    delay: float
    reported: int  # images the child said were committed before it died
    committed: int  # rows found in the catalog afterwards
    redone: int  # images the re-run had to process


def check_index(index: Path) -> int:
    """Everything that must hold after a crash. Returns the number of committed rows."""
    import faiss

    created = (index / "manifest.json").exists()  # written once the catalog is created and migrated
    # a catalog left half-created is migrated forward here, as the next run would do
    with Catalog(index / "catalog.db", readonly=created) as catalog:
        assert catalog.integrity_ok()
        if not created:  # killed while creating the index: nothing was committed
            assert catalog.count(status=None) == 0
            return 0
    for path, _ in vector_files(index):
        faiss.read_index(str(path))  # never a torn file
    with IndexStore.open(index) as store:
        embedded = store.catalog.embedded_ids()
        assert sorted(store.vectors().ids().tolist()) == sorted(embedded.tolist())
        return store.catalog.count(status=None)


def kill_trial(library: Path, index: Path, models, total: int, batch_size: int, max_delay: float, rng) -> TrialResult:
    progress = index.parent / f"{index.name}.progress"
    progress.unlink(missing_ok=True)
    delay = rng.uniform(0.0, max_delay)
    pid = run_in_child(library, index, models, batch_size, progress)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    reported = int(progress.read_text().split()[-1]) if progress.exists() and progress.read_text().strip() else 0
    committed = check_index(index) if (index / "catalog.db").exists() else 0
    assert committed >= reported, f"lost committed work: reported {reported}, found {committed}"
    assert committed <= reported + batch_size, "more rows than the child could have committed"
    with IndexStore.open_or_create(index, models.ids(), models.embedder.dim) as store:
        summary = index_folder(library, store, models, batch_size=batch_size)
    assert summary.unchanged == committed and summary.processed == total - committed
    check_index(index)
    return TrialResult(delay, reported, committed, summary.processed)


def run_trials(library: Path, workdir: Path, models, total: int, trials: int, batch_size: int = 2, seed: int = 0):
    rng = random.Random(seed)
    started = time.perf_counter()
    with IndexStore.open_or_create(workdir / "calibrate", models.ids(), models.embedder.dim) as store:
        index_folder(library, store, models, batch_size=batch_size)
    full_run = time.perf_counter() - started
    results = []
    for n in range(trials):
        results.append(kill_trial(library, workdir / f"trial-{n}", models, total, batch_size, full_run * 1.2, rng))
    return results
