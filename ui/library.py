"""The application layer: everything glimpse does with an index, for both front-ends.

`glimpse` (cli.py) and the web app (app.py, handlers.py) call the same `Library`: open, index, import, search,
browse, similar, duplicates, describe, stats, evaluate. A new operation is written here once; the CLI only
parses and prints, the app only lays out and wires events. No click, no Gradio in this module.

One `Library` per process (the web app shares it between requests). It opens the index read-only on first use
(an index may not exist yet: the app starts anyway and can create it), serializes access to that store
(SQLite connection, FAISS index) with a lock, and builds its models lazily from `ModelSettings`, each loading
itself once. Errors are the library's typed exceptions; the front-ends turn them into messages.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from glimpse.indexer.catalog import ImageRecord
from glimpse.indexer.config import DEFAULT_BATCH_SIZE, ENV, ModelSettings
from glimpse.indexer.decode import DecodedImage, decode
from glimpse.indexer.errors import GlimpseError, IndexNotFound, InvalidArgument, ModelMismatch, NotInIndex
from glimpse.indexer.hierarchy import familiar
from glimpse.indexer.models import Models
from glimpse.indexer.names import is_valid
from glimpse.indexer.pipeline import TEXT_VERSION, Progress, Summary, describe, document_text, index_folder
from glimpse.indexer.store import MANIFEST, IndexStore, read_manifest
from glimpse.indexer.types import Label
from glimpse.search import Filters, Hit, Searcher, SearchResults
from glimpse.search.duplicates import NEAR_THRESHOLD, DuplicateGroup, find_duplicates
from glimpse.search.similar import SimilarFinder

from .curation import Curation
from .ids import _names_an_id, _whole, photo_id

if TYPE_CHECKING:
    from glimpse.indexer.distributed import RayOptions

log = logging.getLogger(__name__)

FOLDER_DEPTH = 2  # folder filter choices: the roots and their folders this deep
MAX_FOLDERS = 500
SAME_MODEL_PROBES = 8  # stored captions re-embedded to tell whether a text model is the index's own
SAME_MODEL_COSINE = 0.99  # ... and how close their embeddings must come


def settings_for(index_dir: str | os.PathLike, **flags) -> ModelSettings:
    """Model settings from flags, then GLIMPSE_* variables, then defaults, with one rule for the text model:
    unless a flag or GLIMPSE_TEXT_MODEL names one, it is the model the index was built with (queries and new
    captions must be embedded with it), and the default for a new index."""
    settings = ModelSettings.resolve(**flags)
    if flags.get("text_model") or os.environ.get(ENV["text_model"]):
        return settings
    if (Path(index_dir).expanduser() / MANIFEST).is_file():
        return replace(settings, text_model=read_manifest(Path(index_dir).expanduser())["models"]["text"])
    return settings


def _given(models: Models) -> Models:
    return models


@dataclass
class ReembedSummary:
    photos: int
    model: str
    dim: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.photos / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"photos": self.photos, "model": self.model, "dim": self.dim, "seconds": round(self.seconds, 3),
                "photos_per_second": round(self.rate, 1)}  # fmt: skip


@dataclass
class Page:
    records: list[ImageRecord]
    total: int  # records matching the filter, over all pages
    number: int  # 1-based, clamped to the pages that exist
    pages: int


class Library(Curation):
    """The index at `index_dir` and the models that fill and search it.

    Give `models` (tests, benchmarks) or `settings` (front-ends: see `settings_for`); by default the settings
    come from the environment.
    """

    def __init__(
        self,
        index_dir: str | os.PathLike,
        models: Models | None = None,
        settings: ModelSettings | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        workers: int = 2,
    ):
        self.index_dir = Path(index_dir).expanduser()
        self._models = models
        self._given_models = models is not None
        self._settings = settings
        self.batch_size = batch_size
        self.workers = workers
        self._lock = threading.RLock()
        self._store: IndexStore | None = None
        self._root_listeners: list[Callable[[Path], None]] = []

    @property
    def models(self) -> Models:
        """The models, built (not loaded) on first use; each loads itself when first needed."""
        if self._models is None:
            self._models = Models.from_settings(self._settings or settings_for(self.index_dir))
        return self._models

    def _worker_models(self) -> Callable[[], Models]:
        """What each Ray worker calls once to get its models: built from the settings, or the given objects."""
        if self._given_models:
            return functools.partial(_given, self._models)
        return functools.partial(Models.from_settings, self._settings or settings_for(self.index_dir))

    # -- the read-only store --------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return (self.index_dir / MANIFEST).is_file()

    def _open(self) -> IndexStore:
        if self._store is None:
            if not self.exists:
                raise IndexNotFound(
                    f"there is no index at {self.index_dir} yet: index a folder first "
                    f"(`glimpse index PHOTOS --index {self.index_dir}`, or the web app's Index tab)"
                )
            self._store = IndexStore.open(self.index_dir)
        return self._store

    def warm_up(self) -> None:
        """Load the text model now (in the background, say), so the first search doesn't wait for it."""
        try:
            self.models.embedder.load()
        except GlimpseError as e:  # the first search will say so too
            log.warning("%s", e)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def roots(self) -> list[Path]:
        """The indexed library folders (imported captions have none)."""
        if not self.exists:
            return []
        with self._lock:
            return [Path(r) for r in self._open().catalog.roots()]

    def on_new_root(self, listener: Callable[[Path], None]) -> None:
        """Call `listener(root)` when indexing adds a library folder."""
        self._root_listeners.append(listener)

    def stats(self) -> dict:
        """The index's counts (see `IndexStore.stats`) and how many photos were reviewed, approved, edited."""
        with self._lock:
            store = self._open()
            return {**store.stats(), "review": store.catalog.review_counts()}

    def doctor(self) -> dict:
        """What this machine's CPU is good at, what each model path runs with (precision, threads, int8) and why,
        and whether each model is available: all without loading a model. Needs no index."""
        from glimpse.indexer.models.policy import choices, machine

        settings = self._settings or settings_for(self.index_dir)
        models = {}
        for kind, model in (("caption", "captioner"), ("classifier", "classifier"), ("text", "embedder")):
            model = getattr(self.models, model)
            check = getattr(model, "unavailable", None)
            error = check() if check else None
            models[kind] = {"name": model.name, "available": error is None, "problem": error and error.reason}
        return {"machine": machine(), "paths": [c.as_dict() for c in choices(settings)], "models": models}

    # -- search and browse ------------------------------------------------------------------------------
    def search(
        self, query: str, k: int = 10, filters: Filters | None = None, min_score: float | None = None, **options
    ) -> SearchResults:
        """The best `k` photos for `query` (see `Searcher.search`; `min_score=None` keeps its default)."""
        with self._lock:
            store = self._open()
            self._check_text_model(store)
            if min_score is not None:
                options["min_score"] = min_score
            return Searcher(store, self.models.embedder).search(query, k=k, filters=filters, **options)

    def evaluate(self, queries: list[dict]) -> dict:
        """recall@1, recall@5 and MRR@10 of this index for queries with known relevant ids (search/evaluate.py)."""
        from glimpse.search.evaluate import evaluate

        with self._lock:
            store = self._open()
            self._check_text_model(store)
            return evaluate(Searcher(store, self.models.embedder), queries)

    def page(
        self, number: int = 1, per_page: int = 24, order: str = "date", label: str | None = None,
        review: str | None = None,
    ) -> Page:  # fmt: skip
        """One page of indexed photos, newest first (`date`) or by folder and name (`path`), with `label`, in the
        `review` state ("unreviewed", "approved", "edited", "skipped"). A number past the last page gives the last
        page, one before the first the first; one that is not a whole number, an error."""
        if _whole(number) is None:
            raise InvalidArgument(f"{number!r} is not a page number")
        with self._lock:
            catalog, filters = self._open().catalog, Filters(label=label, review=review)
            total = catalog.count(filters)
            pages = max(1, -(-total // per_page))
            number = min(max(1, int(number)), pages)
            records = catalog.records(order, filters, limit=per_page, offset=(number - 1) * per_page)
        return Page(records, total, number, pages)

    def records(self, ids: list[int]) -> dict[int, ImageRecord]:
        with self._lock:
            return self._open().catalog.get(ids)

    def label_counts(self, top: int | None = None) -> list[tuple[str, int]]:
        if not self.exists:
            return []
        with self._lock:
            return self._open().catalog.label_counts(top)

    def kind_counts(self, top: int | None = None) -> list[tuple[str, int]]:
        """Everyday kinds of labels (dog, bird, vehicle: ImageNet's WordNet ancestors, see hierarchy.familiar) with
        how many photos each takes in, most first; each is a label filter too (see Catalog.kind_counts)."""
        if not self.exists:
            return []
        with self._lock:
            return self._open().catalog.kind_counts(top, among=familiar)

    def folders(self) -> list[Path]:
        """Folders to offer as a search filter: each root and its sub-folders, FOLDER_DEPTH deep. A folder whose
        path is not UTF-8 is left out (a web page can't hold its name; `glimpse search --folder` takes it)."""
        found: list[Path] = []
        for root in self.roots():
            found.append(root)
            level = [root]
            for _ in range(FOLDER_DEPTH):
                below = []
                for folder in level:
                    try:
                        entries = sorted(os.scandir(folder), key=lambda e: e.name)
                    except OSError:
                        continue
                    below += [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) and e.name[0] != "."]
                found += below[: MAX_FOLDERS - len(found)]
                level = below
        return [f for f in found if f != self.index_dir and is_valid(str(f))][:MAX_FOLDERS]

    # -- look-alikes ------------------------------------------------------------------------------------
    def similar(self, ref: int | str | os.PathLike, k: int = 10) -> list[Hit]:
        """The `k` photos that look most like `ref` (ResNet-18 features): a photo id, a photo in the library
        (left out of its own results), or any image file, such as an upload (a copy in the library comes first).

        A file outside the index goes through ResNet-18 outside the store's lock, so searches are not held up."""
        if _names_an_id(ref):
            ref = photo_id(ref)
        with self._lock:
            store = self._open()
            finder = SimilarFinder(store)
            own_id = finder.resolve(ref)
            if own_id is not None:
                record = store.catalog.get([own_id])[own_id]
                if record.is_import:
                    raise NotInIndex(f"photo {own_id} is an imported caption: it has no image to compare")
                return finder.find(own_id, k=k)
        image = decode(Path(ref)).image
        _, features = self.models.classifier.classify_with_features([image])
        with self._lock:
            return SimilarFinder(self._open()).nearest(features[0], k)

    def duplicates(self, threshold: float = NEAR_THRESHOLD) -> list[DuplicateGroup]:
        """Groups of exact and near copies (see search/duplicates.py for what `threshold` means)."""
        with self._lock:
            return find_duplicates(self._open(), threshold)

    # -- models without an index ------------------------------------------------------------------------
    def describe(self, source, top: int = 3) -> tuple[str, list[Label]]:
        """Caption and top labels of one image (a path, a file object, or what `decode` gave). Needs no index."""
        return describe(source, self.models, top=top)

    def decode(self, source) -> DecodedImage:
        """The image in `source` (a path or file object), checked and ready for `describe`, before any model
        loads: UnreadableImage with the reason when it is not one."""
        return decode(source)

    # -- writing ----------------------------------------------------------------------------------------
    def index(
        self, folder: str | os.PathLike, progress: Progress | None = None, prune: bool = False, verify: bool = False,
        index_kind: str | None = None, ray: str | RayOptions | None = None,
    ) -> Summary:  # fmt: skip
        """Index (or re-index) `folder` into this library's index, creating the index if needed.

        Photos that can't be seen (a folder that could not be listed; the whole folder missing, empty or unreadable,
        which raises LibraryOffline) are kept and marked offline, unless `prune`. `verify` re-hashes every file to
        find the ones whose bytes changed under the same size and mtime (see `index_folder`). `index_kind` chooses the
        vector index type for this and later runs (see `IndexStore.set_index_kind`). `ray`: run the models on a Ray
        cluster, an address or "auto" or "local" (see indexer/distributed.py), with this library's model settings on
        every worker (or, when the library was given model objects, those objects, shipped)."""
        root = Path(folder).expanduser().resolve()
        known = set(self.roots())
        if not root.is_dir() and root not in known:
            raise NotADirectoryError(f"{root} is not a folder on this machine")
        # every missing model named at once, before the index is touched; none loaded yet. On a cluster the
        # workers load the image models: this machine needs only the text model
        self.models.check(("captioner", "classifier", "embedder") if ray is None else ("embedder",))
        with self._writable(self.models.ids()) as store:
            if index_kind:
                store.set_index_kind(index_kind)
            if ray is None:
                summary = index_folder(
                    root, store, self.models, batch_size=self.batch_size, workers=self.workers, progress=progress,
                    prune=prune, verify=verify,
                )  # fmt: skip
            else:
                from glimpse.indexer.distributed import RayOptions, index_folder_ray

                options = ray if isinstance(ray, RayOptions) else RayOptions(address=ray)
                summary = index_folder_ray(
                    root, store, self.models, self._worker_models(), options, batch_size=self.batch_size,
                    progress=progress, prune=prune, verify=verify,
                )  # fmt: skip
        if root not in known:
            for listener in self._root_listeners:
                listener(root)
        return summary

    def import_jsonl(self, path: str | os.PathLike):
        """Index captions a user already has: one {"id", "caption", "labels"} object per line of JSONL."""
        from glimpse.indexer.importer import import_jsonl

        embedder = self.models.embedder.load()
        models = {"caption": "imported", "classifier": "imported", "text": embedder.name}
        if self.exists:
            models.update({k: v for k, v in read_manifest(self.index_dir)["models"].items() if k != "text"})
        with self._writable(models) as store:
            return import_jsonl(Path(path), store, embedder)

    def reembed(self, text_model: str, progress: Progress | None = None, batch_size: int = 256) -> ReembedSummary:
        """Embed the stored captions and labels again with `text_model`, then switch the index to it at once.

        BLIP and ResNet are not loaded. New embeddings are staged in the catalog batch by batch (an interrupted
        run resumes), and searches keep using the old model and vectors until the one transaction that swaps
        them; a model of another dimension is fine."""
        from glimpse.indexer.models import text_embedder

        started = time.perf_counter()
        embedder = text_embedder(text_model, device=self._settings.device if self._settings else "auto").load()
        progress = progress or Progress()
        with IndexStore.open(self.index_dir, readonly=False) as store, store.writer_lock():
            done = store.catalog.start_reembed(embedder.name)
            total = len(store.catalog.embedded_ids("text"))
            progress.start(total)
            progress.advance(min(done, total))
            while batch := store.catalog.reembed_todo(batch_size):
                texts = [document_text(r.caption or "", r.labels) for r in batch]
                store.catalog.stage([r.id for r in batch], embedder.embed_documents(texts))
                progress.advance(len(batch))
            progress.close()
            store.finish_reembed(embedder.name, embedder.dim)
            with store.catalog.transaction():  # embedded with today's recipe, kinds and all: nothing to refresh
                store.catalog.set_text_version(TEXT_VERSION)
        with self._lock:
            self.close()  # reopened on next use, with the new model's vectors
            self.models.embedder = embedder
        return ReembedSummary(total, embedder.name, embedder.dim, time.perf_counter() - started)

    def _writable(self, models: dict[str, str]) -> IndexStore:
        """The index opened for writing (created if needed), after checking the text model is the index's own."""
        dim = None
        if self.exists:
            with IndexStore.open(self.index_dir, readonly=False) as existing:  # migrates an older catalog
                if self._check_text_model(existing):
                    models = {**models, "text": existing.text_model}  # the same model, found elsewhere
                elif self.models.embedder.name == existing.text_model:
                    dim = existing.dim  # the index's own model: known without loading it
        return IndexStore.open_or_create(self.index_dir, models, dim or self.models.embedder.dim)

    def _check_text_model(self, store: IndexStore) -> bool:
        """Raise ModelMismatch unless the text model embeds as the index's did. True when it does so under
        another name (a local copy of the index's model, say). The test: a few stored captions, embedded again,
        must land where their stored embeddings are."""
        embedder = self.models.embedder
        if embedder.name == store.text_model:
            return False
        ids, stored = store.catalog.embeddings(kind="text", limit=SAME_MODEL_PROBES)
        if not len(ids):
            return True  # nothing embedded yet: any model will do
        if embedder.dim != stored.shape[1]:
            same = False
        else:
            records = store.catalog.get(ids)
            version = store.catalog.text_version()  # the recipe they were embedded with
            texts = [document_text(records[int(i)].caption or "", records[int(i)].labels, version) for i in ids]
            same = bool(np.min(np.sum(embedder.embed_documents(texts) * stored, axis=1)) >= SAME_MODEL_COSINE)
        if not same:
            raise ModelMismatch(
                f"the index at {store.folder} was built with the text model {store.text_model!r}; "
                f"{embedder.name!r} embeds differently, so scores would be meaningless. Use the index's model "
                f"(leave out --text-model and {ENV['text_model']}), or a new --index folder."
            )
        return True
