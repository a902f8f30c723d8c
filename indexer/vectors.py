"""FAISS vectors keyed by catalog row id, with the index type chosen by collection size.

Format: float32 vectors, L2-normalized, inner-product metric (so scores are cosine similarities), ids are the
catalog's row ids (int64). On disk the index is one file, `vectors.<generation>.faiss`, where the generation is
the catalog's `vector_generation` the file matches. Writing is atomic (temp file, fsync, `os.replace`), so a
crash leaves the old file or the new one, never a torn one.

The index type follows the collection's size, as autofaiss chooses (measured on a 2-core CPU, see the README's
Performance section and `benchmarks/search.py`):

- below `EXACT_LIMIT` vectors: exact search, `IndexIDMap2(IndexFlatIP)` (50k vectors: about 4 ms a query);
- from `EXACT_LIMIT` on: an inverted file, `IndexIVFFlat` with about `2 * sqrt(n)` lists (a power of two),
  trained on a sample with spherical k-means, searched in `nprobe_for(nlist)` lists: about 4 ms a query at 1M
  vectors, recall@10 against exact search 0.98 on clustered data. The vectors stay uncompressed (exact
  scores for whatever is found); ids live in the lists, and a hash-table direct map makes `remove` and
  `reconstruct` by id work.

- from `COMPRESSED_LIMIT` on: the compressed index (compressed.py), `IndexIVFPQ` codes of `dim / 4` bytes in
  at most `sqrt(n)` lists, the best `RERANK` candidates re-ranked with exact
  float16 vectors memory-mapped from `vectors.<generation>.exact.npy`. IVF-Flat holds 1.5 KB per 384-d vector
  in RAM (3 GB at 2M, 15 GB at 10M); this holds about 0.15 KB (1.5 GB at 10M), and the exact vectors are read
  from disk only for the candidates (recall@10 0.96-0.99 at 300k depending on nprobe; docs/scaling.md,
  `benchmarks/search.py --sizes 5000000`).

The type can also be chosen (`kind`: flat, ivf or ivfpq; `glimpse index --index-kind`). `sync` rebuilds from the
catalog's embeddings when the size (or the chosen type) calls for another type or another list count (with
slack both ways, so a collection hovering at a limit doesn't flip-flop); otherwise it adds and removes
incrementally, which every type supports.
"""

from __future__ import annotations

import logging
import math
import os
import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from . import compressed
from .atomic import fsync
from .compressed import ExactVectors

log = logging.getLogger(__name__)

_FILE = re.compile(r"^vectors\.(\d+)\.faiss$")

EXACT_LIMIT = 50_000  # vectors: exact search below, an inverted file from here on
COMPRESSED_LIMIT = 2_000_000  # vectors: the compressed index from here on (IVF-Flat would hold 3 GB of RAM)
KINDS = ("flat", "ivf", "ivfpq")
CHOSEN_FROM = {"flat": 0, "ivf": 1_000, "ivfpq": 10_000}  # a chosen type applies from this many vectors (training)
MIN_LISTS, MAX_LISTS = 256, 65_536
TRAIN_PER_LIST = 40  # k-means training sample: this many vectors per list (FAISS asks for at least 39)
FEW_QUERIES = 20  # batches smaller than this are searched on one thread (see `_one_thread`)
WITHIN_EXACT = 100_000  # a compressed index scores a filter's ids from the exact vectors up to this many


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


def lists_for(n: int) -> int:
    """Inverted lists for `n` vectors: the power of two nearest 2 * sqrt(n), within [MIN_LISTS, MAX_LISTS], and
    small enough that k-means gets TRAIN_PER_LIST vectors per list."""
    target = 2 * math.sqrt(max(n, 1))
    nlist = min(MAX_LISTS, max(MIN_LISTS, 2 ** round(math.log2(target))))
    while nlist > 1 and nlist * TRAIN_PER_LIST > n:
        nlist //= 2
    return int(nlist)


def nprobe_for(nlist: int) -> int:
    """Lists searched per query: 1/32 of them, at least 32 (measured recall@10 0.97 at 100k and 0.98 at 1M
    vectors on clustered data, 1 and 4 ms a query; `benchmarks/search.py`)."""
    return min(nlist, max(32, nlist // 32))


def kind_for(n: int, chosen: str | None = "auto") -> str:
    """The index type for `n` vectors: `chosen` unless it is "auto" (or None), else by size. A chosen inverted file
    needs vectors to train on: below CHOSEN_FROM of them the index is exact."""
    if chosen and chosen != "auto":
        if chosen not in KINDS:
            raise ValueError(f"unknown vector index kind {chosen!r}: one of auto, {', '.join(KINDS)}")
        return chosen if n >= CHOSEN_FROM[chosen] else "flat"
    return "flat" if n < EXACT_LIMIT else "ivf" if n < COMPRESSED_LIMIT else "ivfpq"


class VectorIndex:
    """Inner-product search over normalized vectors with explicit int64 ids: exact, IVF or compressed (see module
    doc). A compressed index carries its exact vectors (`exact`) for re-ranking."""

    def __init__(self, dim: int, index=None, exact: ExactVectors | None = None):
        faiss = _faiss()
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.exact = exact
        self.train_size = 0  # the compressed index's coarse training sample, when this process built it
        self.rerank = compressed.RERANK  # the compressed index's candidates re-ranked with exact vectors
        if self.kind == "ivf":
            self.index.nprobe = nprobe_for(self.index.nlist)
        if self.kind == "ivfpq" and exact is None:
            raise ValueError("a compressed vector index needs its exact vectors")

    @classmethod
    def build(cls, dim: int, ids: np.ndarray, vectors: np.ndarray, kind: str | None = None) -> VectorIndex:
        """A new index of the type suited to len(ids) (or `kind`), holding `vectors` under `ids`."""
        faiss = _faiss()
        kind = kind_for(len(ids), kind)
        if kind == "ivfpq":
            ids = np.asarray(ids, dtype=np.int64)
            order = np.argsort(ids)
            return cls.build_compressed(
                dim, ids[order], lambda got: (got, vectors[order[np.searchsorted(ids[order], got)]])
            )
        if kind == "flat":
            index = cls(dim)
        else:
            vectors = normalize(vectors)
            nlist = lists_for(len(ids))
            ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.cp.spherical = True
            rng = np.random.default_rng(0)
            sample = vectors[rng.choice(len(vectors), min(len(vectors), TRAIN_PER_LIST * nlist), replace=False)]
            ivf.train(sample)
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
            index = cls(dim, ivf)
        index.add(ids, vectors)
        return index

    @classmethod
    def build_compressed(cls, dim: int, ids: np.ndarray, fetch) -> VectorIndex:
        """A compressed index of `ids` (sorted int64), their vectors read in chunks with `fetch(chunk_ids) -> (ids,
        vectors)`, so memory stays bounded: the codes and the exact vectors' scratch file grow chunk by chunk."""
        ids = np.asarray(ids, dtype=np.int64)
        params = compressed.pq_params(len(ids), dim)
        rng = np.random.default_rng(0)
        sample_ids = np.sort(rng.choice(ids, min(len(ids), params.train_size), replace=False))
        _, sample = fetch(sample_ids)
        ivf = compressed.build_ivfpq(dim, params, normalize(sample))
        del sample
        exact = ExactVectors.scratch(dim, int(ids.max()) + 1 if len(ids) else 1)
        index = cls(dim, ivf, exact)
        index.train_size = len(sample_ids)
        for start in range(0, len(ids), compressed.CHUNK):
            got_ids, vectors = fetch(ids[start : start + compressed.CHUNK])
            vectors = normalize(vectors)
            exact.fill(got_ids, vectors)
            ivf.add_with_ids(vectors, np.asarray(got_ids, dtype=np.int64))
        return index

    @property
    def kind(self) -> str:
        return "ivfpq" if hasattr(self.index, "pq") else "ivf" if hasattr(self.index, "nlist") else "flat"

    def params(self) -> dict:
        """What this index is made of, for the manifest."""
        if self.kind == "flat":
            return {"kind": "flat"}
        if self.kind == "ivf":
            return {"kind": "ivf", "nlist": self.index.nlist, "nprobe": self.index.nprobe}
        return compressed.params_of(self.index, self.rerank, self.train_size).as_dict()

    def __len__(self) -> int:
        return self.index.ntotal

    def ids(self) -> np.ndarray:
        faiss = _faiss()
        if self.kind == "flat":
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        lists = self.index.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
            for i in range(self.index.nlist)
            if lists.list_size(i)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            vectors = normalize(vectors)
            self.index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
            if self.exact is not None:
                self.exact.put(ids, vectors)

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):  # a compressed index's exact rows stay: no code points at them any more
            self.index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int, within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (n_queries, k); missing slots have id -1.

        With `within` (ids), only those vectors are candidates, and the search is exact for every type (the
        compressed one scores a small `within` from its exact vectors, a large one by codes then re-ranking).
        """
        queries = normalize(queries)
        limit = len(self) if within is None else len(within)
        if not limit:
            n = len(queries)
            return np.zeros((n, 1), np.float32), np.full((n, 1), -1, np.int64)
        k = max(1, min(k, limit))
        params = None
        if within is not None:
            faiss = _faiss()
            if self.kind == "ivfpq" and len(within) <= WITHIN_EXACT:
                return compressed.rerank(
                    self.exact, queries, np.tile(np.asarray(within, np.int64), (len(queries), 1)), k
                )
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(within, dtype=np.int64))
            if self.kind != "flat":  # every list, but distances only for the selected ids: exact (or re-ranked)
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self.index.nlist)
            else:
                params = faiss.SearchParameters(sel=selector)
        with _one_thread(len(queries) < FEW_QUERIES):
            if self.kind != "ivfpq":
                return self.index.search(queries, k, params=params)
            _, candidates = self.index.search(queries, max(k, self.rerank), params=params)
        return compressed.rerank(self.exact, queries, candidates, k)

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        if self.exact is not None:
            return self.exact.get(ids)
        return np.vstack([self.index.reconstruct(int(i)) for i in ids]) if len(ids) else np.zeros((0, self.dim))

    def sync(self, wanted_ids: np.ndarray, fetch, kind: str | None = "auto") -> tuple[int, int]:
        """Make this index hold exactly `wanted_ids`: add missing ones (vectors from `fetch(ids)`), drop extras.

        When the new size (or the chosen `kind`) calls for another index type or list count, the index is rebuilt
        from the stored vectors: `fetch(None)` (all of them), or chunk by chunk for the compressed type. Returns
        (added, removed). Ids are immutable per vector, so the id sets are all that must agree.
        """
        wanted_ids = np.asarray(wanted_ids, dtype=np.int64)
        have = self.ids()
        missing = np.setdiff1d(wanted_ids, have, assume_unique=True)
        extra = np.setdiff1d(have, wanted_ids, assume_unique=True)
        if not self.suits(len(wanted_ids), kind):
            target = kind_for(len(wanted_ids), kind)
            if target == "ivfpq":
                rebuilt = VectorIndex.build_compressed(self.dim, np.sort(wanted_ids), fetch)
            else:
                ids, vectors = fetch(None)
                keep = np.isin(ids, wanted_ids)
                rebuilt = VectorIndex.build(self.dim, ids[keep], vectors[keep] if len(ids) else vectors, target)
            log.info("vector index rebuilt as %s for %d vectors", rebuilt.describe(), len(rebuilt))
            self.index, self.exact, self.train_size = rebuilt.index, rebuilt.exact, rebuilt.train_size
            return len(missing), len(extra)
        self.remove(extra)
        if len(missing):
            got_ids, vectors = fetch(missing)
            self.add(got_ids, vectors)
        return len(missing), len(extra)

    def suits(self, n: int, kind: str | None = "auto") -> bool:
        """Whether this index type (and list count) is still right for `n` vectors, with slack both ways."""
        if kind and kind != "auto":
            if self.kind != kind_for(n, kind):
                return False
        elif self.kind == "flat":
            return n < EXACT_LIMIT
        elif self.kind == "ivf" and not EXACT_LIMIT // 2 <= n < COMPRESSED_LIMIT:
            return False
        elif self.kind == "ivfpq" and n < COMPRESSED_LIMIT // 2:
            return False
        if self.kind == "flat":
            return True
        ideal = lists_for(n) if self.kind == "ivf" else compressed.pq_params(n, self.dim).nlist
        return ideal // 2 <= self.index.nlist <= ideal * 2

    def describe(self) -> str:
        if self.kind == "flat":
            return "exact (IndexFlatIP)"
        if self.kind == "ivf":
            return f"IVF (IndexIVFFlat, {self.index.nlist} lists, nprobe {self.index.nprobe})"
        return (
            f"compressed (IndexIVFPQ, {self.index.nlist} lists, {self.index.pq.M} bytes a vector, nprobe "
            f"{self.index.nprobe}, best {self.rerank} re-ranked with exact float16 vectors)"
        )

    # -- files --------------------------------------------------------------------------------------------
    def save(self, folder: Path, generation: int) -> Path:
        """`vectors.<generation>.faiss` (and, compressed, its exact vectors first), atomically; older ones go."""
        folder = Path(folder)
        target = folder / f"vectors.{generation}.faiss"
        if self.exact is not None:
            self.exact.save(compressed.exact_path(target))
        tmp = folder / f".vectors.{generation}.{os.getpid()}.tmp"
        _faiss().write_index(self.index, str(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        fsync(folder)
        for other, gen in vector_files(folder):
            if gen != generation:
                other.unlink(missing_ok=True)
                compressed.exact_path(other).unlink(missing_ok=True)
        for orphan in folder.glob(f"vectors.*{compressed.SUFFIX}"):  # a crash between the two files
            if (
                orphan != compressed.exact_path(target)
                and not orphan.with_name(orphan.name.removesuffix(compressed.SUFFIX) + ".faiss").exists()
            ):
                orphan.unlink(missing_ok=True)
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
            exact = None
            if hasattr(index, "pq"):
                try:
                    exact = ExactVectors.load(compressed.exact_path(path), dim)
                except (OSError, ValueError) as e:
                    log.warning(
                        "ignoring %s: its exact vectors are unreadable (%s); rebuilding from the catalog", path, e
                    )
                    continue
            return cls(dim, index, exact), gen
        return cls(dim), None


@contextmanager
def _one_thread(enabled: bool):
    """FAISS on one OpenMP thread (in this thread only) for a query or a few: splitting one query across cores
    costs more in fork/join than it saves (measured on 2 cores: 1 thread 4 ms, 2 threads 28 ms at 50k)."""
    if not enabled:
        yield
        return
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


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
