"""FAISS vectors keyed by catalog row id.

Format: float32 vectors, L2-normalized, inner-product metric (so scores are cosine similarities), in an
`IndexIDMap2` whose ids are the catalog's row ids. On disk the index is one file, `vectors.<generation>.faiss`,
where the generation is the catalog's `vector_generation` the file matches. Writing is atomic (temp file,
fsync, `os.replace`), so a crash leaves the old file or the new one, never a torn one.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_FILE = re.compile(r"^vectors\.(\d+)\.faiss$")


def _faiss():
    import faiss

    return faiss


def normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class VectorIndex:
    """Exact inner-product search over normalized vectors with explicit int64 ids."""

    def __init__(self, dim: int, index=None):
        faiss = _faiss()
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return self.index.ntotal

    def ids(self) -> np.ndarray:
        return _faiss().vector_to_array(self.index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(normalize(vectors), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (n_queries, k); missing slots have id -1."""
        k = max(1, min(k, len(self))) if len(self) else 1
        if not len(self):
            n = len(np.atleast_2d(queries))
            return np.zeros((n, 1), np.float32), np.full((n, 1), -1, np.int64)
        return self.index.search(normalize(queries), k)

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        return np.vstack([self.index.reconstruct(int(i)) for i in ids]) if len(ids) else np.zeros((0, self.dim))

    def sync(self, wanted_ids: np.ndarray, fetch) -> tuple[int, int]:
        """Make this index hold exactly `wanted_ids`: add missing ones (vectors from `fetch(ids)`), drop extras.

        Returns (added, removed). Ids are immutable per vector, so the id sets are all that must agree.
        """
        have = self.ids()
        missing = np.setdiff1d(wanted_ids, have, assume_unique=True)
        extra = np.setdiff1d(have, wanted_ids, assume_unique=True)
        self.remove(extra)
        if len(missing):
            got_ids, vectors = fetch(missing)
            self.add(got_ids, vectors)
        return len(missing), len(extra)

    # -- files --------------------------------------------------------------------------------------------
    def save(self, folder: Path, generation: int) -> Path:
        folder = Path(folder)
        target = folder / f"vectors.{generation}.faiss"
        tmp = folder / f".vectors.{generation}.{os.getpid()}.tmp"
        _faiss().write_index(self.index, str(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        _fsync_dir(folder)
        for other, gen in vector_files(folder):
            if gen != generation:
                other.unlink(missing_ok=True)
        return target

    @classmethod
    def load(cls, folder: Path, dim: int) -> tuple[VectorIndex, int | None]:
        """The newest readable vector file in `folder` and its generation, or an empty index and None."""
        faiss = _faiss()
        for path, gen in sorted(vector_files(folder), key=lambda pg: -pg[1]):
            try:
                index = faiss.read_index(str(path))
            except RuntimeError as e:
                log.warning("ignoring unreadable vector file %s (%s); it will be rebuilt from the catalog", path, e)
                continue
            if index.d != dim:
                log.warning("ignoring %s: dimension %d, expected %d", path, index.d, dim)
                continue
            return cls(dim, index), gen
        return cls(dim), None


def vector_files(folder: Path) -> list[tuple[Path, int]]:
    out = []
    for path in Path(folder).glob("vectors.*.faiss"):
        m = _FILE.match(path.name)
        if m:
            out.append((path, int(m.group(1))))
    return out


def remove_leftovers(folder: Path) -> None:
    """Temp files from a save that crashed half-way."""
    for tmp in Path(folder).glob(".vectors.*.tmp"):
        tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
