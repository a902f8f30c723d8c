"""The web app's parts without a server: the app over a missing index, thumbnails, the progress adapter (escaping: see
test_ui_markup.py)."""

from __future__ import annotations

import pytest

from tests.conftest import DATA


@pytest.fixture
def handlers(tmp_path, tiny_models):
    """The app's event functions over an index that does not exist yet (and the layout they update)."""
    import gradio as gr
    from glimpse.ui.app import lay_out
    from glimpse.ui.handlers import Handlers
    from glimpse.ui.library import Library
    from glimpse.ui.thumbs import Thumbnails

    library = Library(tmp_path / "no-index-yet", tiny_models)
    with gr.Blocks():
        return Handlers(library, Thumbnails(tmp_path / "thumbs"), lay_out(library, None))


def test_the_app_works_before_any_index_exists(handlers):
    import gradio as gr

    search, browse = handlers.layout.search, handlers.layout.library
    shown = handlers.search_gallery("a dog", 10, "", "", None, None)
    assert shown[search.results.gallery]["value"] == [] and shown[search.results.photos] == []
    assert not shown[search.results.gallery]["visible"]  # no empty box under the message
    assert shown[search.status] == "No photos yet: index a folder in the **Index** tab."  # no CLI backticks
    with pytest.raises(gr.Error, match="no index at"):
        handlers.search_api("a dog")
    page = handlers.browse(1, "date", "")
    assert page[browse.results.gallery]["value"] == [] and "index a folder" in page[browse.info]
    assert "No index at" in handlers.overview()[handlers.layout.header]
    caption, labels = handlers.describe(str(DATA / "pets" / "chelsea.jpg"))  # Describe needs no index
    assert caption.strip() and len(labels) == 3
    status, groups = handlers.duplicates_view(0.85)
    assert "index a folder" in status and "`" not in status and groups == []
    # the tabs' own events say what failed in place (no toast); the photo stays in the Describe tab
    describe = handlers.layout.describe
    shown = handlers.similar_to_upload(str(DATA / "pets" / "chelsea.jpg"), 5)
    assert set(shown) == {describe.status} and "Could not find similar photos" in shown[describe.status]
    assert "no index at" in shown[describe.status]
    shown = handlers.similar_to_photo(None, 5)
    assert "Choose a photo" in shown[search.status] and shown[search.results.gallery]["value"] == []


def test_the_describe_tab_says_what_failed_in_place(handlers, tmp_path):
    """A photo that can't be read leaves the preview with its caption; a failure that is not the photo's keeps it."""
    import gradio as gr
    from glimpse.ui.views import md_escape

    describe = handlers.layout.describe
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes((DATA / "food" / "coffee.jpg").read_bytes()[:4000])
    shown = handlers.describe_view(str(truncated))
    assert shown[describe.photo] is None and shown[describe.caption] == "" and shown[describe.labels] is None
    assert (
        shown[describe.status].startswith("### ⚠ Could not describe this photo\n")
        and "truncated" in shown[describe.status]
    )
    with pytest.raises(gr.Error, match="can't be read as a photo"):  # the API's endpoint still raises
        handlers.describe(str(truncated))
    shown = handlers.describe_view(str(DATA / "pets" / "chelsea.jpg"))
    assert shown[describe.caption].strip() and shown[describe.status] == "" and describe.photo not in shown
    assert describe.status not in handlers.describe_view(None)  # the photo cleared: the message stays

    refused = handlers.refused_upload('{"names": ["notes.txt"], "at": 1}')  # named by the page's script
    assert (
        refused[describe.photo] is None
        and md_escape("notes.txt is a .txt file, not a photo") in refused[describe.status]
    )
    odd = handlers.refused_upload('{"names": ["IMG_1.HEIC"], "at": 2}')  # a photo the browser has no type for
    assert md_escape("IMG_1.HEIC is not a photo the browser can upload") in odd[describe.status]


def test_find_similar_names_what_the_gallery_holds():
    from glimpse.ui.views import similar_placeholder, similar_status

    status = similar_status("“a cup” (<code>coffee\\.jpg</code>)", 3, "coffee.jpg")
    assert status.startswith("### Photos like coffee\\.jpg\n**3** photos look like")
    assert similar_placeholder("coffee.jpg") == "Showing photos like coffee.jpg. Type words to search again."


def test_building_the_app_does_not_load_models_or_launch(tmp_path, tiny_blip, resnet_weights):
    from glimpse.indexer.models import BlipCaptioner, Models, ResNetClassifier, TextEmbedder
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    models = Models(BlipCaptioner(str(tiny_blip)), ResNetClassifier(str(resnet_weights)), TextEmbedder())
    demo = build_app(Library(tmp_path / "index", models), thumbs_dir=tmp_path / "thumbs")
    assert not models.captioner.loaded and models.classifier._transform is None and models.embedder._model is None
    assert not demo.is_running


def test_thumbnails_are_upright_small_and_cached(tmp_path):
    from glimpse.ui.thumbs import PREVIEW, TILE, Thumbnails
    from PIL import Image

    thumbs = Thumbnails(tmp_path / "thumbs")
    rocket = DATA / "space" / "rocket.jpg"  # stored sideways, EXIF orientation 6
    tile = thumbs.get(rocket)
    with Image.open(tile) as im:
        assert im.format == "JPEG" and im.width > im.height and min(im.size) <= TILE
    assert thumbs.get(rocket) == tile  # cached
    assert thumbs.get(rocket, side=PREVIEW) != tile
    assert oct((tmp_path / "thumbs").stat().st_mode & 0o777) == "0o700"

    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    assert thumbs.get(broken) is None and thumbs.get(tmp_path / "gone.jpg") is None
    assert thumbs.placeholder().is_file()


def test_result_tiles_and_details_say_why_a_photo_matched():
    from glimpse.search import Hit
    from glimpse.ui.views import detail_markdown, tile_caption

    photo = Hit(
        id=1, path="/p/rocket.jpg", file=None, caption="a rocket on a launch pad", labels=[("missile", 0.46)],
        score=0.848, semantic=0.648, matched={"caption": ["rocket", "launch"], "name": ["rocket"]},
    )  # fmt: skip
    assert tile_caption(photo).splitlines() == [
        "a rocket on a launch pad",
        "missile 46% · score 0.85",
        "words found: rocket, launch",
    ]
    text = detail_markdown(photo)
    assert "0.848: 0.648 for the meaning, +0.200 for the words" in text
    assert "rocket, launch (caption) · rocket (name)" in text
    photo.score = photo.semantic = 0.93  # find similar: one score, nothing to add up
    photo.matched = {}
    assert "**Score** 0.930  " in detail_markdown(photo) and "words found" not in tile_caption(photo)


def test_similar_and_duplicate_texts():
    from glimpse.search import Hit
    from glimpse.ui.views import (
        duplicate_caption,
        duplicate_title,
        duplicates_status,
        photo_title,
        similar_status,
    )

    cat = Hit(id=1, path="/p/`cat`.jpg", file=None, caption="a *cat* " + "very " * 20, labels=[])
    title = photo_title(cat)
    assert title.startswith("“a \\*cat\\*") and "*cat*" not in title
    assert title.endswith("…” (<code>\\`cat\\`\\.jpg</code>)")  # the name as it is, backticks included
    assert similar_status(title, 2).startswith("**2** photos look like “a")
    assert "Nothing to compare" in similar_status(title, 0)
    assert duplicate_caption("/p/a b/IMG_1.jpg", (640, 480)) == "IMG_1.jpg · 640 × 480 px\n/p/a b"
    assert "Exact copies" in duplicate_title(1, "exact", 3, 3) and "first 12 shown" in duplicate_title(
        2, "near", 40, 12
    )
    assert "No duplicates" in duplicates_status(0, 0, 0, 0.85)
    assert "first 30 are shown" in duplicates_status(31, 30, 70, 0.85)


def test_label_bars():
    from glimpse.indexer.types import Label
    from glimpse.ui.views import label_bars

    assert label_bars([Label("tabby", 0.6), Label("tiger cat", 0.2)]) == {"tabby": 0.6, "tiger cat": 0.2}
    assert label_bars([("dog", None), ("beach", None)]) == {"dog": 0.5, "beach": 0.5}  # imported: no probabilities
    assert label_bars([]) is None


def test_gradio_progress_adapter():
    from glimpse.ui.progress import GradioProgress

    calls, now = [], [10.0]
    progress = GradioProgress(lambda value, desc, unit: calls.append((value, desc, unit)), clock=lambda: now[0])
    progress.start(4)
    now[0] = 11.0
    progress.advance(2)
    now[0] = 12.0
    progress.advance(2)
    progress.close()
    assert [c[0] for c in calls] == [(0, 4), (2, 4), (4, 4)]
    assert calls[1][1] == "indexed 2 of 4 images · 2.0 images/s"
    assert calls[2][1] == "indexed 4 of 4 images · 2.0 images/s"
    assert {c[2] for c in calls} == {"images"}
    GradioProgress(lambda value, desc, unit: calls.append(desc)).start(0)
    assert calls[-1] == "nothing to do: no images"


def test_auth_parsing_and_exposure_warnings():
    from glimpse.ui.server import exposure_warnings, parse_auth

    assert parse_auth("ann:pa:ss") == ("ann", "pa:ss")
    for bad in ("ann", ":pw", "ann:", ""):
        with pytest.raises(ValueError):
            parse_auth(bad)
    assert exposure_warnings("127.0.0.1", False, None) == []
    assert (
        exposure_warnings("127.0.0.1", True, ("a", "b"))
        and "--auth" not in exposure_warnings("127.0.0.1", True, ("a", "b"))[0]
    )
    assert "without --auth" in exposure_warnings("0.0.0.0", False, None)[0]
