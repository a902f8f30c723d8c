"""Vector index type chosen by size: exact below a limit, IVF above; both add, remove, search, sync and save."""

from __future__ import annotations

import numpy as np
import pytest
from glimpse.indexer import vectors as vx
from glimpse.indexer.vectors import VectorIndex

DIM = 32


def clustered(n: int, seed: int = 0, centers: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, DIM)).astype(np.float32)
    x = c[rng.integers(0, centers, n)] + 0.35 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def recall_at_10(index: VectorIndex, exact: VectorIndex, queries: np.ndarray) -> float:
    _, want = exact.search(queries, 10)
    _, got = index.search(queries, 10)
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got, strict=True)]))


def test_index_type_and_list_count_follow_the_collection_size():
    assert vx.kind_for(vx.EXACT_LIMIT - 1) == "flat" and vx.kind_for(vx.EXACT_LIMIT) == "ivf"
    assert vx.lists_for(100_000) == 512 and vx.lists_for(1_000_000) == 2048
    for n in (1_000, 50_000, 10_000_000):
        nlist = vx.lists_for(n)
        assert nlist & (nlist - 1) == 0 and nlist * vx.TRAIN_PER_LIST <= n
        assert 1 <= vx.nprobe_for(nlist) <= nlist


def test_ivf_finds_what_exact_search_finds_on_clustered_vectors():
    data = clustered(6000)
    ids = np.arange(100, 6100, dtype=np.int64)
    exact = VectorIndex.build(DIM, ids, data, kind="flat")
    ivf = VectorIndex.build(DIM, ids, data, kind="ivf")
    assert exact.kind == "flat" and ivf.kind == "ivf" and len(ivf) == 6000
    assert set(ivf.ids().tolist()) == set(ids.tolist())
    queries = clustered(200, seed=1)
    assert recall_at_10(ivf, exact, queries) >= 0.95
    scores, found = ivf.search(queries[:1], 5)
    assert found.shape == (1, 5) and np.all(np.diff(scores[0]) <= 1e-6)


def test_ivf_removes_reconstructs_and_searches_within_a_subset():
    data = clustered(5000)
    ids = np.arange(5000, dtype=np.int64) * 3 + 7
    ivf = VectorIndex.build(DIM, ids, data, kind="ivf")
    flat = VectorIndex.build(DIM, ids, data, kind="flat")
    ivf.remove(ids[:100])
    flat.remove(ids[:100])
    assert len(ivf) == 4900 and not set(ids[:100].tolist()) & set(ivf.ids().tolist())
    assert np.allclose(ivf.reconstruct(ids[200:203]), data[200:203], atol=1e-6)
    within = ids[100:400:7]
    query = clustered(1, seed=5)
    assert np.array_equal(ivf.search(query, 10, within=within)[1], flat.search(query, 10, within=within)[1])
    assert set(ivf.search(query, 50, within=within)[1][0].tolist()) <= set(within.tolist())


def test_sync_switches_type_when_the_size_crosses_the_limit_with_slack(monkeypatch):
    monkeypatch.setattr(vx, "EXACT_LIMIT", 3000)
    data = clustered(8000)
    all_ids = np.arange(1, 8001, dtype=np.int64)
    store = dict(zip(all_ids.tolist(), data, strict=True))

    def fetch(ids):
        ids = all_ids if ids is None else np.asarray(ids)
        return ids, np.stack([store[int(i)] for i in ids]) if len(ids) else np.zeros((0, DIM), np.float32)

    index = VectorIndex(DIM)
    assert index.sync(all_ids[:2000], fetch) == (2000, 0) and index.kind == "flat"
    assert index.sync(all_ids[:6000], fetch) == (4000, 0) and index.kind == "ivf"
    assert set(index.ids().tolist()) == set(all_ids[:6000].tolist())
    # below the limit but above half of it: stays IVF, removes incrementally
    assert index.sync(all_ids[:2800], fetch) == (0, 3200) and index.kind == "ivf" and len(index) == 2800
    # below half the limit: exact again
    assert index.sync(all_ids[:1000], fetch) == (0, 1800) and index.kind == "flat" and len(index) == 1000
    assert set(index.ids().tolist()) == set(all_ids[:1000].tolist())


def test_an_ivf_index_survives_save_and_load(tmp_path):
    data = clustered(5000)
    ids = np.arange(5000, dtype=np.int64) + 1
    ivf = VectorIndex.build(DIM, ids, data, kind="ivf")
    ivf.save(tmp_path, 7)
    loaded, generation = VectorIndex.load(tmp_path, DIM)
    assert generation == 7 and loaded.kind == "ivf" and len(loaded) == 5000
    assert loaded.index.nprobe == vx.nprobe_for(loaded.index.nlist)
    queries = clustered(20, seed=3)
    assert np.array_equal(loaded.search(queries, 10)[1], ivf.search(queries, 10)[1])
    loaded.remove(ids[:10])
    assert len(loaded) == 4990


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_empty_and_tiny_searches(kind):
    ids = np.arange(5000, dtype=np.int64)
    index = VectorIndex.build(DIM, ids, clustered(5000), kind=kind)
    scores, found = index.search(clustered(2, seed=9), 3, within=np.array([4, 9], dtype=np.int64))
    assert found.shape == (2, 2) and set(found.ravel().tolist()) == {4, 9}
    empty = VectorIndex(DIM)
    scores, found = empty.search(clustered(1), 5)
    assert found.tolist() == [[-1]]
