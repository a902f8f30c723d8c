"""The compressed vector index (IVF-PQ codes, exact re-ranking from a float16 file): recall against exact search,
exact scores, add/remove, filtered search, files and their atomic save, the store's choice and manifest."""

from __future__ import annotations

import json

import numpy as np
import pytest
from glimpse.indexer import compressed
from glimpse.indexer import vectors as vx
from glimpse.indexer.catalog import NewImage
from glimpse.indexer.compressed import ExactVectors
from glimpse.indexer.store import IndexStore
from glimpse.indexer.vectors import VectorIndex, vector_files

DIM = 32
N = 12_000


def clustered(n: int, seed: int = 0, centers: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, DIM)).astype(np.float32)
    x = c[rng.integers(0, centers, n)] + 0.4 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def recall_at_10(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got[:, :10], want[:, :10], strict=True)]))


@pytest.fixture(scope="module")
def data():
    return clustered(N)


@pytest.fixture(scope="module")
def ids():
    return np.arange(N, dtype=np.int64) * 2 + 3  # sparse ids, as after deletions


@pytest.fixture(scope="module")
def flat(data, ids):
    return VectorIndex.build(DIM, ids, data, kind="flat")


@pytest.fixture(scope="module")
def built(data, ids):
    return VectorIndex.build(DIM, ids, data, kind="ivfpq")


def test_the_compressed_type_is_chosen_by_size_or_by_flag():
    assert vx.kind_for(vx.COMPRESSED_LIMIT - 1) == "ivf" and vx.kind_for(vx.COMPRESSED_LIMIT) == "ivfpq"
    assert vx.kind_for(100, "ivfpq") == "flat"  # too few vectors to train codes on: exact
    assert vx.kind_for(vx.CHOSEN_FROM["ivfpq"], "ivfpq") == "ivfpq" and vx.kind_for(10**8, "flat") == "flat"
    with pytest.raises(ValueError):
        vx.kind_for(10, "hnsw")
    p = compressed.pq_params(10_000_000, 384)
    assert (p.nlist, p.m, p.nbits, p.nprobe) == (2048, 96, 8, 32) and p.train_size == 2048 * 32
    for n in (10_000, 2_000_000, 100_000_000):
        p = compressed.pq_params(n, 384)
        assert p.nlist & (p.nlist - 1) == 0 and p.train_size <= n and 1 <= p.nprobe <= p.nlist


def test_finds_what_exact_search_finds_and_scores_are_exact_cosines(built, flat, ids):
    assert built.kind == "ivfpq" and len(built) == N and set(built.ids().tolist()) == set(ids.tolist())
    queries = clustered(200, seed=1)
    want_scores, want = flat.search(queries, 10)
    scores, got = built.search(queries, 10)
    assert recall_at_10(got, want) >= 0.95
    # re-ranked with the exact (float16) vectors: the scores are the cosines, not PQ estimates
    exact = (clustered(N) @ queries.T).T
    rows = np.searchsorted(ids, got)
    assert np.allclose(scores, np.take_along_axis(exact, rows, 1), atol=2e-3)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
    # without re-ranking, PQ alone ranks worse: the exact vectors are what makes the recall
    _, pq_only = built.index.search(queries, 10)
    assert recall_at_10(pq_only, want) < recall_at_10(got, want)


def test_saved_and_loaded_it_answers_the_same(built, tmp_path):
    queries = clustered(20, seed=2)
    before = built.search(queries, 10)
    built.save(tmp_path, 7)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.7.exact.npy", "vectors.7.faiss"]
    loaded, gen = VectorIndex.load(tmp_path, DIM)
    assert gen == 7 and loaded.kind == "ivfpq" and len(loaded) == N
    after = loaded.search(queries, 10)
    assert np.array_equal(after[1], before[1]) and np.allclose(after[0], before[0])
    assert isinstance(loaded.exact.base, np.memmap)  # read from disk, not held in memory


def test_add_remove_and_save_again(data, ids, tmp_path):
    index = VectorIndex.build(DIM, ids, data, kind="ivfpq")
    index.save(tmp_path, 1)
    index, _ = VectorIndex.load(tmp_path, DIM)
    index.remove(ids[:50])
    new = clustered(5, seed=9)
    new_ids = np.array([10**6, 10**6 + 1, 10**6 + 2, 10**6 + 3, 10**6 + 4])  # beyond the file's rows
    index.add(new_ids, new)
    assert len(index) == N - 50 + 5
    scores, found = index.search(new, 1)
    assert found[:, 0].tolist() == new_ids.tolist() and np.allclose(scores[:, 0], 1.0, atol=2e-3)
    _, near = index.search(data[:50], 10)
    assert not set(near.ravel().tolist()) & set(ids[:50].tolist())
    assert np.allclose(index.reconstruct(new_ids[:2]), new[:2], atol=2e-3)
    index.save(tmp_path, 2)
    assert {p.name for p in tmp_path.iterdir()} == {"vectors.2.exact.npy", "vectors.2.faiss"}  # older ones gone
    reloaded, _ = VectorIndex.load(tmp_path, DIM)
    assert np.array_equal(reloaded.search(new, 1)[1], found) and len(reloaded) == N - 45


@pytest.mark.parametrize("path", ["exact vectors", "codes then re-ranking"])
def test_search_within_a_subset_is_exact(built, flat, ids, monkeypatch, path):
    if path == "codes then re-ranking":
        monkeypatch.setattr(vx, "WITHIN_EXACT", 10)
    within = ids[100:3000:3]
    query = clustered(3, seed=5)
    scores, got = built.search(query, 10, within=within)
    want_scores, want = flat.search(query, 10, within=within)
    assert np.allclose(scores, want_scores, atol=2e-3)  # exact up to float16: near-ties may swap places
    assert recall_at_10(got, want) >= 0.9
    assert set(built.search(query, 50, within=within)[1].ravel().tolist()) <= set(within.tolist())


def test_an_interrupted_save_keeps_the_previous_files(built, tmp_path, monkeypatch):
    built.save(tmp_path, 1)
    query = clustered(1, seed=3)
    want = built.search(query, 10)[1]

    def crash(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(vx._faiss(), "write_index", crash)
    with pytest.raises(RuntimeError):
        built.save(tmp_path, 2)
    monkeypatch.undo()
    loaded, gen = VectorIndex.load(tmp_path, DIM)
    assert gen == 1 and np.array_equal(loaded.search(query, 10)[1], want)
    vx.remove_leftovers(tmp_path)
    assert not list(tmp_path.glob(".vectors.*"))
    loaded.save(tmp_path, 3)  # the next save sweeps the half-written generation's exact file
    assert {p.name for p in tmp_path.iterdir()} == {"vectors.3.exact.npy", "vectors.3.faiss"}


def test_a_missing_exact_file_means_a_rebuild_not_wrong_answers(built, tmp_path):
    built.save(tmp_path, 4)
    (tmp_path / "vectors.4.exact.npy").unlink()
    index, gen = VectorIndex.load(tmp_path, DIM)
    assert gen is None and len(index) == 0  # the store then rebuilds it from the catalog


def test_exact_vectors_are_addressed_by_id_and_saved_whole(tmp_path):
    exact = ExactVectors.scratch(4, 10)
    exact.fill(np.array([2, 5]), np.array([[1, 0, 0, 0], [0, 1, 0, 0]], np.float32))
    exact.put(np.array([5, 12]), np.array([[0, 0, 1, 0], [0, 0, 0, 1]], np.float32))
    assert exact.rows == 13
    got = exact.get(np.array([12, 2, 5, 7]))
    assert got.tolist() == [[0, 0, 0, 1], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    exact.save(tmp_path / "v.exact.npy")
    loaded = ExactVectors.load(tmp_path / "v.exact.npy", 4)
    assert loaded.get(np.array([12, 2, 5])).tolist() == got[:3].tolist() and not loaded.changed
    loaded.save(tmp_path / "w.exact.npy")  # unchanged: a hard link, no copy
    assert (tmp_path / "w.exact.npy").stat().st_ino == (tmp_path / "v.exact.npy").stat().st_ino
    with pytest.raises(ValueError):
        ExactVectors.load(tmp_path / "v.exact.npy", 8)


def test_the_store_builds_the_chosen_type_records_it_and_keeps_it_in_step(tmp_path, data):
    folder = tmp_path / "idx"
    with IndexStore.open_or_create(folder, {"caption": "c", "classifier": "r", "text": "t"}, DIM) as store:
        root = store.catalog.root_id("/lib", create=True)
        with store.catalog.transaction():
            for i, v in enumerate(data):
                store.catalog.insert(root, NewImage(path=f"{i}.jpg", name=f"{i}.jpg", caption=f"c{i}", embedding=v))
        store.save_vectors()
        assert store.vectors().kind == "flat" and store.index_kind == "auto"
        store.set_index_kind("ivfpq")
        store.save_vectors()  # rebuilt as the chosen type though no photo changed
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["index_kind"] == "ivfpq"
    params = manifest["vector_index"]["text"]
    assert params["kind"] == "ivfpq" and params["m"] == DIM // 4 and params["nbits"] == 8
    assert params["nlist"] >= 16 and params["nprobe"] >= 1 and params["rerank"] == compressed.RERANK
    assert 0 < params["train_size"] <= N and params["opq"] is False
    assert manifest["vector_index"]["image"] == {"kind": "flat"}
    [(path, gen)] = vector_files(folder)
    assert compressed.exact_path(path).is_file()

    with IndexStore.open(folder) as reader:  # a search process: loads the files, no rebuild
        index = reader.vectors()
        assert index.kind == "ivfpq" and isinstance(index.exact.base, np.memmap)
        assert reader.vectors().search(data[7], 1)[1][0][0] == 8  # row ids start at 1
    with IndexStore.open(folder, readonly=False) as store:  # a new photo: added incrementally, same index
        root = store.catalog.root_id("/lib")
        new = clustered(1, seed=11)[0]
        with store.catalog.transaction():
            new_id = store.catalog.insert(root, NewImage(path="new.jpg", name="new.jpg", caption="n", embedding=new))
        index = store.vectors()
        assert index.kind == "ivfpq" and len(index) == N + 1
        assert index.search(new, 1)[1][0][0] == new_id
        store.save_vectors()
        store.set_index_kind("auto")  # back to the size's choice: exact at this size
        assert store.vectors().kind == "flat" and len(store.vectors()) == N + 1


@pytest.mark.usefixtures("tiny_models_env")
def test_glimpse_index_takes_the_type_and_keeps_it(run_cli, library, tmp_path):
    index = tmp_path / "idx"
    code, _, err = run_cli("index", library, "--index", index, "--index-kind", "ivfpq")
    assert code == 0, err
    manifest = json.loads((index / "manifest.json").read_text())
    # six photos are too few to train codes on: exact until CHOSEN_FROM, but the choice is kept for later runs
    assert manifest["index_kind"] == "ivfpq" and manifest["vector_index"]["text"] == {"kind": "flat"}
    code, _, err = run_cli("index", library, "--index", index)
    assert code == 0 and json.loads((index / "manifest.json").read_text())["index_kind"] == "ivfpq"
    code, out, _ = run_cli("search", "a cat", "--index", index, "--json")
    assert code == 0 and json.loads(out)["results"]
    code, _, err = run_cli("index", library, "--index", index, "--index-kind", "hnsw")
    assert code == 2 and "hnsw" in err


def test_a_saved_file_is_read_row_by_row_not_through_its_mapping(tmp_path):
    """Re-ranking reads a saved file's rows with pread, so they stay in the page cache instead of piling up in
    the search process's resident memory (the mapping is kept for a save's bulk copy only)."""
    rows = np.random.default_rng(0).standard_normal((50, 4)).astype(np.float16)
    np.save(tmp_path / "v.exact.npy", rows)
    loaded = ExactVectors.load(tmp_path / "v.exact.npy", 4)

    class Unmapped:
        def __len__(self):
            return len(rows)

        def __getitem__(self, key):
            raise AssertionError("read through the mapping")

    loaded.base = Unmapped()
    assert loaded.get(np.array([49, 0, 7])).tolist() == rows[[49, 0, 7]].astype(np.float32).tolist()
