"""Stage 2 of indexing, the plan: compare a library folder with the catalog, and apply at once what needs no
model (moves, copies of indexed photos, touches, removals, failures, offline marks); what is left is the work.

- unchanged files (same size and mtime) are skipped, and so are failed files until they change; `verify` hashes
  unchanged-looking files again and sends on those whose bytes changed;
- a moved or renamed file is recognized by its content hash and keeps its row, caption and FAISS id;
- a byte-identical copy of an indexed file reuses its results instead of running the models;
- a file that can't be used (a symlink loop, unreadable: any error of its own) is recorded as failed;
- files that vanished are removed; photos only out of sight (their folder could not be listed, or their library
  folder is missing or empty: an unplugged drive) are kept and marked offline, unless `prune`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import FileState, ImageRecord, NewImage
from .errors import LibraryOffline
from .names import readable
from .scan import FileEntry, ScanProblem, file_hash, scan
from .store import IndexStore

log = logging.getLogger(__name__)


class Progress:
    """Progress sink. The CLI plugs in tqdm, the UI gr.Progress; the default says nothing."""

    def start(self, total: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def close(self) -> None: ...

    def hashing(self, files: int, nbytes: int) -> None:
        """Before the content hashing of new and changed files (`files` of them, `nbytes` in all) begins."""

    def hashed(self, nbytes: int) -> None:
        """One more file hashed (`nbytes` long); the hashing is over when `start` is called, or `close`."""


@dataclass
class Summary:
    added: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), this run's new failures
    seconds: float = 0.0
    processed: int = 0  # images that went through the models
    offline_folders: list[tuple[str, int]] = field(default_factory=list)  # (reason, photos) kept though not seen
    verified: int = 0  # unchanged-looking files whose bytes were hashed again (`verify`)

    def fail(self, path: str, reason: str) -> None:
        """Record a new failure, in a form fit to show (a file name that is not UTF-8 gets U+FFFD)."""
        self.failed.append((readable(path), readable(reason)))

    @property
    def rate(self) -> float:
        return self.processed / self.seconds if self.seconds else 0.0

    @property
    def offline(self) -> int:
        """Photos kept, marked offline, because their folder could not be read."""
        return sum(n for _, n in self.offline_folders)

    def as_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "moved": self.moved, "removed": self.removed,
            "unchanged": self.unchanged, "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "seconds": round(self.seconds, 3), "images_per_second": round(self.rate, 3),
            "offline": self.offline, "offline_folders": [{"reason": r, "photos": n} for r, n in self.offline_folders],
            "verified": self.verified,
        }  # fmt: skip


@dataclass
class WorkItem:
    entry: FileEntry
    hash: str
    replaces: int | None = None  # catalog id of the older version of this file
    keep: ImageRecord | None = None  # the older version, when a person wrote its caption/labels: they are kept


@dataclass
class Plan:
    work: list[WorkItem] = field(default_factory=list)
    unchanged: int = 0


class Planner:
    """One plan of one library folder (see the module's docstring); `run()` returns it."""

    def __init__(
        self, root: Path, store: IndexStore, root_id: int, summary: Summary, prune: bool = False,
        verify: bool = False, progress: Progress | None = None,
    ):  # fmt: skip
        self.root, self.store, self.catalog, self.root_id = root, store, store.catalog, root_id
        self.summary, self.prune, self.verify = summary, prune, verify
        self.progress = progress or Progress()
        self.known = self.catalog.file_states(root_id)
        self.plan = Plan()
        self.new: list[FileEntry] = []
        self.changed: list[tuple[FileEntry, FileState]] = []
        self.recheck: list[tuple[FileEntry, FileState]] = []  # unchanged-looking files to hash again (`verify`)
        self.unusable: list[ScanProblem] = []

    def run(self) -> Plan:
        seen, hidden, looked = self._look()
        vanished, gone = self._keep_out_of_sight(seen, hidden, looked)
        to_hash = [e for e, _ in self.recheck] + [e for e, _ in self.changed] + self.new
        self.progress.hashing(len(to_hash), sum(e.size for e in to_hash))
        with self.catalog.transaction():
            self._record_unusable()
            self._hash_recheck()
            self._hash_changed()
            self._hash_new(vanished, gone)
            self.catalog.delete(gone)
            self.summary.removed = len(gone)
        return self.plan

    def _look(self) -> tuple[set[str], list[tuple[str, str]], bool]:
        """Scan the folder and sort its files: (paths seen, hidden folders, whether anything was there)."""
        problems: list[ScanProblem] = []
        root = self.root
        entries = list(scan(root, exclude=(self.store.folder,), problems=problems)) if root.is_dir() else []
        seen: set[str] = set()
        for entry in entries:
            seen.add(entry.rel)
            state = self.known.get(entry.rel)
            if state is None:
                self.new.append(entry)
            elif state.size == entry.size and state.mtime_ns == entry.mtime_ns:
                if self.verify:
                    self.recheck.append((entry, state))
                else:
                    self.plan.unchanged += 1
            else:
                self.changed.append((entry, state))
        self.unusable = [p for p in problems if not p.folder]
        seen.update(p.rel for p in self.unusable)
        looked = bool(entries or problems or all(rel in seen for rel in self.known))
        return seen, _hidden_folders(root, problems, looked), looked

    def _keep_out_of_sight(self, seen: set[str], hidden: list[tuple[str, str]], looked: bool):
        """Mark offline what can't be seen (or leave it to be removed with `prune`); raise LibraryOffline when the
        whole folder is out of sight. Returns (vanished photos by hash, ids to remove)."""
        unseen = {rel: s for rel, s in self.known.items() if rel not in seen}
        offline: dict[str, list[int]] = {}  # reason -> ids of photos kept though out of sight
        for rel, state in unseen.items():
            reason = next((why for folder, why in hidden if folder == "." or rel.startswith(folder + "/")), None)
            if reason is not None and not self.prune:
                offline.setdefault(reason, []).append(state.id)
        kept = {i for ids in offline.values() for i in ids}
        back = [s.id for rel, s in self.known.items() if rel in seen and s.offline is not None]
        with self.catalog.transaction():
            self.catalog.set_offline(back, None)
            for reason, ids in offline.items():
                self.catalog.set_offline(ids, reason)
                self.summary.offline_folders.append((reason, len(ids)))
        whole = next((why for folder, why in hidden if folder == "."), None)
        if whole is not None and not self.prune:
            raise LibraryOffline(str(self.root), whole, len(kept))
        vanished = {s.hash: s for s in unseen.values() if s.id not in kept and s.status == "ok" and s.hash}
        return vanished, {s.id for s in unseen.values() if s.id not in kept}

    def _hash(self, entry: FileEntry, replaces: int | None = None) -> str | None:
        digest = _hash_or_fail(entry, self.summary, self.catalog, self.root_id, replaces=replaces)
        self.progress.hashed(entry.size)
        return digest

    def _record_unusable(self) -> None:
        for problem in self.unusable:
            state = self.known.get(problem.rel)
            row = NewImage(problem.rel, problem.path.name, problem.size, problem.mtime_ns, error=problem.reason)
            if state and state.status == "failed" and (state.size, state.mtime_ns) == (row.size, row.mtime_ns):
                self.plan.unchanged += 1  # failed before and not changed since: retried when it changes
            else:
                _record_failure(self.catalog, self.root_id, self.summary, row, replaces=state.id if state else None)

    def _hash_recheck(self) -> None:
        for entry, state in self.recheck:
            digest = self._hash(entry, replaces=state.id)
            self.summary.verified += 1
            if digest is None:
                continue
            if digest == state.hash:
                self.plan.unchanged += 1
            else:
                log.info("%s changed though its size and mtime did not: processing it again", entry.rel)
                self.plan.work.append(WorkItem(entry, digest, replaces=state.id, keep=_edited(self.catalog, state)))

    def _hash_changed(self) -> None:
        for entry, state in self.changed:
            digest = self._hash(entry, replaces=state.id)
            if digest is None:
                continue
            if digest == state.hash and state.status == "ok":
                self.catalog.touch(state.id, entry.size, entry.mtime_ns)
                self.plan.unchanged += 1
            else:
                self.plan.work.append(WorkItem(entry, digest, replaces=state.id, keep=_edited(self.catalog, state)))

    def _hash_new(self, vanished: dict, gone: set[int]) -> None:
        catalog = self.catalog
        for entry in self.new:
            digest = self._hash(entry)
            if digest is None:
                continue
            if (moved := vanished.pop(digest, None)) is not None:
                catalog.move(moved.id, entry.rel, entry.path.name, entry.size, entry.mtime_ns)
                gone.discard(moved.id)
                self.summary.moved += 1
            elif (twin := catalog.find_by_hash(digest)) is not None:
                row = catalog.copy_results(twin.id)
                row.path, row.name, row.size, row.mtime_ns, row.hash = (
                    entry.rel, entry.path.name, entry.size, entry.mtime_ns, digest
                )  # fmt: skip
                catalog.insert(self.root_id, row)
                self.summary.added += 1
            else:
                self.plan.work.append(WorkItem(entry, digest))


def _edited(catalog, state: FileState) -> ImageRecord | None:
    """The catalog's row for `state` when a person wrote its caption or labels (to keep them), else None."""
    if state.status != "ok":
        return None
    record = catalog.get([state.id]).get(state.id)
    return record if record is not None and record.human else None


def _hidden_folders(root: Path, problems: Sequence[ScanProblem], looked: bool) -> list[tuple[str, str]]:
    """(relative folder, reason) for each folder whose photos are out of sight: "." when it is the whole library
    folder (missing, unreadable, or empty while `looked` is False: nothing found, though photos are expected)."""
    if not root.is_dir():
        return [(".", f"library folder {root} is missing")]
    if not looked:
        return [(".", f"library folder {root} is empty (not mounted?)")]
    hidden = []
    for problem in problems:
        if problem.folder and (problem.rel == "." or problem.path.is_relative_to(root)):
            why = problem.reason.removeprefix("could not read folder: ")
            where = "library folder" if problem.rel == "." else "folder"
            hidden.append((problem.rel, f"could not read {where} {problem.path}: {why}"))
    return hidden


def _hash_or_fail(entry: FileEntry, summary: Summary, catalog, root_id: int, replaces: int | None = None):
    """The file's content hash; a file that can't be read is recorded as failed (and None returned)."""
    try:
        return file_hash(entry.path)
    except FileNotFoundError:
        return None  # vanished since the scan: the next run removes it
    except Exception as e:  # noqa: BLE001 - OSError mostly; whatever it is, this file fails, the run goes on
        why = (e.strerror or e) if isinstance(e, OSError) else f"{type(e).__name__}: {e}"
        row = NewImage(entry.rel, entry.path.name, entry.size, entry.mtime_ns, error=f"cannot read: {why}")
        _record_failure(catalog, root_id, summary, row, replaces)
        return None


def _record_failure(catalog, root_id: int, summary: Summary, row: NewImage, replaces: int | None = None) -> None:
    """A file that can't be used: its failed row (with the reason, replacing any older row), and in the summary."""
    if replaces is not None:
        catalog.delete([replaces])
    catalog.insert(root_id, row)
    summary.fail(row.path, row.error)
