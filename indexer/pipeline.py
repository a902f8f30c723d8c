"""The indexing pipeline: scan -> plan -> decode -> caption and classify -> embed -> write.

Each stage is a plain function over a batch, so decoding stays separable from inference and the same stages
could run on another engine. `index_folder` wires them together for one library root:

- unchanged files (same size and mtime) are skipped, and so are failed files until they change;
- a moved or renamed file is recognized by its content hash and keeps its caption (and FAISS id);
- a byte-identical copy of an indexed file reuses its results instead of running the models;
- new and changed files go through the models in batches; every batch is one SQLite transaction, so an
  interrupted run loses at most one batch and resumes where it stopped;
- files that vanished are removed; photos that are only out of sight (their folder could not be listed, their
  library folder is missing or empty: an unplugged drive, an unmounted share) are kept and marked offline, and
  come back as they were when they reappear (`prune` removes them instead);
- a file that can't be used (unreadable, undecodable, a symlink loop: any error of its own) is recorded as
  failed with its reason, and the run goes on.

A file whose bytes change while its size and mtime stay the same is not noticed (as in rclip); `verify` re-hashes
every file to find those.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .catalog import FileState, NewImage
from .config import DEFAULT_BATCH_SIZE
from .decode import DecodedImage, decode
from .errors import LibraryOffline, UnreadableImage
from .hierarchy import KINDS_IN_TEXT, LABEL_MIN_SCORE, LABELS_IN_TEXT, confident, kinds  # noqa: F401 - see README
from .lanes import Lanes
from .lanes import plan as lane_plan
from .models import Models
from .names import readable
from .scan import FileEntry, ScanProblem, file_hash, scan
from .store import IndexStore
from .types import Label

log = logging.getLogger(__name__)


class Progress:
    """Progress sink. The CLI plugs in tqdm, the UI gr.Progress; the default says nothing."""

    def start(self, total: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def close(self) -> None: ...


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


TEXT_VERSION = 2  # the recipe of document_text: 1 caption and labels; 2 also the labels' nearest kinds


def document_text(caption: str, labels: Sequence[Label], version: int = TEXT_VERSION) -> str:
    """The text that gets embedded for an image: its caption plus its confident labels, then (from version 2) the
    nearest KINDS_IN_TEXT kinds of those labels ("golden retriever" -> "retriever, sporting dog, hunting dog")."""
    names = [lb.name for lb in confident(labels)]
    if version >= 2:
        names += kinds(labels)[:KINDS_IN_TEXT]
    return f"{caption}. {', '.join(names)}" if names else caption


def refresh_embeddings(store: IndexStore, embedder, batch_size: int = 256) -> int:
    """Re-embed the rows whose caption embeddings an older recipe made (see TEXT_VERSION), from their stored caption
    and labels: no image is read or captioned again. Call under the writer lock; returns how many were re-embedded.
    An interrupted run leaves the old version recorded, so the next one starts over."""
    catalog = store.catalog
    if catalog.text_version() >= TEXT_VERSION:
        return 0
    done, after = 0, 0
    while rows := catalog.embedded_texts(after, batch_size):
        vectors = embedder.embed_documents([document_text(caption or "", labels) for _, caption, labels in rows])
        index = store.vectors()  # in step with the catalog before this batch
        with catalog.transaction():
            for (image_id, _, _), vector in zip(rows, vectors, strict=True):
                catalog.set_embedding(image_id, vector)
        # FAISS is kept in step by ids (a changed photo gets a new row), and these keep theirs: drop their old
        # vectors, so the next sync adds the new ones from the catalog
        index.remove(np.fromiter((image_id for image_id, _, _ in rows), dtype=np.int64, count=len(rows)))
        done, after = done + len(rows), rows[-1][0]
    with catalog.transaction():
        catalog.set_text_version(TEXT_VERSION)
    if done:
        log.info("re-embedded %d captions with their labels' kinds", done)
        store.save_vectors()
    return done


# -- stages -------------------------------------------------------------------------------------------------
@dataclass
class Prepared:
    """A decoded image with each model's input already computed (in a decoding thread)."""

    decoded: DecodedImage  # the image, its original size, date and layout descriptor
    caption_input: Any  # `models.captioner.preprocess(image)`
    classify_input: Any  # `models.classifier.preprocess(image)`


def decode_one(item: WorkItem) -> DecodedImage | str:
    """The decoded image, or the reason the file could not be used."""
    try:
        return decode(item.entry.path)
    except UnreadableImage as e:
        return str(e)
    except Exception as e:  # noqa: BLE001 - whatever one file does to the decoder, the run goes on
        log.warning("cannot decode %s", item.entry.path, exc_info=True)
        return f"cannot decode: {type(e).__name__}: {e}"


def prepare_one(item: WorkItem, models: Models) -> Prepared | str:
    """Decode, then compute both models' inputs: all of it PIL and numpy, so it overlaps with inference."""
    decoded = decode_one(item)
    if isinstance(decoded, str):
        return decoded
    image = decoded.image
    try:
        return Prepared(decoded, models.captioner.preprocess(image), models.classifier.preprocess(image))
    except Exception as e:  # noqa: BLE001 - one odd image must not end the run
        log.warning("cannot prepare %s for the models", item.entry.path, exc_info=True)
        return f"cannot prepare for the models: {type(e).__name__}: {e}"


def infer_batch(images: Sequence[Prepared], models: Models) -> tuple[list[str], list[list[Label]], np.ndarray]:
    """Captions, top labels and image features (the classifier: one pass for labels and features)."""
    labels, features = models.classifier.classify_with_features([im.classify_input for im in images])
    return models.captioner.caption([im.caption_input for im in images]), labels, features


def embed_batch(captions: Sequence[str], labels: Sequence[Sequence[Label]], models: Models) -> np.ndarray:
    return models.embedder.embed_documents([document_text(c, lb) for c, lb in zip(captions, labels, strict=True)])


def write_batch(
    store: IndexStore,
    root_id: int,
    items: Sequence[WorkItem],
    prepared: Sequence[Prepared | str],
    captions: Sequence[str],
    labels: Sequence[Sequence[Label]],
    vectors: np.ndarray,
    features: np.ndarray,
) -> list[tuple[str, str]]:
    """One transaction: new rows for the batch, old versions of changed files gone. `prepared` has each
    item's image or the reason it could not be used; the results are those of its images, in order. Returns
    the (path, reason) of the files that failed, fit to show."""
    results = iter(zip(captions, labels, vectors, features, strict=True))
    failed = []
    with store.catalog.transaction():
        for item, p in zip(items, prepared, strict=True):
            e = item.entry
            row = NewImage(path=e.rel, name=e.path.name, size=e.size, mtime_ns=e.mtime_ns, hash=item.hash)
            if isinstance(p, str):
                row.error = p
                failed.append((readable(e.rel), readable(p)))
            else:
                d = p.decoded
                row.caption, row.labels, row.embedding, row.image_embedding = next(results)
                row.width, row.height, row.taken_at, row.layout = d.width, d.height, d.taken_at, d.layout
            if item.replaces is not None:
                store.catalog.delete([item.replaces])
            store.catalog.insert(root_id, row)
    return failed


# -- orchestration ------------------------------------------------------------------------------------------
@dataclass
class Plan:
    work: list[WorkItem] = field(default_factory=list)
    unchanged: int = 0


def index_folder(
    root: str | Path,
    store: IndexStore,
    models: Models,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 2,
    progress: Progress | None = None,
    lanes: int | None = None,
    prune: bool = False,
    verify: bool = False,
) -> Summary:
    """Bring the index up to date with the folder `root`. Takes the index's writer lock for the whole run.

    `workers` threads decode and preprocess the next batch while the models work on this one; each batch is
    split across `lanes` inference threads (default: see `lanes.plan`) and committed as one transaction.

    Photos under a folder that could not be listed are kept and marked offline. When `root` itself is missing,
    empty or unreadable while the index holds photos under it, they are marked offline and LibraryOffline is
    raised. `prune` removes such photos instead. `verify` re-hashes files whose size and mtime did not change and
    re-processes those whose bytes did.
    """
    progress = progress or Progress()
    started = time.perf_counter()
    root = Path(root).expanduser().resolve()
    if not root.is_dir() and store.catalog.root_id(str(root)) is None:
        raise NotADirectoryError(f"{root} is not a folder")
    summary = Summary()
    with store.writer_lock():
        catalog = store.catalog
        refresh_embeddings(store, models.embedder, batch_size=max(batch_size, 256))
        root_id = catalog.root_id(str(root), create=True)
        plan = _plan(root, store, root_id, summary, prune=prune, verify=verify)
        summary.unchanged = plan.unchanged
        progress.start(len(plan.work))
        try:
            lane_count, lane_threads = lane_plan(models.captioner.device, lanes=lanes)
            with (
                ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="glimpse-decode") as pool,
                Lanes(lane_count, lane_threads) as lane_pool,
            ):
                prepare = functools.partial(prepare_one, models=models)
                for items, prepared in _prefetch(_batches(plan.work, batch_size), pool, prepare):
                    good = [p for p in prepared if not isinstance(p, str)]
                    captions, labels, features = _infer_in_lanes(good, models, lane_pool)
                    vectors = embed_batch(captions, labels, models)
                    failed = write_batch(store, root_id, items, prepared, captions, labels, vectors, features)
                    summary.failed += failed
                    summary.processed += len(items)
                    for item, p in zip(items, prepared, strict=True):
                        if not isinstance(p, str):
                            if item.replaces is None:
                                summary.added += 1
                            else:
                                summary.updated += 1
                    progress.advance(len(items))
        finally:
            progress.close()
            store.save_vectors()
    summary.seconds = time.perf_counter() - started
    return summary


def _plan(
    root: Path, store: IndexStore, root_id: int, summary: Summary, prune: bool = False, verify: bool = False
) -> Plan:
    """Compare the folder with the catalog; apply moves, copies, touches, removals and offline marks right away."""
    catalog = store.catalog
    known = catalog.file_states(root_id)
    seen: set[str] = set()
    new: list[FileEntry] = []
    changed: list[tuple[FileEntry, FileState]] = []
    recheck: list[tuple[FileEntry, FileState]] = []  # unchanged-looking files to hash again (`verify`)
    plan = Plan()
    problems: list[ScanProblem] = []
    entries = list(scan(root, exclude=(store.folder,), problems=problems)) if root.is_dir() else []
    for entry in entries:
        seen.add(entry.rel)
        state = known.get(entry.rel)
        if state is None:
            new.append(entry)
        elif state.size == entry.size and state.mtime_ns == entry.mtime_ns:
            if verify:
                recheck.append((entry, state))
            else:
                plan.unchanged += 1
        else:
            changed.append((entry, state))
    unusable = [p for p in problems if not p.folder]
    seen.update(p.rel for p in unusable)
    unseen = {rel: s for rel, s in known.items() if rel not in seen}
    hidden = _hidden_folders(root, problems, bool(entries or problems or not unseen))
    offline: dict[str, list[int]] = {}  # reason -> ids of photos kept though out of sight
    for rel, state in unseen.items():
        reason = next((why for folder, why in hidden if folder == "." or rel.startswith(folder + "/")), None)
        if reason is not None and not prune:
            offline.setdefault(reason, []).append(state.id)
    kept = {i for ids in offline.values() for i in ids}
    vanished = {s.hash: s for s in unseen.values() if s.id not in kept and s.status == "ok" and s.hash}
    gone = {s.id for s in unseen.values() if s.id not in kept}
    back = [s.id for rel, s in known.items() if rel in seen and s.offline is not None]

    with catalog.transaction():
        catalog.set_offline(back, None)
        for reason, ids in offline.items():
            catalog.set_offline(ids, reason)
            summary.offline_folders.append((reason, len(ids)))
    whole = next((why for folder, why in hidden if folder == "."), None)
    if whole is not None and not prune:
        raise LibraryOffline(str(root), whole, len(kept))

    with catalog.transaction():
        for problem in unusable:
            state = known.get(problem.rel)
            row = NewImage(problem.rel, problem.path.name, problem.size, problem.mtime_ns, error=problem.reason)
            if state and state.status == "failed" and (state.size, state.mtime_ns) == (row.size, row.mtime_ns):
                plan.unchanged += 1  # failed before and not changed since: retried when it changes
            else:
                _record_failure(catalog, root_id, summary, row, replaces=state.id if state else None)
        for entry, state in recheck:
            digest = _hash_or_fail(entry, summary, catalog, root_id, replaces=state.id)
            summary.verified += 1
            if digest is None:
                continue
            if digest == state.hash:
                plan.unchanged += 1
            else:
                log.info("%s changed though its size and mtime did not: processing it again", entry.rel)
                plan.work.append(WorkItem(entry, digest, replaces=state.id))
        for entry, state in changed:
            digest = _hash_or_fail(entry, summary, catalog, root_id, replaces=state.id)
            if digest is None:
                continue
            if digest == state.hash and state.status == "ok":
                catalog.touch(state.id, entry.size, entry.mtime_ns)
                plan.unchanged += 1
            else:
                plan.work.append(WorkItem(entry, digest, replaces=state.id))
        for entry in new:
            digest = _hash_or_fail(entry, summary, catalog, root_id)
            if digest is None:
                continue
            if (moved := vanished.pop(digest, None)) is not None:
                catalog.move(moved.id, entry.rel, entry.path.name, entry.size, entry.mtime_ns)
                gone.discard(moved.id)
                summary.moved += 1
            elif (twin := catalog.find_by_hash(digest)) is not None:
                row = catalog.copy_results(twin.id)
                row.path, row.name, row.size, row.mtime_ns, row.hash = (
                    entry.rel, entry.path.name, entry.size, entry.mtime_ns, digest
                )  # fmt: skip
                catalog.insert(root_id, row)
                summary.added += 1
            else:
                plan.work.append(WorkItem(entry, digest))
        catalog.delete(gone)
        summary.removed = len(gone)
    return plan


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


def _infer_in_lanes(images: Sequence[Prepared], models: Models, lanes: Lanes):
    """`infer_batch` on shares of the batch, one per lane, in parallel; results in order."""
    results = lanes.map(lambda share: infer_batch(share, models), images)
    captions = [c for r in results for c in r[0]]
    labels = [lb for r in results for lb in r[1]]
    return captions, labels, np.concatenate([r[2] for r in results])


def _batches(items: Sequence[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _prefetch(batches: Iterable[list[WorkItem]], pool: ThreadPoolExecutor, work=decode_one):
    """Yield (items, [work(item)...]) per batch, running `work` on the next batch in the pool while the models
    work on this one."""
    pending: tuple[list[WorkItem], list[Future]] | None = None
    for items in batches:
        submitted = (items, [pool.submit(work, item) for item in items])
        if pending is not None:
            yield pending[0], [f.result() for f in pending[1]]
        pending = submitted
    if pending is not None:
        yield pending[0], [f.result() for f in pending[1]]


def describe(source, models: Models, top: int = 3) -> tuple[str, list[Label]]:
    """Caption and top labels for one image (a path or file object); no index needed. Someone is waiting for
    the answer: the caption is asked for with `interactive=True` (see `Captioner.caption`)."""
    image = decode(source).image
    caption = models.captioner.caption([image], interactive=True)[0]
    labels = models.classifier.classify([image])[0][:top]
    return caption, labels
