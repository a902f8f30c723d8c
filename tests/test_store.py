"""The index folder: catalog and FAISS stay consistent, and damage is repaired or reported, never hidden."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pytest
from glimpse.indexer.catalog import MIGRATIONS, SCHEMA_VERSION, Catalog, NewImage
from glimpse.indexer.errors import IndexCorrupt, IndexNotFound, ModelMismatch, SchemaTooNew
from glimpse.indexer.store import IndexStore
from glimpse.indexer.types import Filters, Label
from glimpse.indexer.vectors import vector_files

DIM = 8
MODELS = {"caption": "c", "classifier": "r", "text": "t"}


def random_unit(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def fill(store: IndexStore, n: int, seed: int = 0) -> np.ndarray:
    vectors = random_unit(n, seed)
    root = store.catalog.root_id("/lib", create=True)
    with store.catalog.transaction():
        for i, v in enumerate(vectors):
            store.catalog.insert(root, NewImage(path=f"{seed}-{i}.jpg", name=f"{i}.jpg", caption=f"c{i}", embedding=v))
    store.save_vectors()
    return vectors


@pytest.fixture
def store(tmp_path):
    with IndexStore.open_or_create(tmp_path / "idx", MODELS, DIM) as s:
        yield s


def test_vectors_match_catalog_and_search_is_cosine(store):
    vectors = fill(store, 20)
    assert len(store.vectors()) == 20
    [(path, gen)] = vector_files(store.folder)
    assert gen == store.catalog.vector_generation()
    scores, ids = store.vectors().search(vectors[3], 1)
    assert ids[0][0] == 4 and scores[0][0] == pytest.approx(1.0, abs=1e-5)  # row ids start at 1


@pytest.mark.parametrize("damage", ["missing", "garbage", "truncated", "stale"])
def test_damaged_vector_file_is_rebuilt_from_catalog(tmp_path, damage):
    folder = tmp_path / "idx"
    with IndexStore.open_or_create(folder, MODELS, DIM) as s:
        fill(s, 30)
    [(path, _)] = vector_files(folder)
    if damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"\x00garbage" * 100)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    else:  # the catalog moved on without the FAISS file (a crash between commit and save)
        with Catalog(folder / "catalog.db") as catalog, catalog.transaction():
            catalog.delete(range(1, 6))
    with IndexStore.open(folder) as s:
        expected = s.catalog.embedded_ids()
        assert sorted(s.vectors().ids().tolist()) == sorted(expected.tolist())
        assert len(s.vectors()) == (25 if damage == "stale" else 30)


def test_reader_sees_writer_batches(tmp_path):
    folder = tmp_path / "idx"
    with IndexStore.open_or_create(folder, MODELS, DIM) as writer, IndexStore.open(folder) as reader:
        fill(writer, 5, seed=1)
        assert len(reader.vectors()) == 5
        fill(writer, 7, seed=2)
        assert len(reader.vectors()) == 12


def test_crash_while_saving_leaves_old_file_and_leftovers_are_cleaned(tmp_path, monkeypatch):
    import faiss

    folder = tmp_path / "idx"
    with IndexStore.open_or_create(folder, MODELS, DIM) as s:
        fill(s, 10)
    [(old, old_gen)] = vector_files(folder)

    def torn_write(index, name):  # half a file, then the "crash"
        with open(name, "wb") as f:
            f.write(b"IxMp" + b"\x00" * 10)
        raise RuntimeError("simulated crash during write")

    with IndexStore.open_or_create(folder, MODELS, DIM) as s:
        root = s.catalog.root_id("/lib")
        with s.catalog.transaction():
            s.catalog.insert(root, NewImage(path="x.jpg", name="x.jpg", embedding=random_unit(1)[0]))
        monkeypatch.setattr(faiss, "write_index", torn_write)
        with pytest.raises(Exception, match="simulated crash"):
            s.save_vectors()
    monkeypatch.undo()
    assert vector_files(folder) == [(old, old_gen)]  # the old index, never a torn one
    (folder / ".vectors.99.123.tmp").write_bytes(b"leftover")  # a leftover from a killed process
    with IndexStore.open_or_create(folder, MODELS, DIM) as s:
        assert not list(folder.glob(".vectors.*.tmp"))
        assert len(s.vectors()) == 11


def test_corrupt_catalog_is_reported_and_left_alone(tmp_path):
    folder = tmp_path / "idx"
    with IndexStore.open_or_create(folder, MODELS, DIM) as s:
        fill(s, 3)
    db = folder / "catalog.db"
    for extra in folder.glob("catalog.db-*"):
        extra.unlink()
    damaged = b"this is not sqlite" + db.read_bytes()[100:]
    db.write_bytes(damaged)
    with pytest.raises(IndexCorrupt, match="damaged"):
        IndexStore.open(folder)
    with pytest.raises(IndexCorrupt):
        IndexStore.open_or_create(folder, MODELS, DIM)
    assert db.read_bytes() == damaged  # never silently emptied


def test_newer_schema_asks_for_upgrade(tmp_path):
    folder = tmp_path / "idx"
    IndexStore.open_or_create(folder, MODELS, DIM).close()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SchemaTooNew, match="upgrade glimpse"):
        IndexStore.open(folder)


def test_newer_catalog_schema_asks_for_upgrade(tmp_path):
    folder = tmp_path / "idx"
    IndexStore.open_or_create(folder, MODELS, DIM).close()
    Catalog(folder / "catalog.db", migrations=[*MIGRATIONS, ("later", "CREATE TABLE later (x)")]).close()
    with pytest.raises(SchemaTooNew, match="upgrade glimpse"):
        IndexStore.open(folder)


def test_missing_index_and_wrong_dimension(tmp_path):
    with pytest.raises(IndexNotFound, match="glimpse index"):
        IndexStore.open(tmp_path / "nothing")
    IndexStore.open_or_create(tmp_path / "idx", MODELS, DIM).close()
    with pytest.raises(ModelMismatch, match="8-d"):
        IndexStore.open_or_create(tmp_path / "idx", MODELS, 16)


def test_older_catalog_is_migrated_forward(tmp_path):
    path = tmp_path / "catalog.db"
    with Catalog(path, migrations=MIGRATIONS[:1]) as first:  # a catalog as the first release wrote it
        root = first.root_id("/lib", create=True)
        with first.transaction():
            first.insert(root, NewImage(path="a.jpg", name="a.jpg", caption="x"))
    with pytest.raises(IndexCorrupt, match="needs migrating"):
        Catalog(path, readonly=True)
    with Catalog(path) as catalog:
        assert catalog.count() == 1 and catalog.vector_generation("image") == 0
        with catalog.transaction():  # the new columns are there
            catalog.insert(root, NewImage(path="b.jpg", name="b.jpg", image_embedding=random_unit(1)[0]))
        assert catalog.embeddings(kind="image")[0].tolist() == [2]
        assert catalog.vector_generation("image") == 1
    Catalog(path, readonly=True).close()  # at SCHEMA_VERSION now
    assert len(MIGRATIONS) == SCHEMA_VERSION


def test_label_filter_counts_and_lists_alike(tmp_path):
    with Catalog(tmp_path / "catalog.db") as catalog:
        root = catalog.root_id("/lib", create=True)
        with catalog.transaction():
            for i, labels in enumerate([["Dog", "sofa"], ["cat", "dog"], ["cat"], ["hotdog"]]):
                item = NewImage(path=f"{i}.jpg", name=f"{i}.jpg", labels=[Label(n, 0.5) for n in labels])
                catalog.insert(root, item)
        dogs = Filters(label=" DOG ")
        assert [r.path for r in catalog.records(filters=dogs)] == ["0.jpg", "1.jpg"]
        assert catalog.count(dogs) == 2 and catalog.count() == 4
        assert catalog.records("path", dogs, limit=1, offset=1)[0].path == "1.jpg"


def test_one_photo_date_for_filtering_ordering_and_reading(tmp_path):
    """EXIF capture time, else the file's mtime in local time; imported captions have none."""
    noon = datetime(2022, 3, 4, 12, 0, 0)  # local time
    with Catalog(tmp_path / "catalog.db") as catalog:
        root = catalog.root_id("/lib", create=True)
        imports = catalog.root_id("<imported>", create=True)
        with catalog.transaction():
            catalog.insert(root, NewImage(path="exif.jpg", name="exif.jpg", taken_at="2021-06-12T10:00:00",
                                          mtime_ns=int(noon.timestamp() * 1e9)))  # fmt: skip
            catalog.insert(root, NewImage(path="file.jpg", name="file.jpg", mtime_ns=int(noon.timestamp() * 1e9)))
            catalog.insert(imports, NewImage(path="cats/1.jpg", name="1.jpg", caption="a cat"))
        by_date = catalog.records("date")
        assert [(r.path, r.date, r.date_source) for r in by_date] == [
            ("file.jpg", "2022-03-04T12:00:00", "file"),
            ("exif.jpg", "2021-06-12T10:00:00", "exif"),
            ("cats/1.jpg", None, None),
        ]
        in_2022 = catalog.records(filters=Filters(since=date(2022, 3, 4), until=date(2022, 3, 4)))
        assert [r.path for r in in_2022] == ["file.jpg"]
        assert catalog.count(Filters(until=date(2021, 6, 12))) == 1
