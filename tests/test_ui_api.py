"""The web app as an API, through gradio_client, against a running app: tiny BLIP and ResNet, the real MiniLM,
an index of data/photos, a resized copy of one of them, and imported captions. One app serves the whole module."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import DATA
from tests.ui_helpers import IMPORTS, make_index, serving

pytestmark = pytest.mark.slow

UI = Path(__file__).resolve().parent.parent / "ui"


class SpyCaptioner:
    """The tiny BLIP, recording the size of every image it is given, optionally slowed down."""

    def __init__(self, inner):
        self.inner, self.name = inner, inner.name
        self.sizes: list[tuple[int, int]] = []
        self.delay = 0.0
        self.running = threading.Event()

    @property
    def device(self):
        return self.inner.device

    def load(self):
        return self

    def preprocess(self, image):
        return image  # `caption` gets the images themselves, to record their sizes

    def caption(self, images, interactive=False):
        self.sizes += [im.size for im in images]
        self.running.set()
        time.sleep(self.delay)
        self.running.clear()
        return self.inner.caption(images, interactive)


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_models):
    """(client, url, library folder, spy captioner, demo, Library) for one running app."""
    from glimpse.indexer.models import Models
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library
    from gradio_client import Client

    root = tmp_path_factory.mktemp("ui-api")
    library = root / "library"
    shutil.copytree(DATA, library)
    (library / "copies").mkdir()
    with Image.open(library / "pets" / "chelsea.jpg") as im:  # for find similar and duplicates
        im.resize((im.width // 2, im.height // 2)).save(library / "copies" / "cat-small.jpg", quality=90)
    spy = SpyCaptioner(tiny_models.captioner)
    models = Models(spy, tiny_models.classifier, tiny_models.embedder)
    index = make_index(root / "index", library, models)
    app_library = Library(index, models)
    demo = build_app(app_library, thumbs_dir=root / "thumbs")
    with serving(demo, app_library) as url:
        yield Client(url, verbose=False), url, library, spy, demo, app_library


def test_search_finds_an_imported_caption(app):
    client, *_ = app
    results = client.predict("dog on the beach", 5, api_name="/search")
    assert results and results[0]["file"] == "beach.jpg"
    first = results[0]
    assert first["caption"] == IMPORTS[0]["caption"]
    assert [lb["name"] for lb in first["labels"]] == IMPORTS[0]["labels"]
    assert isinstance(first["score"], float) and first["score"] > 0.3
    assert first["matched"]["caption"] == ["dog", "beach"] and first["matched"]["name"] == ["beach"]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_search_with_filters_and_k(app):
    client, _, library, *_ = app
    pets = client.predict("chelsea", 5, "", str(library / "pets"), "2021-01-01", "", api_name="/search")
    assert [r["file"] for r in pets] == [str(library / "pets" / "chelsea.jpg")]
    assert pets[0]["date"].startswith("2021-06-12") and pets[0]["date_source"] == "exif"
    # nothing in food/ matches: the closest photos there come anyway, flagged
    food = client.predict(query="chelsea", k=5, folder=str(library / "food"), api_name="/search")
    assert food and all(r["no_good_match"] and "/food/" in r["file"] for r in food)
    assert not pets[0]["no_good_match"]
    assert len(client.predict("a photo of something", 1, api_name="/search")) <= 1


def test_search_rejects_bad_dates_with_a_message(app):
    from gradio_client.exceptions import AppError

    client, *_ = app
    with pytest.raises(AppError, match="not a date"):
        client.predict("dog", 5, "", "", "last week", api_name="/search")


def test_describe_returns_a_caption_and_three_labels(app):
    client, *_ = app
    caption, labels = client.predict(_upload(DATA / "pets" / "chelsea.jpg"), api_name="/describe")
    assert isinstance(caption, str) and caption.strip()
    confidences = [c["confidence"] for c in labels["confidences"]]
    assert len(confidences) == 3 and confidences == sorted(confidences, reverse=True)
    assert 0 < sum(confidences) <= 1.0001
    assert labels["label"] == labels["confidences"][0]["label"]


def test_describe_applies_exif_orientation(app):
    client, _, _, spy, *_ = app
    raw = _raw_size(DATA / "space" / "rocket.jpg")  # stored sideways with EXIF orientation 6
    assert raw[0] < raw[1]
    spy.sizes.clear()
    client.predict(_upload(DATA / "space" / "rocket.jpg"), api_name="/describe")
    (width, height), *_ = spy.sizes
    assert width > height  # the model saw the photo upright (landscape)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.txt", b"hello", "not a photo"),
        ("page.html", b"<html><script>alert(1)</script></html>", "not a photo"),
        ("fake.png", b"<html><body>not a png</body></html>", "can't be read as a photo"),
        ("broken.jpg", (DATA / "pets" / "chelsea.jpg").read_bytes()[:2000], "can't be read as a photo"),
    ],
)
def test_invalid_uploads_get_a_readable_message(app, tmp_path, name, data, message):
    from gradio_client.exceptions import AppError

    client, *_ = app
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(AppError) as e:
        client.predict(_upload(path), api_name="/describe")
    assert message in str(e.value) and "Traceback" not in str(e.value)


def test_describe_does_not_block_searches(app):
    """Captioning runs in its own concurrency group: a search answers while a slow caption is in progress."""
    client, _, _, spy, *_ = app
    spy.delay = 3.0
    try:
        job = client.submit(_upload(DATA / "food" / "coffee.jpg"), api_name="/describe")
        assert spy.running.wait(20)
        started = time.perf_counter()
        assert client.predict("dog on the beach", 3, api_name="/search")[0]["file"] == "beach.jpg"
        assert time.perf_counter() - started < 2.0 and spy.running.is_set()  # answered during the caption
        assert isinstance(job.result(timeout=30)[0], str)
    finally:
        spy.delay = 0.0


def test_every_event_has_an_api_name_and_a_concurrency_group(app):
    *_, demo, _ = app
    fns = list(demo.fns.values())
    assert fns and all(fn.api_name for fn in fns)
    groups = {fn.api_name: fn.concurrency_id for fn in fns}
    assert groups["search"] == groups["search_gallery"] == "search"
    assert groups["describe"] == groups["similar_to_upload"] == "describe" and groups["index"] == "index"
    assert groups["similar"] == "similar" and groups["duplicates"] == groups["duplicates_view"] == "duplicates"
    assert demo._queue.max_size and demo._queue.max_size > 0  # a bounded queue
    assert not list(UI.glob("*.pyi"))  # building the app wrote nothing into the package


def test_similar_by_id_ranks_the_resized_copy_first(app):
    client, _, library, *_ = app
    [cat] = client.predict("chelsea", 1, "", str(library / "pets"), api_name="/search")
    results = client.predict(photo_id=cat["id"], k=3, api_name="/similar")
    assert results[0]["file"] == str(library.resolve() / "copies" / "cat-small.jpg")
    assert len(results) == 3 and cat["id"] not in [r["id"] for r in results]  # never itself
    assert all(set(r) == set(cat) for r in results)  # shaped as /search's results
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_similar_to_an_uploaded_image(app):
    client, _, library, *_ = app
    results = client.predict(image=_upload(DATA / "pets" / "chelsea.jpg"), k=2, api_name="/similar")
    lib = library.resolve()
    assert [r["file"] for r in results] == [str(lib / "pets" / "chelsea.jpg"), str(lib / "copies" / "cat-small.jpg")]
    assert results[0]["score"] > 0.999  # the library's own copy of the upload
    assert results[0]["caption"] and results[0]["labels"]


def test_similar_errors_are_messages(app, tmp_path):
    from gradio_client.exceptions import AppError

    client, *_ = app
    imported = client.predict("dog on the beach", 1, api_name="/search")[0]
    page = tmp_path / "page.html"
    page.write_text("<script>alert(1)</script>")
    cases = [
        (dict(), "Give a photo id"),
        (dict(photo_id=999999), "no photo with id 999999"),
        (dict(photo_id=imported["id"]), "imported caption: it has no image"),
        (dict(photo_id=1, image=_upload(DATA / "pets" / "chelsea.jpg")), "not both"),
        (dict(image=_upload(page)), "not a photo"),
    ]
    for kwargs, message in cases:
        with pytest.raises(AppError) as e:
            client.predict(**kwargs, api_name="/similar")
        assert message in str(e.value) and "Traceback" not in str(e.value)


def test_duplicates_groups_the_resized_copy(app):
    from gradio_client.exceptions import AppError

    client, _, library, *_ = app
    lib = library.resolve()
    pair = [str(lib / "copies" / "cat-small.jpg"), str(lib / "pets" / "chelsea.jpg")]
    groups = client.predict(api_name="/duplicates")
    [cats] = [g for g in groups if pair[0] in g["paths"]]
    assert cats["kind"] == "near" and cats["paths"] == pair and len(cats["ids"]) == 2
    assert all(g["kind"] == "exact" for g in groups if g is not cats)  # nothing else looks alike
    assert any(g["paths"] == pair for g in client.predict(0.99, api_name="/duplicates"))  # resized: any threshold
    with pytest.raises(AppError, match="between 0 and 1"):
        client.predict(1.5, api_name="/duplicates")


def test_browse_paginates_over_the_whole_library(app):
    *_, library = app
    first, second = library.page(1, per_page=5, order="path"), library.page(2, per_page=5, order="path")
    assert first.total == 10 and first.pages == 2 and len(first.records) == 5 and len(second.records) == 5
    assert {r.id for r in first.records}.isdisjoint(r.id for r in second.records)
    assert library.page(7, per_page=5).number == 2  # clamped to the last page
    label = library.label_counts()[0][0]
    filtered = library.page(1, per_page=50, label=label)
    assert filtered.total == len(filtered.records) > 0
    assert all(label in [lb.name for lb in r.labels] for r in filtered.records)


def test_index_a_new_folder_from_the_app(app, tmp_path):
    client, url, _, _, demo, app_library = app
    new = tmp_path / "new-photos"
    new.mkdir()
    shutil.copy(DATA / "travel" / "flower.jpg", new / "dahlia.jpg")
    (new / "broken.png").write_bytes(b"not really a png")
    summary = client.predict(str(new), api_name="/index")
    assert "**1** added" in summary and "**1** failed" in summary and "broken\\.png" in summary  # Markdown: escaped
    results = client.predict("dahlia", 3, api_name="/search")  # found by its file name
    assert results[0]["file"] == str(new.resolve() / "dahlia.jpg")
    assert str(new.resolve()) in demo.allowed_paths  # its photos can be served now

    # the Library tab's counts and failure list follow
    header, *_, failed_info, failures, _ = client.predict(api_name="/overview")
    assert "**11** photos indexed" in header and "**1** could not be read" in header
    assert "1 file" in failed_info and failures["value"]["data"][0][0].endswith("broken.png")

    from filelock import FileLock
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="not a folder"):
        client.predict(str(tmp_path / "missing"), api_name="/index")
    with FileLock(app_library.index_dir / "indexer.lock"), pytest.raises(AppError, match="another glimpse"):
        client.predict(str(new), api_name="/index")  # a CLI indexer is running: a message, not a traceback


def _upload(path):
    from gradio_client import handle_file

    return handle_file(str(path))


def _raw_size(path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.size


def test_edit_is_found_by_the_next_search_and_undone(app):
    client, *_ = app
    photo = next(r for r in client.predict("coffee", 10, api_name="/search") if r["file"].endswith("coffee.jpg"))
    edited = client.predict(photo["id"], "Ñandú café <b>&amp;</b> 🦤", ["Bird"], [], False, api_name="/edit")
    assert edited["human"] and edited["caption"] == "Ñandú café <b>&amp;</b> 🦤" and "Bird" in edited["labels"]
    assert edited["machine_caption"] == photo["caption"]
    try:
        first = client.predict("ñandú café", 3, api_name="/search")[0]
        assert first["id"] == photo["id"] and first["caption"] == edited["caption"]
    finally:
        restored = client.predict(photo["id"], None, None, None, True, api_name="/edit")
    assert not restored["human"] and restored["caption"] == photo["caption"] and "Bird" not in restored["labels"]
