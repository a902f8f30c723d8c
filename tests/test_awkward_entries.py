"""Awkward directory entries and awkward text (issue #10, class 1): one bad entry never stops an index run.

- Symlink loops (a link to itself, two links pointing at each other, also made after a first run) are listed as
  failed with a reason, and the rest of the library is indexed; re-runs leave them alone until they change.
- File and folder names whose bytes are not UTF-8 are indexed like any other photo: their paths round-trip
  exactly, they are shown with U+FFFD, moved, re-run and deleted like the rest, and the web app serves them.
- Queries that are not valid Unicode (a lone surrogate, an undecodable argv byte) are answered, not crashed on.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import DATA

CAFE = b"caf\xe9.jpg"  # Latin-1 "café.jpg", not UTF-8
FETE = b"f\xe9te"  # a Latin-1 folder name


def fs(folder: Path, name: bytes) -> Path:
    """The path `folder/name` for a name given as bytes (Path keeps them as surrogate escapes)."""
    return Path(os.fsdecode(os.fsencode(folder) + b"/" + name))


def awkward_library(root: Path) -> Path:
    """Two good photos, a photo and a folder with Latin-1 names, and three looping symlinks."""
    root.mkdir()
    shutil.copy(DATA / "pets" / "chelsea.jpg", root / "chelsea.jpg")
    shutil.copy(DATA / "food" / "coffee.jpg", root / "coffee.jpg")
    with open(os.fsencode(root) + b"/" + CAFE, "wb") as f:
        f.write((DATA / "space" / "rocket.jpg").read_bytes())
    os.mkdir(os.fsencode(root) + b"/" + FETE)
    shutil.copy(DATA / "travel" / "flower.jpg", fs(root, FETE) / "fleur.jpg")
    os.symlink("self.jpg", root / "self.jpg")  # a link to itself
    os.symlink("pong.jpg", root / "ping.jpg")  # two links pointing at each other
    os.symlink("ping.jpg", root / "pong.jpg")
    return root


def index_json(run_cli, library: Path, index: Path) -> dict:
    code, out, err = run_cli("index", library, "--index", index, "--json")
    assert code == 0, err
    return json.loads(out)


# -- scan ---------------------------------------------------------------------------------------------------
def test_scan_records_each_unusable_entry_and_goes_on(tmp_path):
    from glimpse.indexer.scan import scan

    lib = awkward_library(tmp_path / "lib")
    (lib / "dangling.jpg").symlink_to(lib / "missing.jpg")
    problems = []
    found = [e.rel for e in scan(lib, problems=problems)]
    assert found == ["caf\udce9.jpg", "chelsea.jpg", "coffee.jpg", "f\udce9te/fleur.jpg"]
    reasons = {p.rel: p.reason for p in problems}
    assert set(reasons) == {"self.jpg", "ping.jpg", "pong.jpg", "dangling.jpg"}
    assert all(not p.folder and p.mtime_ns for p in problems)
    assert "symlink loop" in reasons["self.jpg"] and "broken symlink" in reasons["dangling.jpg"]


def test_any_error_on_one_entry_is_a_problem(tmp_path, monkeypatch):
    import glimpse.indexer.scan as scan_module

    lib = awkward_library(tmp_path / "lib")
    real = scan_module._entry

    def flaky(root, path, *rest):
        if path.name == "coffee.jpg":
            raise ValueError("something odd about this entry")
        return real(root, path, *rest)

    monkeypatch.setattr(scan_module, "_entry", flaky)
    problems = []
    found = [e.rel for e in scan_module.scan(lib, problems=problems)]
    assert "chelsea.jpg" in found and "coffee.jpg" not in found
    assert any(p.rel == "coffee.jpg" and "ValueError" in p.reason for p in problems)


# -- item 1: symlink loops through the CLI ------------------------------------------------------------------
@pytest.mark.usefixtures("tiny_models_env")
def test_symlink_loops_are_listed_as_failed_and_the_run_goes_on(run_cli, tmp_path):
    lib, index = awkward_library(tmp_path / "lib"), tmp_path / "idx"
    first = index_json(run_cli, lib, index)
    failed = {f["path"]: f["reason"] for f in first["failed"]}
    assert set(failed) == {"self.jpg", "ping.jpg", "pong.jpg"}
    assert all("symlink loop" in reason for reason in failed.values())
    assert first["added"] == 4

    code, out, err = run_cli("index", lib, "--index", index)  # re-run: nothing new, nothing retried
    assert code == 0, err
    assert "added 0" in out and "unchanged 7" in out and "failed 0" in out

    code, out, _ = run_cli("stats", "--index", index, "--json")
    stats = json.loads(out)
    assert code == 0 and stats["indexed"] == 4 and stats["failed"] == 3
    assert {Path(f["path"]).name for f in stats["failures"]} == {"self.jpg", "ping.jpg", "pong.jpg"}
    code, out, _ = run_cli("stats", "--index", index)
    assert code == 0 and "self.jpg: symlink loop" in out


@pytest.mark.usefixtures("tiny_models_env")
def test_a_loop_made_after_the_first_run_and_fixed_later(run_cli, tmp_path):
    lib, index = awkward_library(tmp_path / "lib"), tmp_path / "idx"
    index_json(run_cli, lib, index)
    os.symlink("later.jpg", lib / "later.jpg")
    second = index_json(run_cli, lib, index)
    assert [f["path"] for f in second["failed"]] == ["later.jpg"] and second["unchanged"] == 7

    (lib / "later.jpg").unlink()  # the loop becomes a real photo: retried, indexed
    shutil.copy(DATA / "space" / "astronaut.jpg", lib / "later.jpg")
    third = index_json(run_cli, lib, index)
    assert third["failed"] == [] and third["updated"] == 1
    code, out, _ = run_cli("stats", "--index", index, "--json")
    assert json.loads(out)["indexed"] == 5


def test_no_exception_from_one_file_aborts_a_run(tmp_path, tiny_models, monkeypatch):
    """Hashing, decoding or preparing one file may raise anything: that file fails, the others are indexed."""
    import glimpse.indexer.pipeline as pipeline
    import glimpse.indexer.plan as plan
    from glimpse.indexer.store import IndexStore

    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("a", "b", "c", "d"):
        shutil.copy(DATA / "pets" / "chelsea.jpg", lib / f"{name}.jpg")
        (lib / f"{name}.jpg").open("ab").write(name.encode())  # distinct bytes, so no copies
    real_hash, real_decode, real_preprocess = plan.file_hash, pipeline.decode, tiny_models.classifier.preprocess

    def file_hash(path):
        if path.name == "a.jpg":
            raise RuntimeError("hash exploded")
        return real_hash(path)

    def decode(path, *args, **kwargs):
        if Path(path).name == "b.jpg":
            raise KeyError("decoder exploded")
        return real_decode(path, *args, **kwargs)

    def preprocess(image):
        if image.info.get("boom"):
            raise AttributeError("preprocess exploded")
        return real_preprocess(image)

    def decode_marked(path, *args, **kwargs):
        decoded = decode(path, *args, **kwargs)
        if Path(path).name == "c.jpg":
            decoded.image.info["boom"] = True
        return decoded

    monkeypatch.setattr(plan, "file_hash", file_hash)
    monkeypatch.setattr(pipeline, "decode", decode_marked)
    monkeypatch.setattr(tiny_models.classifier, "preprocess", preprocess)
    with IndexStore.open_or_create(tmp_path / "idx", tiny_models.ids(), tiny_models.embedder.dim) as store:
        summary = pipeline.index_folder(lib, store, tiny_models, batch_size=2)
        failed = dict(summary.failed)
        assert set(failed) == {"a.jpg", "b.jpg", "c.jpg"} and summary.added == 1
        assert "hash exploded" in failed["a.jpg"] and "KeyError" in failed["b.jpg"]
        assert "AttributeError" in failed["c.jpg"]
        assert {r.path for r in store.catalog.records()} == {"d.jpg"}
        assert {r.path: r.error for r in store.catalog.failures()} == failed


# -- item 2: names that are not UTF-8 -----------------------------------------------------------------------
@pytest.mark.usefixtures("tiny_models_env")
def test_names_that_are_not_utf8_are_indexed_shown_and_kept_exact(run_cli, tmp_path):
    from glimpse.indexer.catalog import Catalog

    lib, index = awkward_library(tmp_path / "lib"), tmp_path / "idx"
    first = index_json(run_cli, lib, index)
    assert first["added"] == 4 and {f["path"] for f in first["failed"]} == {"self.jpg", "ping.jpg", "pong.jpg"}
    with Catalog(index / "catalog.db", readonly=True) as catalog:
        records = {r.path: r for r in catalog.records()}
    assert {"caf\udce9.jpg", "f\udce9te/fleur.jpg"} <= set(records)  # the exact names, back from the catalog
    cafe = records["caf\udce9.jpg"]
    assert cafe.full_path == fs(lib.resolve(), CAFE) and cafe.full_path.is_file()
    assert cafe.name == "caf\ufffd.jpg"  # the searchable name is readable

    again = index_json(run_cli, lib, index)  # nothing re-processed
    assert again["unchanged"] == 7 and again["added"] == again["updated"] == again["removed"] == 0

    code, out, err = run_cli("search", "caf", "--index", index, "-k", "10")  # found by its (readable) name
    assert code == 0, err
    assert f"{lib.resolve()}/caf\ufffd.jpg" in out
    code, out, err = run_cli("search", "fleur", "--index", index, "--json", "--folder", fs(lib, FETE))
    assert code == 0, err
    [hit] = json.loads(out)["results"]
    assert hit["path"] == hit["file"] == f"{lib.resolve()}/f\ufffdte/fleur.jpg"
    code, out, _ = run_cli("stats", "--index", index, "--json")
    assert code == 0 and json.loads(out)["indexed"] == 4
    code, out, _ = run_cli("duplicates", "--index", index, "--json")
    assert code == 0

    # moved: recognized by content, keeps its row; deleted: swept
    os.rename(os.fsencode(lib) + b"/" + CAFE, os.fsencode(lib) + b"/" + FETE + b"/" + CAFE)
    moved = index_json(run_cli, lib, index)
    assert moved["moved"] == 1 and moved["added"] == moved["removed"] == 0
    with Catalog(index / "catalog.db", readonly=True) as catalog:
        root_id = catalog.root_id(str(lib.resolve()))
        assert catalog.find(root_id, "f\udce9te/caf\udce9.jpg").id == cafe.id
    shutil.rmtree(fs(lib, FETE))
    gone = index_json(run_cli, lib, index)
    assert gone["removed"] == 2
    code, out, _ = run_cli("stats", "--index", index, "--json")
    assert json.loads(out)["indexed"] == 2


@pytest.mark.usefixtures("tiny_models_env")
def test_a_failed_file_whose_name_is_not_utf8(run_cli, tmp_path):
    lib, index = tmp_path / "lib", tmp_path / "idx"
    lib.mkdir()
    shutil.copy(DATA / "pets" / "chelsea.jpg", lib / "chelsea.jpg")
    with open(os.fsencode(lib) + b"/broken-\xff.png", "wb") as f:
        f.write(b"not a png")
    os.symlink(b"loop-\xff.jpg", os.fsencode(lib) + b"/loop-\xff.jpg")
    code, out, err = run_cli("index", lib, "--index", index)
    assert code == 0, err
    assert "failed: broken-\ufffd.png: " in out and "failed: loop-\ufffd.jpg: symlink loop" in out
    again = index_json(run_cli, lib, index)
    assert again["failed"] == [] and again["unchanged"] == 3
    code, out, _ = run_cli("stats", "--index", index)
    assert code == 0 and "broken-\ufffd.png" in out and "loop-\ufffd.jpg" in out
    shutil.copy(DATA / "pets" / "chelsea.jpg", fs(lib, b"chat-\xff.jpg"))
    for extra in ((), ("--json",)):  # captioned outside the index, shown readable
        code, out, err = run_cli("caption", fs(lib, b"chat-\xff.jpg"), fs(lib, b"broken-\xff.png"), *extra)
        assert code == 1 and "chat-\ufffd.jpg" in out and "broken-\ufffd.png" in out + err


def test_thumbnails_of_a_file_whose_name_is_not_utf8(tmp_path):
    from glimpse.search import Hit
    from glimpse.ui import views
    from glimpse.ui.thumbs import Thumbnails

    lib = awkward_library(tmp_path / "lib")
    cafe = fs(lib, CAFE)
    thumb = Thumbnails(tmp_path / "thumbs").get(cafe)
    assert thumb is not None and thumb.is_file()
    hit = Hit(id=1, path=str(cafe).replace("\udce9", "\ufffd"), caption="a rocket", labels=[], file=cafe)
    assert views.original_link(hit) == ""
    assert "caf\ufffd\\.jpg" in views.detail_markdown(hit) and "Open the original" not in views.detail_markdown(hit)


# -- item 3: queries that are not valid Unicode --------------------------------------------------------------
@pytest.mark.usefixtures("tiny_models_env")
def test_queries_that_are_not_valid_unicode(run_cli, library, tmp_path):
    index = tmp_path / "idx"
    index_json(run_cli, library, index)
    for query in ("\udcff", "cat \udcff", "\ud800 dog", "coffee -\ud800"):
        code, out, err = run_cli("search", query, "--index", index)
        assert code == 0, err
        code, out, err = run_cli("search", query, "--index", index, "--json")
        assert code == 0, err
        assert "\ufffd" in json.loads(out)["query"]
    code, out, err = run_cli("search", "cat", "--index", index, "--label", "\ud800", "--folder", "/x\udcff")
    assert code == 0, err and "No good match" in out


def test_jsonl_with_lone_surrogates(tmp_path, tiny_models):
    from glimpse.indexer.importer import import_jsonl
    from glimpse.indexer.jsonl import read_jsonl
    from glimpse.indexer.store import IndexStore

    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"id": "a\\ud800.jpg", "caption": "a cat \\udcff", "labels": ["tabby \\ud800"]}\n')
    [(_, obj)], bad = read_jsonl(jsonl, required=("id", "caption"))
    assert not bad and obj == {"id": "a\ufffd.jpg", "caption": "a cat \ufffd", "labels": ["tabby \ufffd"]}
    with IndexStore.open_or_create(tmp_path / "idx", tiny_models.ids(), tiny_models.embedder.dim) as store:
        assert import_jsonl(jsonl, store, tiny_models.embedder).added == 1


# -- the web app --------------------------------------------------------------------------------------------
def call_api(url: str, name: str, data: list):
    """POST to the app's API with `data` written as ASCII JSON (a lone surrogate as a "\\ud800" escape)."""
    import httpx

    body = json.dumps({"data": data})  # ensure_ascii: every surrogate is an escape
    posted = httpx.post(f"{url}gradio_api/call/{name}", content=body, headers={"content-type": "application/json"})
    assert posted.status_code == 200, posted.text
    events = httpx.get(f"{url}gradio_api/call/{name}/{posted.json()['event_id']}", timeout=60).text
    kind, payload = [line.split(": ", 1)[1] for line in events.splitlines() if line.startswith(("event:", "data:"))]
    assert kind == "complete", events
    return json.loads(payload)[0]


@pytest.mark.slow
def test_web_app_with_awkward_entries(tmp_path, tiny_models):
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library
    from gradio_client import Client

    from tests.ui_helpers import make_index, serving

    lib = awkward_library(tmp_path / "lib")
    index = make_index(tmp_path / "index", lib, tiny_models, imports=[])
    app_library = Library(index, tiny_models)
    demo = build_app(app_library, thumbs_dir=tmp_path / "thumbs")
    with serving(demo, app_library) as url:
        client = Client(url, verbose=False)
        results = client.predict("caf", 10, api_name="/search")
        assert f"{lib.resolve()}/caf\ufffd.jpg" in [r["file"] for r in results]
        for query in ("\ud800", "rocket \udcff"):  # as JSON escapes: gradio_client can't send a lone surrogate
            assert isinstance(call_api(url, "search", [query, 5, "", "", "", ""]), list)

        # the gallery tile of the Latin-1 photo is served
        gallery = call_api(url, "search_gallery", ["caf", 10, "", "", None, None])
        [tile] = gallery["value"]  # found by its file name: "words found: caf"
        assert "words found: caf" in tile["caption"]
        conn = http.client.HTTPConnection("127.0.0.1", urlsplit(url).port, timeout=20)
        conn.request("GET", urlsplit(tile["image"]["url"]).path)
        response = conn.getresponse()
        assert response.status == 200 and response.read()[:2] == b"\xff\xd8"  # a JPEG
        conn.close()

        # the Library tab lists the loops with their reasons
        header, *_, failed_info, failures, _ = client.predict(api_name="/overview")
        assert "**4** photos indexed" in header and "3 files" in failed_info
        assert {Path(row[0]).name for row in failures["value"]["data"]} == {"self.jpg", "ping.jpg", "pong.jpg"}
