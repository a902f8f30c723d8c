"""The compressed index for large collections: IVF with PQ codes in FAISS, re-ranked with exact vectors from disk.

Past a few million vectors an uncompressed index no longer fits memory comfortably (10M x 384 float32 = 15 GB).
Here FAISS holds only `m` bytes of product-quantization code per vector (plus its 8-byte id) in inverted lists
under an exact coarse quantizer; a query scans `nprobe` lists for the best `rerank` candidates by approximate
score, and re-ranks them with their exact vectors, so the scores returned are exact cosines.

The exact vectors live beside the FAISS file in `vectors.<generation>.exact.npy`: float16 (a cosine error
below 1e-3), one row per id (row i holds the vector of catalog row id i; rows of removed ids are stale and never
read), memory-mapped, so only the rows a query touches are read. The file is written atomically like the FAISS
file (temp file, fsync, `os.replace`) and carries the same generation. Changes since it was written (an index
run adding photos, an edit) are kept in memory until the next save.

`pq_params(n, dim)` chooses the parameters; they are recorded in the manifest (`vector_index`).
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .atomic import fsync

log = logging.getLogger(__name__)

RERANK = 256  # candidates re-ranked with exact vectors (at 300k: recall@10 0.985 at nprobe 32, docs/scaling.md)
PQ_TRAIN = 32_768  # PQ training sample (256 centroids x 128 samples per sub-quantizer)
TRAIN_PER_LIST = 32  # coarse k-means sample per list
CHUNK = 65_536  # vectors per add/copy step: memory stays bounded while building or saving
SUFFIX = ".exact.npy"


def _faiss():
    import faiss

    return faiss


@dataclass(frozen=True)
class PQParams:
    """What a compressed index is made of (recorded in the manifest)."""

    nlist: int  # inverted lists (coarse k-means centroids)
    m: int  # PQ sub-quantizers = code bytes per vector
    nbits: int  # bits per sub-quantizer code
    nprobe: int  # lists scanned per query
    rerank: int  # candidates re-ranked with exact vectors
    opq: bool  # an OPQ rotation before PQ (not used: the re-ranking already corrects PQ's errors)
    train_size: int  # the training sample: k-means for the lists, then PQ_TRAIN of them for the codes

    def as_dict(self) -> dict:
        return {"kind": "ivfpq", **asdict(self), "exact_vectors": "float16, row = id, vectors.<gen>.exact.npy"}


def pq_params(n: int, dim: int) -> PQParams:
    """Parameters for `n` vectors: sqrt(n) lists at most (a power of two, 256..65536), `dim / 4` code bytes. Fewer
    lists than IVF-Flat's: assigning every vector to its list costs n x nlist products, the build's biggest part."""
    nlist = 2 ** int(math.log2(max(math.sqrt(max(n, 1)), 1)))
    nlist = min(65_536, max(256, nlist))
    while nlist > 16 and nlist * TRAIN_PER_LIST > n:
        nlist //= 2
    m = next(m for m in (dim // 4, dim // 8, dim // 2, dim) if m and dim % m == 0)
    nprobe = min(nlist, max(16, nlist // 64))  # 2048 lists at 10M: 32 scanned, about 160k codes
    return PQParams(nlist, m, 8, nprobe, RERANK, False, min(n, max(nlist * TRAIN_PER_LIST, PQ_TRAIN)))


def build_ivfpq(dim: int, params: PQParams, sample: np.ndarray):
    """An empty, trained `IndexIVFPQ` (inner product, exact coarse quantizer, hash-table direct map for removes).

    The coarse quantizer is exact (`IndexFlatIP`): a query compares itself with a few thousand centroids in well
    under a millisecond, and adding vectors in chunks assigns them through BLAS, which an HNSW quantizer over so
    few centroids would not make cheaper."""
    faiss = _faiss()
    sample = np.ascontiguousarray(sample, dtype=np.float32)
    kmeans = faiss.Kmeans(dim, params.nlist, niter=12, spherical=True, seed=1, max_points_per_centroid=10_000)
    kmeans.train(sample)
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(kmeans.centroids)
    ivf = faiss.IndexIVFPQ(quantizer, dim, params.nlist, params.m, params.nbits, faiss.METRIC_INNER_PRODUCT)
    ivf.own_fields = True
    quantizer.this.disown()
    rng = np.random.default_rng(0)
    ivf.train(sample[rng.choice(len(sample), min(len(sample), PQ_TRAIN), replace=False)])
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    ivf.nprobe = params.nprobe
    return ivf


def params_of(ivf, rerank: int = RERANK, train_size: int = 0) -> PQParams:
    return PQParams(ivf.nlist, ivf.pq.M, ivf.pq.nbits, ivf.nprobe, rerank, False, train_size)


class ExactVectors:
    """float16 vectors addressed by id: row i is id i's vector. A read-only (memory-mapped) base, from a file or a
    scratch file while building, plus the rows changed since, in memory.

    A search reads the rows of a saved file with `pread`, not through the mapping: the few hundred rows a query
    re-ranks then stay in the kernel's page cache instead of piling up in the process's resident memory. Through
    the mapping, 1,000 queries made 3.6 GB of a 5M-photo file resident here, and handing the pages back every
    32 queries (madvise DONTNEED) still left 2.2 GB, since this machine maps a file in large pieces; `pread` keeps
    the process at 0.8 GB, at the cost of 256 system calls a query (5.8 ms a query measured here, against 0.8 ms
    through a warm mapping: system calls are slow on this sandboxed machine)."""

    def __init__(self, dim: int, base: np.ndarray | None = None, path: Path | None = None):
        self.dim = dim
        self.base = base if base is not None else np.zeros((0, dim), np.float16)
        self.path = path  # the saved file `base` maps, if any (a clean save can link it)
        self.changed: dict[int, np.ndarray] = {}
        self._file, self._offset = None, 0
        if path is not None:
            self._file = open(path, "rb")  # noqa: SIM115 - kept open for pread, closed with the object
            major, _ = np.lib.format.read_magic(self._file)
            fmt = np.lib.format
            (fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0)(self._file)
            self._offset = self._file.tell()

    @classmethod
    def scratch(cls, dim: int, rows: int) -> ExactVectors:
        """A writable base of `rows` zero rows in an unnamed temporary file (it goes when the mapping goes)."""
        f = tempfile.TemporaryFile(prefix="glimpse-exact-")
        f.truncate(max(rows, 1) * dim * 2)
        base = np.memmap(f, dtype=np.float16, mode="r+", shape=(max(rows, 1), dim))
        f.close()  # the mapping keeps the file
        return cls(dim, base)

    @classmethod
    def load(cls, path: Path, dim: int) -> ExactVectors:
        base = np.load(path, mmap_mode="r")
        if base.ndim != 2 or base.shape[1] != dim or base.dtype != np.float16:
            raise ValueError(f"{path} holds {base.dtype} {base.shape}, expected float16 rows of {dim}")
        return cls(dim, base, Path(path))

    def fill(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Write rows straight into a scratch base (building); ids must be below its row count."""
        self.base[np.asarray(ids, dtype=np.int64)] = vectors.astype(np.float16)

    def put(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        for i, v in zip(np.asarray(ids, dtype=np.int64).tolist(), vectors.astype(np.float16), strict=True):
            self.changed[i] = v

    def get(self, ids: np.ndarray) -> np.ndarray:
        """float32 rows for `ids`, read from the file in increasing row order."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros((len(ids), self.dim), np.float32)
        inside = np.flatnonzero(ids < len(self.base))
        if len(inside):
            inside = inside[np.argsort(ids[inside], kind="stable")]
            out[inside] = self._read(ids[inside])
        if self.changed:
            for j, i in enumerate(ids.tolist()):
                if (v := self.changed.get(i)) is not None:
                    out[j] = v
        return out

    def _read(self, rows: np.ndarray) -> np.ndarray:
        if self._file is None:
            return self.base[rows]
        size, fd = self.dim * 2, self._file.fileno()
        data = b"".join(os.pread(fd, size, self._offset + row * size) for row in rows.tolist())
        return np.frombuffer(data, np.float16).reshape(len(rows), self.dim)

    @property
    def rows(self) -> int:
        return max(len(self.base), max(self.changed, default=-1) + 1)

    def save(self, target: Path) -> None:
        """Write every row to `target` atomically: a hard link when nothing changed since the file was loaded."""
        target = Path(target)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            if not self.changed and self.path is not None and self.path.exists():
                tmp.unlink(missing_ok=True)
                os.link(self.path, tmp)
            else:
                out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=(self.rows, self.dim))
                for start in range(0, len(self.base), CHUNK):
                    end = min(start + CHUNK, len(self.base))
                    out[start:end] = self.base[start:end]
                for i, v in self.changed.items():
                    out[i] = v
                out.flush()
                del out
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        fsync(target.parent)
        self.__init__(self.dim, np.load(target, mmap_mode="r"), target)


def exact_path(faiss_file: Path) -> Path:
    return Path(faiss_file).with_name(Path(faiss_file).name.removesuffix(".faiss") + SUFFIX)


def rerank(exact: ExactVectors, queries: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best `k` of each query's candidate `ids` (-1 = none) by exact inner product: (scores, ids)."""
    n = len(queries)
    scores = np.full((n, k), -np.inf, np.float32)
    out = np.full((n, k), -1, np.int64)
    for q in range(n):
        cand = ids[q][ids[q] >= 0]
        if not len(cand):
            continue
        sims = exact.get(cand) @ queries[q]
        top = np.argsort(-sims, kind="stable")[:k]
        scores[q, : len(top)], out[q, : len(top)] = sims[top], cand[top]
    return scores, out
