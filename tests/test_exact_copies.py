"""Exact copies stay exact: byte-identical photos are reported as such even in a group that also holds a resized
copy, and two files whose bytes differ now are never called exact copies, whatever hashes the index stored."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import DATA

pytestmark = pytest.mark.usefixtures("tiny_models_env")


def mixed_library(lib: Path) -> Path:
    """chelsea.jpg, its byte-identical copy, its resized copy, and two unrelated photos."""
    lib.mkdir()
    shutil.copy(DATA / "pets" / "chelsea.jpg", lib / "chelsea.jpg")
    shutil.copy(DATA / "pets" / "chelsea.jpg", lib / "chelsea-copy.jpg")
    with Image.open(DATA / "pets" / "chelsea.jpg") as im:
        im.resize((im.width // 2, im.height // 2)).save(lib / "chelsea-small.jpg", quality=90)
    shutil.copy(DATA / "food" / "coffee.jpg", lib / "coffee.jpg")
    shutil.copy(DATA / "space" / "astronaut.jpg", lib / "astronaut.jpg")
    return lib.resolve()


def change_bytes_keeping_size_and_mtime(path: Path) -> None:
    """What some editors and sync tools do: new bytes, the same length, the old modification time."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def duplicates_json(run_cli, index: Path) -> list[dict]:
    code, out, err = run_cli("duplicates", "--index", index, "--json")
    assert code == 0, err
    return json.loads(out)


def test_exact_copies_inside_a_near_group(run_cli, tmp_path):
    lib = mixed_library(tmp_path / "lib")
    index = tmp_path / "idx"
    assert run_cli("index", lib, "--index", index)[0] == 0
    [group] = duplicates_json(run_cli, index)
    names = [Path(p).name for p in group["paths"]]
    assert group["kind"] == "near" and names == ["chelsea-copy.jpg", "chelsea-small.jpg", "chelsea.jpg"]
    assert len(group["ids"]) == 3 and len(set(group["ids"])) == 3  # ids, as the API gives them
    [exact] = group["exact"]
    assert exact["paths"] == [str(lib / "chelsea-copy.jpg"), str(lib / "chelsea.jpg")]
    position = dict(zip(group["paths"], group["ids"], strict=True))
    assert exact["ids"] == [position[p] for p in exact["paths"]]

    code, out, _ = run_cli("duplicates", "--index", index)
    lines = out.splitlines()
    assert code == 0 and lines[0] == "group 1: near copies (3 photos; exact copies among them: 2)"
    marked = [line for line in lines if "[exact copy" in line]
    assert [Path(line.split()[0]).name for line in marked] == ["chelsea-copy.jpg", "chelsea.jpg"]
    assert not any("chelsea-small.jpg" in line and "[exact" in line for line in lines)


def indexed_pair(run_cli, tmp_path) -> tuple[Path, Path]:
    """(library, index): a.jpg and b.jpg byte-identical, c.jpg another photo, indexed."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("a.jpg", "b.jpg"):
        shutil.copy(DATA / "food" / "coffee.jpg", lib / name)
    shutil.copy(DATA / "space" / "astronaut.jpg", lib / "c.jpg")
    index = tmp_path / "idx"
    assert run_cli("index", lib, "--index", index)[0] == 0
    return lib, index


def test_files_whose_bytes_differ_now_are_not_exact_copies(run_cli, tmp_path):
    lib, index = indexed_pair(run_cli, tmp_path)
    assert [g["kind"] for g in duplicates_json(run_cli, index)] == ["exact"]

    change_bytes_keeping_size_and_mtime(lib / "b.jpg")  # the index still holds a.jpg's hash for it
    groups = duplicates_json(run_cli, index)
    assert all(g["kind"] == "near" and g["exact"] == [] for g in groups), groups
    code, out, _ = run_cli("duplicates", "--index", index)
    assert code == 0 and "exact cop" not in out

    code, out, _ = run_cli("index", lib, "--index", index, "--verify", "--json")  # the index catches up
    assert code == 0 and json.loads(out)["updated"] == 1
    assert all(g["kind"] == "near" for g in duplicates_json(run_cli, index))


def test_exact_pair_stays_exact_while_its_files_are_offline(run_cli, tmp_path):
    lib, index = indexed_pair(run_cli, tmp_path)
    lib.rename(tmp_path / "unplugged")
    assert run_cli("index", lib, "--index", index)[0] == 1  # kept, marked offline
    [group] = duplicates_json(run_cli, index)
    assert group["kind"] == "exact" and [Path(p).name for p in group["paths"]] == ["a.jpg", "b.jpg"]


@pytest.mark.slow
def test_exact_copies_through_the_app(tmp_path, tiny_models):
    """/duplicates through gradio_client: ids, exact sets inside a near group, bytes compared as they are now; and
    the Duplicates tab's text for them."""
    from glimpse.ui.app import build_app
    from glimpse.ui.handlers import Handlers
    from glimpse.ui.library import Library
    from glimpse.ui.thumbs import Thumbnails
    from gradio_client import Client

    from tests.ui_helpers import make_index, serving

    lib = mixed_library(tmp_path / "lib")
    shutil.copy(DATA / "travel" / "china.jpg", lib / "china.jpg")
    shutil.copy(DATA / "travel" / "china.jpg", lib / "china-copy.jpg")
    index = make_index(tmp_path / "index", lib, tiny_models, imports=[])
    app_library = Library(index, tiny_models)
    with serving(build_app(app_library, thumbs_dir=tmp_path / "thumbs"), app_library) as url:
        client = Client(url, verbose=False)
        china, cats = client.predict(api_name="/duplicates")

        # the Duplicates tab: the group's heading and each exact copy's tile say which are byte-identical
        _, (_, shown) = Handlers(app_library, Thumbnails(tmp_path / "thumbs"), None).duplicates_view(0.85)
        assert "Near copies" in shown.title and "exact copies (the same bytes): 2 photos" in shown.title
        tiles = {text.splitlines()[0].split(" · ")[0]: text for _, text in shown.tiles}
        assert "exact copy 1" in tiles["chelsea.jpg"] and "exact copy 1" in tiles["chelsea-copy.jpg"]
        assert "exact copy" not in tiles["chelsea-small.jpg"]

        assert china["kind"] == "exact" and [Path(p).name for p in china["paths"]] == ["china-copy.jpg", "china.jpg"]
        assert china["exact"] == [{"ids": china["ids"], "paths": china["paths"]}]
        assert cats["kind"] == "near" and len(cats["ids"]) == 3
        assert [Path(p).name for p in cats["exact"][0]["paths"]] == ["chelsea-copy.jpg", "chelsea.jpg"]

        change_bytes_keeping_size_and_mtime(lib / "china-copy.jpg")
        groups = client.predict(api_name="/duplicates")
        assert not any(g["kind"] == "exact" or (str(lib / "china.jpg") in str(g["exact"])) for g in groups), groups
