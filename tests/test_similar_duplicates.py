"""Find similar and near-duplicates, on a generated set of copies (resized, re-encoded, cropped, burst)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.dupset import pair_scores, write_set

pytestmark = pytest.mark.usefixtures("tiny_models_env")


@pytest.fixture
def dup_index(run_cli, tmp_path) -> tuple[Path, Path, dict]:
    lib = tmp_path / "lib"
    truth = write_set(lib, limit=6)
    shutil.copy(lib / "chelsea.jpg", lib / "chelsea-copy.jpg")  # byte-identical
    truth["chelsea-copy.jpg"] = "chelsea"
    index = tmp_path / "idx"
    code, _, err = run_cli("index", lib, "--index", index)
    assert code == 0, err
    return lib.resolve(), index, truth


def test_duplicates_groups_copies(run_cli, dup_index):
    lib, index, truth = dup_index
    code, out, _ = run_cli("duplicates", "--index", index, "--json")
    groups = json.loads(out)
    assert code == 0
    rel = [[str(Path(p).relative_to(lib)) for p in g["paths"]] for g in groups]
    scores = pair_scores(rel, truth)
    assert scores["precision"] == 1.0 and scores["recall"] >= 0.85, scores
    chelsea = next(g for g in groups if str(lib / "chelsea-copy.jpg") in g["paths"])
    assert str(lib / "chelsea.jpg") in chelsea["paths"] and chelsea["kind"] == "near"  # exact pair + its copies

    code, out, _ = run_cli("duplicates", "--index", index)
    assert code == 0 and "group 1:" in out and "chelsea-copy.jpg" in out


def test_exact_copies_alone_form_an_exact_group(run_cli, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    src = Path(__file__).resolve().parent.parent / "data" / "photos"
    shutil.copy(src / "food" / "coffee.jpg", lib / "a.jpg")
    shutil.copy(src / "food" / "coffee.jpg", lib / "b.jpg")
    shutil.copy(src / "space" / "astronaut.jpg", lib / "c.jpg")
    assert run_cli("index", lib, "--index", tmp_path / "idx")[0] == 0
    code, out, _ = run_cli("duplicates", "--index", tmp_path / "idx", "--json")
    [group] = json.loads(out)
    paths = [str((lib / "a.jpg").resolve()), str((lib / "b.jpg").resolve())]
    assert group["kind"] == "exact" and group["paths"] == paths and len(group["ids"]) == 2
    assert group["exact"] == [{"ids": group["ids"], "paths": paths}]


@pytest.mark.parametrize("kind", ["resized", "reencoded"])
def test_similar_ranks_copies_first(run_cli, dup_index, kind):
    lib, index, truth = dup_index
    for group in sorted(set(truth.values())):
        code, out, _ = run_cli("similar", lib / f"{group}-{kind}.jpg", "--index", index, "--json", "-k", "1")
        assert code == 0
        [top] = json.loads(out)
        assert truth[str(Path(top["path"]).relative_to(lib))] == group


def test_similar_by_id_and_by_outside_file(run_cli, dup_index, tmp_path):
    lib, index, truth = dup_index
    outside = tmp_path / "outside.jpg"
    shutil.copy(lib / "coffee-resized.jpg", outside)
    code, out, _ = run_cli("similar", outside, "--index", index, "--json", "-k", "3")
    assert code == 0 and Path(json.loads(out)[0]["path"]).name.startswith("coffee")

    code, out, _ = run_cli("search", "coffee", "--index", index, "--json", "-k", "1")
    photo_id = json.loads(out)["results"][0]["id"]
    code, out, _ = run_cli("similar", str(photo_id), "--index", index, "--json", "-k", "4")
    hits = json.loads(out)
    assert code == 0 and photo_id not in [h["id"] for h in hits]  # never itself
    assert all(Path(h["path"]).name.startswith("coffee") for h in hits)

    code, _, err = run_cli("similar", "999999", "--index", index)
    assert code == 1 and "no photo with id 999999" in err
