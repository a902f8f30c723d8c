"""What the web app does with an index, without any Gradio: search, browse, describe, index.

One `Library` per app, shared by every request. It opens the index read-only on first use (an index may not
exist yet: the app starts anyway and the Index tab can create it), serializes access to that store (SQLite
connection, FAISS index) with a lock, and leaves each model to load itself lazily, once. Errors are the
library's typed exceptions; the UI turns them into messages.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from glimpse.indexer.catalog import ImageRecord
from glimpse.indexer.config import DEFAULT_BATCH_SIZE, ENV, ModelSettings
from glimpse.indexer.decode import decode
from glimpse.indexer.errors import GlimpseError, IndexNotFound, NotInIndex
from glimpse.indexer.models import Models
from glimpse.indexer.pipeline import Progress, Summary, describe, index_folder
from glimpse.indexer.store import IndexStore
from glimpse.indexer.types import Label
from glimpse.search import Filters, Hit, Searcher, SearchResults
from glimpse.search.duplicates import NEAR_THRESHOLD, DuplicateGroup, find_duplicates
from glimpse.search.similar import SimilarFinder

log = logging.getLogger(__name__)

FOLDER_DEPTH = 2  # folder filter choices: the roots and their folders this deep
MAX_FOLDERS = 500


def default_models(index_dir: Path, settings: ModelSettings | None = None) -> Models:
    """Models from flags/environment; the query text model defaults to the one the index was built with."""
    settings = settings or ModelSettings.resolve()
    if not os.environ.get(ENV["text_model"]) and (Path(index_dir) / "manifest.json").is_file():
        with IndexStore.open(index_dir) as store:
            settings = replace(settings, text_model=store.text_model)
    return Models.from_settings(settings)


@dataclass
class Page:
    records: list[ImageRecord]
    total: int  # records matching the filter, over all pages
    number: int  # 1-based, clamped to the pages that exist
    pages: int


class Library:
    def __init__(self, index_dir: str | os.PathLike, models: Models, batch_size: int = DEFAULT_BATCH_SIZE):
        self.index_dir = Path(index_dir).expanduser()
        self.models = models
        self.batch_size = batch_size
        self._lock = threading.RLock()
        self._store: IndexStore | None = None
        self._root_listeners: list[Callable[[Path], None]] = []

    # -- the read-only store --------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return (self.index_dir / "manifest.json").is_file()

    def _open(self) -> IndexStore:
        if self._store is None:
            if not self.exists:
                raise IndexNotFound(
                    f"there is no index at {self.index_dir} yet: index a folder in the Index tab, "
                    f"or run `glimpse index PHOTOS --index {self.index_dir}`"
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

    def roots(self) -> list[Path]:
        """The indexed library folders (imported captions have none)."""
        if not self.exists:
            return []
        with self._lock:
            return [Path(r) for r in self._open().catalog.roots()]

    def on_new_root(self, listener: Callable[[Path], None]) -> None:
        """Call `listener(root)` when indexing from the app adds a library folder."""
        self._root_listeners.append(listener)

    # -- search and browse ------------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> SearchResults:
        with self._lock:
            return Searcher(self._open(), self.models.embedder).search(query, k=k, filters=filters)

    def page(self, number: int = 1, per_page: int = 24, order: str = "date", label: str | None = None) -> Page:
        """One page of indexed photos, newest first (`date`) or by folder and name (`path`)."""
        with self._lock:
            catalog, filters = self._open().catalog, Filters(label=label)
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

    def stats(self) -> dict:
        with self._lock:
            return self._open().stats()

    def folders(self) -> list[Path]:
        """Folders to offer as a search filter: each root and its sub-folders, FOLDER_DEPTH deep."""
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
        return [f for f in found if f != self.index_dir][:MAX_FOLDERS]

    # -- look-alikes ------------------------------------------------------------------------------------
    def similar(self, photo_id: int, k: int = 10) -> list[Hit]:
        """The `k` photos that look most like indexed photo `photo_id` (by ResNet-18 features), itself left out."""
        with self._lock:
            store = self._open()
            record = store.catalog.get([int(photo_id)]).get(int(photo_id))
            if record is not None and record.is_import:
                raise NotInIndex(f"photo {photo_id} is an imported caption: it has no image to compare")
            return SimilarFinder(store).find(int(photo_id), k=k)

    def similar_to_image(self, source: str | os.PathLike, k: int = 10) -> list[Hit]:
        """The `k` indexed photos that look most like an image file that need not be in the index (an upload).

        The image goes through ResNet-18 outside the store's lock, so searches are not held up meanwhile."""
        with self._lock:
            self._open()  # no index: say so before running a model
        image = decode(Path(source)).image
        _, features = self.models.classifier.classify_with_features([image])
        with self._lock:
            return SimilarFinder(self._open()).nearest(features[0], k)

    def duplicates(self, threshold: float = NEAR_THRESHOLD) -> list[DuplicateGroup]:
        """Groups of exact and near copies (see search/duplicates.py for what `threshold` means)."""
        with self._lock:
            return find_duplicates(self._open(), threshold)

    # -- models without an index ------------------------------------------------------------------------
    def describe(self, source, top: int = 3) -> tuple[str, list[Label]]:
        """Caption and top labels of one image (a path or file object). Needs no index."""
        return describe(source, self.models, top=top)

    # -- indexing ---------------------------------------------------------------------------------------
    def index(self, folder: str | os.PathLike, progress: Progress | None = None) -> Summary:
        """Index (or re-index) `folder` into this library's index, creating the index if needed."""
        root = Path(folder).expanduser().resolve()
        if not root.is_dir():
            raise NotADirectoryError(f"{root} is not a folder on this machine")
        self.models.load()  # a missing model fails before the index is touched
        known = set(self.roots())
        with IndexStore.open_or_create(self.index_dir, self.models.ids(), self.models.embedder.dim) as store:
            summary = index_folder(root, store, self.models, batch_size=self.batch_size, progress=progress)
        if root not in known:
            for listener in self._root_listeners:
                listener(root)
        return summary
