"""The index folder: a JSON manifest, the SQLite catalog and the FAISS vectors, plus the indexer's lock.

INDEX/
  manifest.json          schema version, model ids, embedding dimension, the vector index's kind and parameters
  catalog.db             SQLite (WAL): images, FTS5, metadata; holds every embedding too
  vectors.<gen>.faiss    FAISS (exact below 50k vectors, IVF above, compressed from 2M), ids = catalog row ids
  vectors.<gen>.exact.npy  the compressed index's exact vectors (float16, row = id) for re-ranking
  text-vectors-<epoch>/  the same after `glimpse reembed` switched the text model (epoch 1, 2, ...)
  indexer.lock           held by the one indexer allowed at a time
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .atomic import replacing
from .catalog import SCHEMA_VERSION, Catalog
from .errors import IndexCorrupt, IndexLocked, IndexNotFound, ModelMismatch, SchemaTooNew, StorageError
from .names import readable
from .vectors import KINDS, VectorIndex, remove_leftovers, vector_files

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CATALOG = "catalog.db"
LOCK = "indexer.lock"
TEXT_VECTORS = "text-vectors"  # + "-<epoch>": the text FAISS files after a reembed
IMAGE_VECTORS = "image-vectors"  # a folder like the index's own, with the image-embedding FAISS files
IMAGE_DIM = 512  # ResNet-18 penultimate features
INDEX_KINDS = ("auto", *KINDS)  # the vector index type: by size (auto), or chosen (`glimpse index --index-kind`)


class IndexStore:
    def __init__(self, folder: Path, manifest: dict, catalog: Catalog):
        self.folder = Path(folder)
        self.manifest = manifest
        self.catalog = catalog
        self._vectors: dict[str, tuple[VectorIndex, int | None]] = {}  # kind -> (index, catalog generation)
        self._rebuilt: set[str] = set()  # vector kinds rebuilt (another index type) since their file was written
        self._text_epoch = self._follow_reembed()

    def _follow_reembed(self) -> str | None:
        """The catalog is the truth about the text model: after `glimpse reembed` (one transaction there) the
        manifest may still name the old one, if the run stopped before rewriting it. Returns the text epoch."""
        switched = self.catalog.text_model()
        if switched is not None and (self.text_model, self.dim) != switched:
            self.manifest["models"]["text"], self.manifest["embedding_dim"] = switched
            if not self.catalog.readonly:
                _write_json_atomic(self.folder / MANIFEST, self.manifest)
        return self.catalog.meta("text_epoch")

    # -- opening --------------------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | os.PathLike, readonly: bool = True) -> IndexStore:
        folder = Path(folder)
        path = folder / MANIFEST
        if not path.is_file():
            raise IndexNotFound(f"no glimpse index at {folder}: build one with `glimpse index PHOTOS --index {folder}`")
        manifest = _read_manifest(path)
        return cls(folder, manifest, Catalog(folder / CATALOG, readonly=readonly))

    @classmethod
    def open_or_create(cls, folder: str | os.PathLike, models: dict[str, str], dim: int) -> IndexStore:
        """Open an index for writing, creating it if needed. The text model must match the index's."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MANIFEST
        if path.is_file():
            manifest = _read_manifest(path)
            if manifest["embedding_dim"] != dim:
                raise ModelMismatch(
                    f"the index at {folder} holds {manifest['embedding_dim']}-d embeddings from the text model "
                    f"{manifest['models'].get('text')!r}; {models['text']!r} makes {dim}-d ones. "
                    f"Use the index's model, or a new --index folder."
                )
            if manifest["models"].get("text") != models["text"]:
                log.warning(
                    "the index at %s was built with the text model %r, now %r is used: that is fine for a local "
                    "copy of the same model, but a different model gives meaningless scores",
                    folder, manifest["models"].get("text"), models["text"],
                )  # fmt: skip
            manifest["models"].update(models)  # new images get these caption/label models from now on
        else:
            manifest = {
                "schema_version": SCHEMA_VERSION,
                "glimpse_version": __version__,
                "models": dict(models),
                "embedding_dim": dim,
                "vectors": "float32, L2-normalized, inner product; FAISS ids are catalog row ids",
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        store = cls(folder, manifest, Catalog(folder / CATALOG))  # migrates an older catalog forward
        manifest["schema_version"] = SCHEMA_VERSION
        _write_json_atomic(path, manifest)
        remove_leftovers(folder)
        remove_leftovers(folder / IMAGE_VECTORS)
        return store

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def dim(self) -> int:
        return int(self.manifest["embedding_dim"])

    @property
    def index_kind(self) -> str:
        """The vector index type asked for: "auto" (by size, see vectors.kind_for), "flat", "ivf" or "ivfpq"."""
        return self.manifest.get("index_kind", "auto")

    def set_index_kind(self, kind: str) -> None:
        """Choose the vector index type (writers only); the vectors are rebuilt as that type when next used and
        saved with the next `save_vectors`."""
        if kind not in INDEX_KINDS:
            raise ValueError(f"unknown vector index kind {kind!r}: one of {', '.join(INDEX_KINDS)}")
        if kind != self.index_kind:
            self.manifest["index_kind"] = kind
            _write_json_atomic(self.folder / MANIFEST, self.manifest)

    @property
    def text_model(self) -> str:
        """The text model the index was built with: queries must be embedded with it."""
        return self.manifest["models"]["text"]

    def stats(self) -> dict:
        catalog = self.catalog
        failures, offline = catalog.failures(), catalog.offline()
        return {
            "index": str(self.folder),
            "indexed": catalog.count(),
            "failed": len(failures),
            "offline": len(offline),  # photos kept though their folder could not be read at the last index run
            "vectors": len(self.vectors()),
            "image_vectors": len(self.vectors("image")),
            "size_bytes": sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file()),
            "roots": [readable(root) for root in catalog.roots()],
            "models": dict(self.manifest["models"]),
            "embedding_dim": self.dim,
            "schema_version": self.manifest.get("schema_version"),
            "failures": [{"path": readable(str(f.full_path or f.path)), "reason": f.error} for f in failures],
            "offline_photos": [{"path": readable(str(r.full_path or r.path)), "reason": r.offline} for r in offline],
        }

    # -- the one writer ---------------------------------------------------------------------------------
    @contextmanager
    def writer_lock(self):
        """Held for a whole index run. A second indexer gets IndexLocked at once; searches are unaffected."""
        from filelock import FileLock, Timeout

        lock = FileLock(self.folder / LOCK)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise IndexLocked(
                f"another glimpse indexer is already working on {self.folder}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            lock.release()

    # -- vectors ----------------------------------------------------------------------------------------
    def _vector_folder(self, kind: str) -> Path:
        if kind == "image":
            return self.folder / IMAGE_VECTORS
        epoch = self.catalog.meta("text_epoch") or "0"
        return self.folder if epoch == "0" else self.folder / f"{TEXT_VECTORS}-{epoch}"

    def vectors(self, kind: str = "text") -> VectorIndex:
        """The FAISS index of `kind` ("text": caption embeddings, "image": ResNet features), matching the catalog.

        Loaded once, then kept in step: when the catalog's generation for that kind moves (an indexer committed
        a batch, an edit re-embedded a caption, or the file on disk is stale, corrupt or missing), the difference
        is repaired from the embeddings stored in the catalog.
        """
        generation = self.catalog.vector_generation(kind)
        if kind == "text" and self.catalog.meta("text_epoch") != self._text_epoch:  # reembedded meanwhile
            self._text_epoch = self._follow_reembed()
            self._vectors.pop("text", None)
        if kind not in self._vectors:
            dim = self.dim if kind == "text" else IMAGE_DIM
            self._vectors[kind] = VectorIndex.load(self._vector_folder(kind), dim)
        index, loaded_gen = self._vectors[kind]
        if loaded_gen == generation and not index.suits(len(index), self.index_kind):
            loaded_gen = -1  # the chosen type changed: rebuilt from the catalog below
            self._rebuilt.add(kind)
        if loaded_gen != generation:
            if loaded_gen is not None and 0 <= loaded_gen < generation:  # vectors changed in place (edits): re-read
                index.remove(self.catalog.reembedded_since(loaded_gen, kind))
            fetch = functools.partial(self.catalog.embeddings, kind=kind)
            added, removed = index.sync(self.catalog.embedded_ids(kind), fetch, self.index_kind)
            if added or removed:
                log.info("%s vectors brought up to date with the catalog: +%d -%d", kind, added, removed)
            self._vectors[kind] = (index, generation)
        return index

    def save_vectors(self) -> None:
        """Write the FAISS files for the catalog's current generations (writers only), and record what each index
        is made of in the manifest (`vector_index`)."""
        recorded = self.manifest.setdefault("vector_index", {})
        before = json.dumps(recorded, sort_keys=True)
        for kind in ("text", "image"):
            index = self.vectors(kind)
            generation = self._vectors[kind][1]
            folder = self._vector_folder(kind)
            params = index.params()
            if params.get("train_size") == 0 and recorded.get(kind, {}).get("kind") == params["kind"]:
                params["train_size"] = recorded[kind].get("train_size", 0)  # built by an earlier run
            recorded[kind] = params
            if kind not in self._rebuilt and any(gen == generation for _, gen in vector_files(folder)):
                continue
            try:
                folder.mkdir(exist_ok=True)
                index.save(folder, generation)
            except (OSError, RuntimeError) as e:  # faiss reports write errors as RuntimeError
                remove_leftovers(folder)
                raise StorageError(
                    f"cannot write the {kind} vector index in {folder}: {e}. The previous vector file is intact "
                    f"and the catalog has every embedding; free some space and run again."
                ) from e
            self._rebuilt.discard(kind)
        if json.dumps(recorded, sort_keys=True) != before:
            _write_json_atomic(self.folder / MANIFEST, self.manifest)

    def finish_reembed(self, model: str, dim: int) -> None:
        """Swap a finished reembed in (writers only): the catalog's one transaction, then the manifest and a new
        FAISS file in the new epoch's folder; the old epoch's files go last."""
        old = self._vector_folder("text")
        self.catalog.finish_reembed(model, dim)
        self._text_epoch = self._follow_reembed()
        self._vectors.pop("text", None)
        self.save_vectors()
        for path, _ in vector_files(old):
            path.unlink(missing_ok=True)
        if old != self.folder:
            remove_leftovers(old)
            try:
                old.rmdir()
            except OSError:
                pass


def read_manifest(folder: str | os.PathLike) -> dict:
    """The manifest of the index at `folder`, without opening its catalog (which may need migrating first)."""
    return _read_manifest(Path(folder) / MANIFEST)


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise IndexCorrupt(f"the index manifest {path} is unreadable ({e})") from e
    if manifest.get("schema_version", 0) > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the index at {path.parent} was written by a newer glimpse (schema {manifest['schema_version']}, "
            f"this one knows {SCHEMA_VERSION}): upgrade glimpse"
        )
    return manifest


def _write_json_atomic(path: Path, data: dict) -> None:
    try:
        with replacing(path) as f:
            json.dump(data, f, indent=2)
            f.write("\n")
    except OSError as e:
        raise StorageError(f"cannot write {path}: {e.strerror or e}; the previous file is intact") from e
