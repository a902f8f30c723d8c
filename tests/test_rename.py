"""Descriptive file names: suggested from captions (dry run by default), applied with an undo journal, the index
updated in place (same ids, captions and edits, nothing captioned again), sidecars along, nothing overwritten."""

from __future__ import annotations

import json

import pytest
from glimpse.indexer.rename import slug, suggest_stem
from glimpse.indexer.types import ImageRecord, Label


def record(caption: str, date: str | None = "2023-07-14T10:00:00", name: str = "IMG_0001.JPG") -> ImageRecord:
    return ImageRecord(
        id=1, root="/photos", path=name, name=name, size=1, mtime_ns=1, hash="h", width=1, height=1, taken_at=None,
        caption=caption, labels=[Label("Egyptian cat", 0.9)], status="ok", error=None, date=date,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("caption", "stem"),
    [
        ("a dog running on the beach", "2023-07-14_dog-running-on-the-beach"),
        ("there is a photo of a cat on a sofa photo", "2023-07-14_cat-on-a-sofa"),
        ("Niño comiendo piñata en La Coruña 🎉 <&>", "2023-07-14_nino-comiendo-pinata-en-la-coruna"),
        ("arafed man in a straße " + "very " * 30, "2023-07-14_man-in-a-strasse-very-very-very-very-very-very"),
        ("", "2023-07-14"),
    ],
)
def test_suggested_names(caption, stem):
    assert suggest_stem(record(caption)) == stem and len(stem) <= 60


def test_templates_and_no_date():
    assert suggest_stem(record("a red fox", date=None)) == "red-fox"
    assert suggest_stem(record("a red fox"), "{label}-{name}") == "egyptian-cat-img-0001"
    assert slug("日本") == ""


@pytest.fixture
def indexed(tiny_models_env, library, tmp_path, run_cli):
    index = tmp_path / "index"
    assert run_cli("index", library, "--index", index)[0] == 0
    return index


def test_dry_run_apply_undo_and_search_still_finds_the_photo(indexed, library, run_cli):
    photo = library / "pets" / "chelsea.jpg"
    code, out, err = run_cli("edit", photo, "--index", indexed, "--caption", "A tabby cat ñandú photo", "--json")
    assert code == 0, err
    edited = json.loads(out)
    (photo.parent / "chelsea.jpg.xmp").write_text("<x/>")  # a sidecar goes with its photo
    (photo.parent / "chelsea.xmp").write_text("<y/>")
    before = sorted(p.name for p in library.rglob("*"))

    code, out, err = run_cli("rename", "--index", indexed, "--json")  # a dry run by default
    assert code == 0, err
    plan = {r["from"]: r["to"] for r in json.loads(out)["renames"]}
    new = plan[str(photo)]
    assert new.endswith("_tabby-cat-nandu.jpg") and new.startswith(str(photo.parent) + "/")
    assert sorted(p.name for p in library.rglob("*")) == before

    code, out, err = run_cli("rename", "--index", indexed, "--apply")
    assert code == 0, err
    assert f"{photo} -> " in out and not photo.exists()
    renamed = photo.parent / new.rsplit("/", 1)[1]
    assert renamed.is_file() and (renamed.parent / (renamed.name + ".xmp")).read_text() == "<x/>"
    assert renamed.with_suffix(".xmp").read_text() == "<y/>"
    code, out, _ = run_cli("search", "tabby ñandú", "--index", indexed, "--json", "-k", "1")
    hit = json.loads(out)["results"][0]
    assert hit["id"] == edited["id"] and hit["path"] == str(renamed) and hit["caption"] == "A tabby cat ñandú photo"
    code, out, err = run_cli("index", library, "--index", indexed, "--json")  # nothing to do: nothing re-captioned
    summary = json.loads(out)
    assert code == 0 and summary["added"] == summary["updated"] == summary["moved"] == 0, err

    code, out, err = run_cli("rename", "--index", indexed, "--undo")
    assert code == 0, err
    assert sorted(p.name for p in library.rglob("*")) == before
    code, out, _ = run_cli("search", "tabby ñandú", "--index", indexed, "--json", "-k", "1")
    assert json.loads(out)["results"][0]["path"] == str(photo)
    assert run_cli("rename", "--index", indexed, "--undo")[0] == 1  # nothing left to undo


def test_rename_never_overwrites(indexed, library, run_cli):
    code, out, _ = run_cli("rename", "--index", indexed, "--json")
    plan = json.loads(out)["renames"]
    target = library / plan[0]["to"]
    target.write_bytes(b"mine")  # taken after the plan was shown: the next run picks another name
    code, out, err = run_cli("rename", "--index", indexed, "--apply", "--json")
    assert code == 0, err
    assert target.read_bytes() == b"mine"
    assert all(r["to"] != str(target) for r in json.loads(out)["renames"])


def test_an_interrupted_rename_is_undone(tiny_models, library, tmp_path, monkeypatch):
    """Ctrl-C between the new name's link and the old name's unlink: the journal has the step, undo puts it back."""
    import os

    from glimpse.indexer import rename as rename_module
    from glimpse.ui.library import Library

    with Library(tmp_path / "index", models=tiny_models) as lib:
        lib.index(library)
        before = sorted(str(p) for p in library.rglob("*"))
        calls = []
        real_unlink = os.unlink

        def interrupted(path, *args, **kwargs):
            calls.append(path)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return real_unlink(path, *args, **kwargs)

        monkeypatch.setattr(rename_module.os, "unlink", interrupted)
        with pytest.raises(KeyboardInterrupt):
            lib.rename()
        monkeypatch.setattr(rename_module.os, "unlink", real_unlink)
        assert sorted(str(p) for p in library.rglob("*")) != before
        restored, failed = lib.undo_rename()
        assert not failed and restored
        assert sorted(str(p) for p in library.rglob("*")) == before
        assert {str(r.full_path) for r in lib.page(per_page=100).records} <= set(before)
