"""A library full of awkward files: every run completes, each file is indexed or listed with a reason."""

from __future__ import annotations

import os
from pathlib import Path

import glimpse.indexer.pipeline as pipeline
import pytest
from glimpse.indexer.pipeline import index_folder
from glimpse.indexer.store import IndexStore

from tests.images import bad_library


def open_store(tmp_path: Path, models) -> IndexStore:
    return IndexStore.open_or_create(tmp_path / "idx", models.ids(), models.embedder.dim)


def test_every_awkward_file_is_indexed_or_listed(tmp_path, tiny_models):
    lib = tmp_path / "lib"
    expect = bad_library(lib)
    # file-system oddities
    (lib / "sub").mkdir()
    (lib / "sub" / "loop").symlink_to(lib, target_is_directory=True)  # a symlink loop
    (lib / "outside.jpg").symlink_to(Path(__file__).resolve().parent.parent / "data/photos/pets/chelsea.jpg")
    (lib / ".hidden").mkdir()
    (lib / ".hidden" / "secret.jpg").write_bytes((lib / "gray.jpg").read_bytes())
    locked = lib / "locked.jpg"
    locked.write_bytes((lib / "gray.jpg").read_bytes())
    locked.chmod(0)
    try:
        with open_store(tmp_path, tiny_models) as store:
            summary = index_folder(lib, store, tiny_models, batch_size=4)
            failed = dict(summary.failed)
            records = {r.path: r for r in store.catalog.records(status="ok")}
    finally:
        locked.chmod(0o644)

    for name, outcome in expect.items():
        if outcome == "ok":
            assert name in records, f"{name!r} should be indexed; failed with {failed.get(name)}"
            assert records[name].caption
        else:
            assert name in failed and failed[name], f"{name!r} should be listed with a reason"
    # root can read a chmod-000 file; anyone else gets a clear reason
    if os.geteuid() == 0:
        assert "locked.jpg" in records
    else:
        assert "permission" in failed["locked.jpg"].lower()
    assert "outside.jpg" not in records and "outside.jpg" not in failed  # links out of the library are ignored
    assert not any(p.startswith((".hidden", "sub/loop")) for p in list(records) + list(failed))
    assert records["panorama.png"].width == 30000 and records["one-pixel.png"].height == 1


def test_file_deleted_between_scan_and_read(tmp_path, tiny_models, monkeypatch):
    lib = tmp_path / "lib"
    bad_library(lib)
    victim = lib / "gray.jpg"
    real = pipeline.decode_one

    def delete_first(item):
        if item.entry.path == victim:
            victim.unlink()
        return real(item)

    monkeypatch.setattr(pipeline, "decode_one", delete_first)
    with open_store(tmp_path, tiny_models) as store:
        summary = index_folder(lib, store, tiny_models)
        assert "vanished" in dict(summary.failed)["gray.jpg"]
        again = index_folder(lib, store, tiny_models)
        assert again.removed == 1  # the next run forgets it
        assert store.catalog.find(store.catalog.root_id(str(lib.resolve())), "gray.jpg") is None


@pytest.mark.parametrize("name", ["café noir.jpg", "new\nline.jpg", "日本.jpg"])
def test_awkward_names_are_searchable_by_file_name(tmp_path, tiny_models, name):
    from glimpse.search import Searcher

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / name).write_bytes((Path(__file__).resolve().parent.parent / "data/photos/pets/chelsea.jpg").read_bytes())
    with open_store(tmp_path, tiny_models) as store:
        index_folder(lib, store, tiny_models)
        word = name.split(".")[0].split()[0].split("\n")[0]
        hits = Searcher(store, tiny_models.embedder).search(word, k=3).hits
        assert hits and hits[0].path.endswith(name)
