"""Near-duplicate groups: exact copies by content hash, near copies by two image embeddings.

Two photos are near copies when

    layout >= LAYOUT_THRESHOLD                                   (resized, re-encoded: the picture is the same)
    or (features >= threshold and layout >= LAYOUT_SUPPORT)      (cropped, burst shots: same scene, shifted)

- `layout` is the cosine of the photos' 8x8 grayscale "tiny image" descriptors (zero-mean, unit length);
- `features` is the cosine of their ResNet-18 features *centred* on the library's mean feature (the raw
  features are all positive after the final ReLU, so raw cosines between unrelated photos are high too).

Pairs are joined transitively into groups; a group that also holds a resized copy is "near", and lists which of
its members are byte-identical (`exact`). Exact copies are judged by the files' bytes now, not by the hashes
stored at indexing: a file whose bytes changed under the same size and mtime (which indexing does not notice
without `--verify`) is hashed again here, so two different files are never called exact copies.

The thresholds were chosen on a generated set of real photos with resized, re-encoded, cropped and burst-like
copies (benchmarks/duplicates.py): see README.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from glimpse.indexer.names import readable
from glimpse.indexer.scan import file_hash
from glimpse.indexer.store import IndexStore

log = logging.getLogger(__name__)

NEAR_THRESHOLD = 0.85  # centred ResNet-feature cosine (adjustable: `glimpse duplicates --threshold`)
LAYOUT_THRESHOLD = 0.8  # layout cosine that alone makes a near copy
LAYOUT_SUPPORT = 0.5  # layout cosine a feature match must also have
NEIGHBOURS = 10  # candidates examined per photo and per embedding


@dataclass
class DuplicateGroup:
    kind: str  # "exact" (all members have identical bytes) or "near"
    ids: list[int]
    paths: list[str] = field(default_factory=list)
    exact: list[list[int]] = field(default_factory=list)  # sets of members with identical bytes (ids, in order)

    def exact_paths(self) -> list[list[str]]:
        path = dict(zip(self.ids, self.paths, strict=True))
        return [[path[i] for i in same] for same in self.exact]

    def as_dict(self) -> dict:
        """`exact`: which members are byte-identical, as {"ids", "paths"} sets (the whole group when kind is
        "exact")."""
        exact = [{"ids": ids, "paths": paths} for ids, paths in zip(self.exact, self.exact_paths(), strict=True)]
        return {"kind": self.kind, "ids": self.ids, "paths": self.paths, "exact": exact}


class _UnionFind:
    def __init__(self):
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _unit(vectors: np.ndarray, centre: bool = False) -> np.ndarray:
    if centre:
        vectors = vectors - vectors.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.where(norms == 0, 1, norms), dtype=np.float32)


def _neighbour_pairs(vectors: np.ndarray, k: int) -> set[tuple[int, int]]:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    _, nbrs = index.search(vectors, min(k + 1, len(vectors)))
    return {(min(i, int(j)), max(i, int(j))) for i, row in enumerate(nbrs) for j in row if j >= 0 and j != i}


def near_pairs(ids: np.ndarray, features: np.ndarray, layouts: np.ndarray, threshold: float = NEAR_THRESHOLD):
    """(id, id) pairs of near copies among photos that have both embeddings (rows aligned with `ids`)."""
    if len(ids) < 2:
        return []
    feats, lays = _unit(features, centre=True), _unit(layouts)
    candidates = _neighbour_pairs(feats, NEIGHBOURS) | _neighbour_pairs(lays, NEIGHBOURS)
    pairs = []
    for i, j in candidates:
        layout, feature = float(lays[i] @ lays[j]), float(feats[i] @ feats[j])
        if layout >= LAYOUT_THRESHOLD or (feature >= threshold and layout >= LAYOUT_SUPPORT):
            pairs.append((int(ids[i]), int(ids[j])))
    return pairs


def current_hashes(store: IndexStore) -> dict[int, str]:
    """id -> content hash for the photos that share a stored hash with another, each hashed again when its file
    can be read (the stored hash otherwise, for an offline photo, say)."""
    hashes: dict[int, str] = {}
    for digest, ids in store.catalog.hash_groups():
        records = store.catalog.get(ids)
        for i in ids:
            path = records[i].full_path if i in records else None
            try:
                hashes[i] = file_hash(path) if path is not None else digest
            except OSError as e:
                log.info("cannot hash %s again (%s): using its stored hash", path, e.strerror or e)
                hashes[i] = digest
    return hashes


def find_duplicates(store: IndexStore, threshold: float = NEAR_THRESHOLD) -> list[DuplicateGroup]:
    catalog = store.catalog
    groups = _UnionFind()
    hashes = current_hashes(store)
    first_with: dict[str, int] = {}
    for i, digest in hashes.items():
        groups.union(i, first_with.setdefault(digest, i))
    feature_ids, features = catalog.embeddings(kind="image")
    layout_ids, layouts = catalog.embeddings(kind="layout")
    common, fi, li = np.intersect1d(feature_ids, layout_ids, assume_unique=True, return_indices=True)
    for a, b in near_pairs(common, features[fi], layouts[li], threshold):
        groups.union(a, b)
    members: dict[int, list[int]] = {}
    for x in list(groups.parent):
        members.setdefault(groups.find(x), []).append(x)
    records = catalog.get(i for group in members.values() for i in group)
    out = []
    for group in members.values():
        if len(group) < 2:
            continue
        paths = {i: readable(str(records[i].full_path or records[i].path)) for i in group}
        group = sorted(group, key=paths.get)
        same: dict[str, list[int]] = {}
        for i in group:
            if i in hashes:
                same.setdefault(hashes[i], []).append(i)
        exact = [ids for ids in same.values() if len(ids) > 1]
        kind = "exact" if len(exact) == 1 and len(exact[0]) == len(group) else "near"
        out.append(DuplicateGroup(kind, group, [paths[i] for i in group], exact))
    return sorted(out, key=lambda g: (g.kind != "exact", -len(g.ids), g.paths))
