"""End to end through the CLI on data/ with tiny local models: index, re-index, change the library, search."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("tiny_models_env")

PHOTOS = 6


def index_json(run_cli, library: Path, index: Path, *extra) -> dict:
    code, out, err = run_cli("index", library, "--index", index, "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def rows(index: Path) -> dict[str, tuple]:
    """path -> (id, status, caption, hash) of every row, indexed or failed."""
    from glimpse.indexer.catalog import Catalog

    with Catalog(index / "catalog.db", readonly=True) as catalog:
        return {r.path: (r.id, r.status, r.caption, r.hash) for r in catalog.records(status=None)}


def test_index_then_reindex_processes_nothing(run_cli, library, tmp_path):
    index = tmp_path / "idx"
    first = index_json(run_cli, library, index)
    assert first["added"] == PHOTOS and first["failed"] == []
    assert (index / "manifest.json").is_file() and list(index.glob("vectors.*.faiss"))
    captions = {path: r[2] for path, r in rows(index).items()}
    assert all(isinstance(c, str) and c for c in captions.values())

    again = index_json(run_cli, library, index)
    assert again["unchanged"] == PHOTOS
    assert again["added"] == again["updated"] == again["moved"] == again["removed"] == 0

    code, out, _ = run_cli("stats", "--index", index, "--json")
    stats = json.loads(out)
    assert code == 0 and stats["indexed"] == PHOTOS and stats["failed"] == 0 and stats["vectors"] == PHOTOS


def test_add_modify_delete_move(run_cli, library, tmp_path):
    index = tmp_path / "idx"
    index_json(run_cli, library, index)
    before = rows(index)

    shutil.copy(library / "pets" / "chelsea.jpg", library / "food" / "new-cat.jpg")  # an identical copy
    from PIL import Image

    Image.new("RGB", (64, 48), (10, 200, 30)).save(library / "travel" / "green.png")  # genuinely new
    with Image.open(library / "food" / "coffee.jpg") as im:  # modified in place
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(library / "food" / "coffee.jpg", quality=85)
    (library / "travel" / "flower.jpg").unlink()  # deleted
    (library / "space" / "archive").mkdir()
    (library / "space" / "rocket.jpg").rename(library / "space" / "archive" / "launch.jpg")  # moved

    summary = index_json(run_cli, library, index)
    assert summary["added"] == 2 and summary["updated"] == 1
    assert summary["removed"] == 1 and summary["moved"] == 1 and summary["failed"] == []

    after = rows(index)
    assert "travel/flower.jpg" not in after and "space/rocket.jpg" not in after
    # the move kept its row (same id, caption, hash): it was not captioned again
    assert after["space/archive/launch.jpg"][0] == before["space/rocket.jpg"][0]
    assert after["space/archive/launch.jpg"][2:] == before["space/rocket.jpg"][2:]
    # the identical copy reused the original's results
    assert after["food/new-cat.jpg"][2:] == after["pets/chelsea.jpg"][2:]
    # the modified file got a new row (a new FAISS id) and a new hash
    assert after["food/coffee.jpg"][0] != before["food/coffee.jpg"][0]
    assert after["food/coffee.jpg"][3] != before["food/coffee.jpg"][3]

    code, out, _ = run_cli("stats", "--index", index, "--json")
    assert json.loads(out)["vectors"] == PHOTOS + 1 == json.loads(out)["indexed"]


def test_interrupted_run_resumes_losing_at_most_one_batch(run_cli, library, tmp_path, monkeypatch):
    import glimpse.indexer.pipeline as pipeline

    index = tmp_path / "idx"
    real, calls = pipeline.infer_batch, []

    def interrupt_on_second_batch(images, models):
        calls.append(len(images))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(images, models)

    monkeypatch.setattr(pipeline, "infer_batch", interrupt_on_second_batch)
    code, _, err = run_cli("index", library, "--index", index, "--batch-size", "2")
    assert code == 130 and "resume" in err
    assert len(rows(index)) == 2  # the first batch was committed

    monkeypatch.setattr(pipeline, "infer_batch", real)
    summary = index_json(run_cli, library, index, "--batch-size", "2")
    assert summary["unchanged"] == 2 and summary["added"] == PHOTOS - 2
    code, out, _ = run_cli("stats", "--index", index, "--json")
    assert json.loads(out)["vectors"] == PHOTOS


def test_bad_files_are_recorded_and_skipped(run_cli, library, tmp_path):
    (library / "empty.jpg").write_bytes(b"")
    (library / "garbage.png").write_bytes(os.urandom(5000))
    data = (library / "pets" / "chelsea.jpg").read_bytes()
    (library / "truncated.jpg").write_bytes(data[: len(data) // 2])
    index = tmp_path / "idx"
    summary = index_json(run_cli, library, index)
    failed = {f["path"]: f["reason"] for f in summary["failed"]}
    assert set(failed) == {"empty.jpg", "garbage.png", "truncated.jpg"}
    assert "truncated" in failed["truncated.jpg"]
    assert summary["added"] == PHOTOS

    code, out, _ = run_cli("stats", "--index", index, "--json")
    stats = json.loads(out)
    assert stats["failed"] == 3 and stats["indexed"] == PHOTOS
    assert {Path(f["path"]).name for f in stats["failures"]} == set(failed)

    # failed files are not retried until they change
    again = index_json(run_cli, library, index)
    assert again["failed"] == [] and again["unchanged"] == PHOTOS + 3


def test_search_prints_ranked_results(run_cli, library, tmp_path):
    index = tmp_path / "idx"
    index_json(run_cli, library, index)
    code, out, _ = run_cli("search", "chelsea", "--index", index, "--json", "-k", "3")
    assert code == 0
    results = json.loads(out)
    # random captions mean nothing, but the file name is exact-word evidence
    assert results["results"][0]["path"].endswith("pets/chelsea.jpg")
    assert results["results"][0]["matched"]["name"] == ["chelsea"]
    assert len(results["results"]) <= 3

    code, out, _ = run_cli("search", "chelsea", "--index", index)
    assert code == 0 and "chelsea.jpg" in out.splitlines()[0]


def test_second_indexer_refuses(run_cli, library, tmp_path):
    from filelock import FileLock

    index = tmp_path / "idx"
    index_json(run_cli, library, index)
    with FileLock(index / "indexer.lock"):
        code, _, err = run_cli("index", library, "--index", index)
    assert code == 1 and "another glimpse indexer" in err


def test_missing_model_fails_before_touching_the_index(run_cli, library, tmp_path, monkeypatch):
    monkeypatch.setenv("GLIMPSE_CAPTION_MODEL", str(tmp_path / "no-such-model"))
    index = tmp_path / "idx"
    code, _, err = run_cli("index", library, "--index", index)
    assert code == 1
    assert "no-such-model" in err and "GLIMPSE_CAPTION_MODEL" in err
    assert not index.exists()


def test_caption_command(run_cli, library):
    code, out, _ = run_cli("caption", library / "pets" / "chelsea.jpg", library / "food" / "coffee.jpg", "--json")
    assert code == 0
    items = json.loads(out)
    assert [Path(i["path"]).name for i in items] == ["chelsea.jpg", "coffee.jpg"]
    for item in items:
        assert isinstance(item["caption"], str) and item["caption"]
        scores = [lb["score"] for lb in item["labels"]]
        assert len(scores) == 3 and scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0001
