"""Edit a caption or labels: searchable at once, marked as a person's, kept by a re-index and an import, undoable."""

from __future__ import annotations

import json
import os

import pytest


@pytest.fixture
def indexed(tiny_models_env, library, tmp_path, run_cli):
    index = tmp_path / "index"
    code, _, err = run_cli("index", library, "--index", index)
    assert code == 0, err
    return index


def test_edit_is_searchable_at_once_and_undoable(indexed, library, run_cli):
    photo = library / "pets" / "chelsea.jpg"
    code, out, err = run_cli(
        "edit", photo, "--index", indexed, "--caption", "Zanzibar marmalade tabby on a windowsill",
        "--add-label", "Whiskers", "--json",
    )  # fmt: skip
    assert code == 0, err
    edited = json.loads(out)
    assert edited["human"] and edited["edited_at"] and edited["machine_caption"] and edited["review"] == "edited"
    assert "Whiskers" in edited["labels"]
    code, out, _ = run_cli("search", "zanzibar marmalade", "--index", indexed, "--json", "-k", "1")
    assert code == 0 and json.loads(out)["results"][0]["path"].endswith("chelsea.jpg")

    code, out, err = run_cli("edit", edited["id"], "--index", indexed, "--remove-label", "whiskers", "--json")
    assert code == 0 and "Whiskers" not in json.loads(out)["labels"], err
    assert run_cli("edit", edited["id"], "--index", indexed, "--undo")[0] == 0  # the label is back
    code, out, _ = run_cli("edit", edited["id"], "--index", indexed, "--undo", "--json")
    restored = json.loads(out)
    assert code == 0 and not restored["human"] and restored["caption"] == edited["machine_caption"]
    assert restored["review"] is None and "Whiskers" not in restored["labels"]
    code, out, _ = run_cli("search", "zanzibar marmalade", "--index", indexed, "--json", "-k", "1")
    found = json.loads(out)  # the words are gone: at most the closest photos, flagged, none matching them
    assert found["no_good_match"] and not any(hit["matched"] for hit in found["results"])
    code, _, err = run_cli("edit", edited["id"], "--index", indexed, "--undo")
    assert code == 1 and "no edit to undo" in err


def test_reindex_of_a_changed_file_keeps_the_edit(indexed, library, run_cli):
    photo = library / "food" / "coffee.jpg"
    code, out, err = run_cli("edit", photo, "--index", indexed, "--caption", "quetzal espresso crema", "--json")
    assert code == 0, err
    before = json.loads(out)
    with open(photo, "ab") as f:  # new bytes: the file is processed again, under a new row
        f.write(b"\0" * 16)
    os.utime(photo, ns=(1, 1))
    code, out, err = run_cli("index", library, "--index", indexed, "--json")
    assert code == 0 and json.loads(out)["updated"] == 1, err
    code, out, _ = run_cli("search", "quetzal espresso", "--index", indexed, "--json", "-k", "1")
    hit = json.loads(out)["results"][0]
    assert hit["path"].endswith("coffee.jpg") and hit["caption"] == "quetzal espresso crema"
    code, out, _ = run_cli("edit", photo, "--index", indexed, "--undo", "--json")  # the history followed it
    after = json.loads(out)
    assert code == 0 and after["id"] != before["id"] and not after["human"] and after["caption"]


def test_import_keeps_an_edited_caption(tiny_models_env, tmp_path, run_cli):
    index, jsonl = tmp_path / "index", tmp_path / "alt.jsonl"
    jsonl.write_text(json.dumps({"id": "cms/1", "caption": "a red bicycle"}) + "\n")
    assert run_cli("import", jsonl, "--index", index)[0] == 0
    code, out, err = run_cli("search", "bicycle", "--index", index, "--json")
    photo_id = json.loads(out)["results"][0]["id"]
    assert run_cli("edit", photo_id, "--index", index, "--caption", "a crimson tandem")[0] == 0
    jsonl.write_text(json.dumps({"id": "cms/1", "caption": "a blue bicycle"}) + "\n")
    code, out, err = run_cli("import", jsonl, "--index", index, "--json")
    assert code == 0 and json.loads(out)["updated"] == 1, err
    code, out, _ = run_cli("search", "crimson tandem", "--index", index, "--json", "-k", "1")
    assert json.loads(out)["results"][0]["caption"] == "a crimson tandem"


def test_edit_refuses_what_is_not_a_photo(indexed, library, run_cli):
    assert run_cli("edit", 999999, "--index", indexed, "--caption", "x")[0] == 1
    assert run_cli("edit", library / "nowhere.jpg", "--index", indexed, "--caption", "x")[0] == 1
    assert run_cli("edit", 1, "--index", indexed)[0] == 2
    assert run_cli("edit", 1, "--index", indexed, "--caption", "   ")[0] == 1


def test_a_running_library_finds_the_edit_at_once(tiny_models, library, tmp_path):
    """The web app's long-lived Library: its FAISS index re-reads the edited vector (same id, new text)."""
    from glimpse.ui.library import Library

    with Library(tmp_path / "index", models=tiny_models) as lib:
        lib.index(library)
        assert all(h.caption != "xylophone quokka" for h in lib.search("xylophone quokka").hits)  # FAISS loaded
        photo = lib.resolve(library / "travel" / "china.jpg")
        lib.edit(photo, "xylophone quokka")
        hit = lib.search("xylophone quokka", k=1).hits[0]
        assert hit.id == photo and hit.semantic > 0.99
        assert lib.set_review(photo, "approved").review == "approved"
        assert lib.stats()["review"] == {
            "approved": 1, "edited": 0, "skipped": 0, "unreviewed": 5, "reviewed": 1, "human": 1,
        }  # fmt: skip
        assert [r.id for r in lib.page(review="approved").records] == [photo]
