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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .catalog import NewImage
from .config import DEFAULT_BATCH_SIZE
from .decode import DecodedImage, decode
from .errors import UnreadableImage
from .hierarchy import KINDS_IN_TEXT, LABEL_MIN_SCORE, LABELS_IN_TEXT, confident, kinds  # noqa: F401 - see README
from .lanes import Lanes
from .lanes import plan as lane_plan
from .models import Models
from .models.loading import upload_threads
from .names import readable
from .plan import Plan, Planner, Progress, Summary, WorkItem  # noqa: F401 - Plan, Progress, Summary: the API
from .store import IndexStore
from .types import Label

log = logging.getLogger(__name__)


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
                if item.keep is not None:  # a person's text stays; the models' new text goes beside it
                    row.machine_caption, row.machine_labels = row.caption, row.labels
                    row.caption, row.labels = item.keep.caption, item.keep.labels
                    row.edited_at, row.review, row.reviewed_at = (
                        item.keep.edited_at, item.keep.review, item.keep.reviewed_at
                    )  # fmt: skip
            if item.replaces is not None:
                store.catalog.delete([item.replaces])
            new_id = store.catalog.insert(root_id, row)
            if item.replaces is not None:
                store.catalog.follow_edits(item.replaces, new_id)
    return failed


def kept_text(
    items: Sequence[WorkItem], prepared: Sequence[Prepared | str], captions: Sequence[str], labels: Sequence
) -> tuple[list[str], list]:
    """The captions and labels to embed for a batch's good images: a person's where they wrote them."""
    keeps = [item.keep for item, p in zip(items, prepared, strict=True) if not isinstance(p, str)]
    pairs = [(k.caption, k.labels) if k else (c, lb) for k, c, lb in zip(keeps, captions, labels, strict=True)]
    return [c for c, _ in pairs], [lb for _, lb in pairs]


# -- orchestration ------------------------------------------------------------------------------------------
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

    def run(root_id: int, work: list[WorkItem], summary: Summary) -> None:
        models.load()  # only now: a run with nothing to do loads no model
        lane_count, lane_threads = lane_plan(models.captioner.device, lanes=lanes)
        with (
            ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="glimpse-decode") as pool,
            Lanes(lane_count, lane_threads) as lane_pool,
        ):
            prepare = functools.partial(prepare_one, models=models)
            for items, prepared in _prefetch(_batches(work, batch_size), pool, prepare):
                good = [p for p in prepared if not isinstance(p, str)]
                captions, labels, features = _infer_in_lanes(good, models, lane_pool)
                vectors = embed_batch(*kept_text(items, prepared, captions, labels), models)
                failed = write_batch(store, root_id, items, prepared, captions, labels, vectors, features)
                tally(summary, items, prepared, failed)
                progress.advance(len(items))

    progress = progress or Progress()
    return index_with(run, root, store, models.embedder, batch_size, progress, prune=prune, verify=verify)


def index_with(
    run, root: str | Path, store: IndexStore, embedder, batch_size: int, progress: Progress, prune: bool = False,
    verify: bool = False,
) -> Summary:  # fmt: skip
    """What every indexing engine shares: under the writer lock, refresh old embeddings, plan `root` (see
    plan.py), then `run(root_id, work, summary)` when there is work (it writes the results batch by batch,
    calling `tally` and `progress.advance`), and save the vectors, also when `run` is interrupted."""
    started = time.perf_counter()
    root = Path(root).expanduser().resolve()
    if not root.is_dir() and store.catalog.root_id(str(root)) is None:
        raise NotADirectoryError(f"{root} is not a folder")
    summary = Summary()
    with store.writer_lock():
        catalog = store.catalog
        refresh_embeddings(store, embedder, batch_size=max(batch_size, 256))
        root_id = catalog.root_id(str(root), create=True)
        try:
            plan = Planner(root, store, root_id, summary, prune=prune, verify=verify, progress=progress).run()
            summary.unchanged = plan.unchanged
            progress.start(len(plan.work))
            if plan.work:
                run(root_id, plan.work, summary)
        finally:
            progress.close()
            store.save_vectors()
    return _finish(summary, started)


def tally(summary: Summary, items: Sequence[WorkItem], prepared: Sequence, failed: list[tuple[str, str]]) -> None:
    """Count a written batch in the run's summary (`prepared`: per item, anything, or the reason it failed)."""
    summary.failed += failed
    summary.processed += len(items)
    for item, p in zip(items, prepared, strict=True):
        if not isinstance(p, str):
            if item.replaces is None:
                summary.added += 1
            else:
                summary.updated += 1


def _finish(summary: Summary, started: float) -> Summary:
    summary.seconds = time.perf_counter() - started
    return summary


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
    the answer: the caption is asked for with `interactive=True` (see `Captioner.caption`). `source` may also be
    an image `decode` already gave."""
    image = (source if isinstance(source, DecodedImage) else decode(source)).image
    caption = models.captioner.caption([image], interactive=True)[0]
    # the labels with the caption's threads for an upload (every core for fp32 work: models/policy.py)
    with upload_threads(getattr(models.captioner, "upload_threads", None)):
        labels = models.classifier.classify([image])[0][:top]
    return caption, labels
