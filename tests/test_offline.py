"""A photo that can't be seen right now is not a deleted photo: folders that could not be listed and library
folders that are missing or empty (an unplugged drive, an unmounted share) keep their photos, marked offline.

Tests run as root, where `chmod 000` does not stop reading, so an unlistable folder is simulated by making
`os.scandir` (which `os.walk`, and so the scan, lists folders with) fail with EACCES for that one folder, the
error a folder without read permission gives.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import DATA
from tests.test_cli_index import PHOTOS, index_json, rows

pytestmark = pytest.mark.usefixtures("tiny_models_env")


@pytest.fixture
def unlistable(monkeypatch):
    """The folders (resolved) that can't be listed: add one, and listing it fails with "Permission denied" (see
    the module docstring); remove it, and it can be read again."""
    blocked: set[Path] = set()
    real = os.scandir

    def scandir(path="."):
        if not isinstance(path, int) and Path(os.fsdecode(path)).resolve() in blocked:  # shutil.rmtree gives fds
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    return blocked


def search_json(run_cli, index: Path, query: str) -> list[dict]:
    code, out, err = run_cli("search", query, "--index", index, "--json", "-k", "3")
    assert code == 0, err
    return json.loads(out)["results"]


def test_unreadable_folder_keeps_its_photos_offline(run_cli, library, tmp_path, unlistable):
    index = tmp_path / "idx"
    index_json(run_cli, library, index)
    before = rows(index)

    unlistable.add((library / "space").resolve())  # astronaut.jpg and rocket.jpg can't be seen
    (library / "travel" / "flower.jpg").unlink()  # removed for real: its folder was listed
    summary = index_json(run_cli, library, index)
    assert summary["removed"] == 1 and summary["offline"] == 2 and summary["added"] == summary["updated"] == 0
    [folder] = summary["offline_folders"]
    space = (library / "space").resolve()
    assert folder == {"reason": f"could not read folder {space}: Permission denied", "photos": 2}
    after = rows(index)
    assert set(after) == set(before) - {"travel/flower.jpg"}
    assert after["space/rocket.jpg"] == before["space/rocket.jpg"]  # same row, caption and all

    code, out, _ = run_cli("index", library, "--index", index)  # the text summary says so too
    assert code == 0 and f"2 offline: could not read folder {space}: Permission denied" in out

    # still searchable, flagged; the others are not
    [astronaut] = [h for h in search_json(run_cli, index, "astronaut") if h["path"].endswith("astronaut.jpg")]
    assert astronaut["offline"] is True
    assert search_json(run_cli, index, "chelsea")[0]["offline"] is False
    code, out, _ = run_cli("search", "astronaut", "--index", index, "-k", "1")
    assert code == 0 and "astronaut.jpg" in out and "[offline]" in out.splitlines()[0]

    code, out, _ = run_cli("stats", "--index", index, "--json")
    stats = json.loads(out)
    assert stats["offline"] == 2 and stats["indexed"] == PHOTOS - 1
    assert [Path(p["path"]).name for p in stats["offline_photos"]] == ["astronaut.jpg", "rocket.jpg"]
    assert all("Permission denied" in p["reason"] for p in stats["offline_photos"])
    code, out, _ = run_cli("stats", "--index", index)
    assert code == 0 and "offline:  2" in out and f"offline: {space}/rocket.jpg: could not read folder" in out


def test_photos_come_back_without_captioning_again(run_cli, library, tmp_path, unlistable):
    index = tmp_path / "idx"
    index_json(run_cli, library, index)
    before = rows(index)
    unlistable.add((library / "space").resolve())
    assert index_json(run_cli, library, index)["offline"] == 2

    unlistable.clear()  # readable again
    again = index_json(run_cli, library, index)
    assert again["unchanged"] == PHOTOS and again["offline"] == 0
    assert again["added"] == again["updated"] == again["removed"] == 0 and again["images_per_second"] == 0
    assert rows(index) == before
    assert search_json(run_cli, index, "astronaut")[0]["offline"] is False
    code, out, _ = run_cli("stats", "--index", index, "--json")
    assert json.loads(out)["offline"] == 0 and json.loads(out)["offline_photos"] == []


@pytest.mark.parametrize("how", ["missing", "empty", "unreadable"])
def test_missing_or_empty_library_folder_is_not_swept(run_cli, library, tmp_path, unlistable, how):
    index = tmp_path / "idx"
    index_json(run_cli, library, index)
    before = rows(index)
    aside = tmp_path / "aside"
    if how == "missing":  # an unplugged USB drive: the mount point is gone
        library.rename(aside)
    elif how == "empty":  # an unmounted share: the mount point is an empty folder
        aside.mkdir()
        for child in library.iterdir():
            child.rename(aside / child.name)
    else:
        unlistable.add(library.resolve())

    code, out, err = run_cli("index", library, "--index", index)
    assert code == 1 and out == ""
    reason = {"missing": "is missing", "empty": "is empty", "unreadable": "Permission denied"}[how]
    assert reason in err and f"holds {PHOTOS} photos" in err and "--prune" in err and "Nothing was removed" in err
    assert rows(index) == before  # every caption kept
    code, out, _ = run_cli("stats", "--index", index, "--json")
    assert json.loads(out)["offline"] == PHOTOS and json.loads(out)["indexed"] == PHOTOS
    assert search_json(run_cli, index, "chelsea")[0]["offline"] is True

    if how == "unreadable":
        return
    if how == "missing":
        aside.rename(library)
    else:
        for child in aside.iterdir():
            child.rename(library / child.name)
    back = index_json(run_cli, library, index)  # plugged in again: nothing is processed again
    assert back["unchanged"] == PHOTOS and back["offline"] == 0 and back["removed"] == 0
    assert rows(index) == before


def test_prune_removes_what_is_not_there(run_cli, library, tmp_path):
    index = tmp_path / "idx"
    index_json(run_cli, library, index)
    shutil.rmtree(library)
    library.mkdir()
    assert run_cli("index", library, "--index", index)[0] == 1
    pruned = index_json(run_cli, library, index, "--prune")
    assert pruned["removed"] == PHOTOS and rows(index) == {}

    shutil.copytree(DATA, library, dirs_exist_ok=True)
    index_json(run_cli, library, index)
    shutil.rmtree(library)
    assert index_json(run_cli, library, index, "--prune")["removed"] == PHOTOS  # a missing folder too


def test_a_folder_never_indexed_must_exist(run_cli, tmp_path):
    code, _, err = run_cli("index", tmp_path / "nowhere", "--index", tmp_path / "idx")
    assert code == 2 and "not a folder" in err


def _bmp(path: Path, colour: tuple[int, int, int]) -> None:
    """A BMP of a fixed size: two of them with other colours have the same length but different bytes."""
    Image.new("RGB", (32, 24), colour).save(path, "BMP")


def _rewrite_keeping_size_and_mtime(path: Path, colour: tuple[int, int, int]) -> None:
    st = path.stat()
    _bmp(path, colour)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def test_verify_finds_bytes_changed_under_the_same_size_and_mtime(run_cli, tmp_path):
    from glimpse.indexer.scan import file_hash

    lib = tmp_path / "lib"
    lib.mkdir()
    _bmp(lib / "a.bmp", (200, 30, 30))
    _bmp(lib / "b.bmp", (30, 30, 200))
    index = tmp_path / "idx"
    index_json(run_cli, lib, index)
    old = rows(index)
    _rewrite_keeping_size_and_mtime(lib / "a.bmp", (30, 200, 30))

    assert index_json(run_cli, lib, index)["unchanged"] == 2  # not noticed: size and mtime are the same
    assert rows(index)["a.bmp"][3] == old["a.bmp"][3]

    verified = index_json(run_cli, lib, index, "--verify")
    assert verified["verified"] == 2 and verified["updated"] == 1 and verified["unchanged"] == 1
    new = rows(index)
    assert new["a.bmp"][3] == file_hash(lib / "a.bmp") != old["a.bmp"][3]
    assert new["a.bmp"][0] != old["a.bmp"][0] and new["b.bmp"] == old["b.bmp"]  # only a.bmp processed again
    code, out, _ = run_cli("index", lib, "--index", index, "--verify")
    assert code == 0 and "verified: 2 files hashed again" in out and "updated 0" in out


@pytest.mark.slow
def test_offline_through_the_app(tmp_path, tiny_models, unlistable):
    """The web app, through gradio_client: the Index tab's summary, /search's `offline` key, the Library header,
    the tile and detail text, and the message (not a sweep) for a library folder that is gone."""
    from glimpse.search.engine import hit_for
    from glimpse.ui import views
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from tests.ui_helpers import make_index, serving

    library = tmp_path / "library"
    shutil.copytree(DATA, library)
    index = make_index(tmp_path / "index", library, tiny_models, imports=[])
    app_library = Library(index, tiny_models)
    with serving(build_app(app_library, thumbs_dir=tmp_path / "thumbs"), app_library) as url:
        client = Client(url, verbose=False)
        unlistable.add((library / "space").resolve())
        summary = client.predict(str(library), api_name="/index")
        assert "**2** offline" in summary and "**0** removed" in summary and "Permission denied" in summary
        [astronaut] = client.predict("astronaut", 1, api_name="/search")
        assert astronaut["file"].endswith("astronaut.jpg") and astronaut["offline"] is True
        assert client.predict("chelsea", 1, api_name="/search")[0]["offline"] is False
        header, *_ = client.predict(api_name="/overview")
        assert "**2** offline" in header

        record = app_library.records([astronaut["id"]])[astronaut["id"]]
        hit = hit_for(record)
        assert "offline" in views.tile_caption(hit) and "offline" in views.library_caption(hit)
        assert "**Offline**" in views.detail_markdown(hit)

        unlistable.clear()
        shutil.rmtree(library)
        with pytest.raises(AppError) as e:
            client.predict(str(library), api_name="/index")
        assert "is missing" in str(e.value) and "--prune" in str(e.value) and "Traceback" not in str(e.value)
        assert app_library.stats()["indexed"] == PHOTOS and app_library.stats()["offline"] == PHOTOS
