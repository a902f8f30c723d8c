"""The web app in a real browser: Debian's headless Chromium driven by Playwright.

The app runs with scripted captions and labels for the sample photos (tests/scripted_models.py) and the real
MiniLM, so what the browser shows is meaningful and the screenshots double as documentation. They are saved
in screenshots-tmp/; with GLIMPSE_REFRESH_SCREENSHOTS=1 they also replace docs/screenshots/. Every request the
page makes must go to the app on 127.0.0.1: anything else is blocked and fails the test.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import DATA, REPO
from tests.ui_helpers import CHROMIUM, CHROMIUM_ARGS, keep_to_app, make_index, playwright_api, serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = REPO / "screenshots-tmp"
DOCS_SHOTS = REPO / "docs" / "screenshots"
TIMEOUT = 60_000  # ms; the first search loads MiniLM


@pytest.fixture(scope="module")
def app(tmp_path_factory, minilm_models):
    """(url, models) of a running app over a copy of data/photos."""
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    from tests.scripted_models import scripted_models

    root = tmp_path_factory.mktemp("ui-browser")
    library = root / "Pictures"
    shutil.copytree(DATA, library)
    with Image.open(library / "pets" / "chelsea.jpg") as im:  # a resized copy, for Find similar and Duplicates
        im.resize((im.width // 2, im.height // 2)).save(library / "pets" / "chelsea-small.jpg", quality=90)
    models = scripted_models(library, minilm_models.embedder)  # the search itself is the real MiniLM
    index = make_index(root / "index", library, models, imports=[])
    app_library = Library(index, models, batch_size=1)
    demo = build_app(app_library, thumbs_dir=root / "thumbs")
    with serving(demo, app_library) as url:
        yield url, models


@pytest.fixture(scope="module")
def page(app, tmp_path_factory):
    app_url = app[0]
    with playwright_api().sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1360, "height": 900},
        )
        context.set_default_timeout(TIMEOUT)
        outside = keep_to_app(context, app_url)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(app_url)
        page.get_by_text("photos indexed").wait_for()
        yield page
        context.close()
    assert outside == [], f"the page tried to reach beyond the app: {outside}"


def screenshot(page, name: str, settle_ms: int = 400) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.wait_for_timeout(settle_ms)  # let transitions settle
    page.screenshot(path=str(SHOTS / name), full_page=True)
    if os.environ.get("GLIMPSE_REFRESH_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHOTS / name, DOCS_SHOTS / name)


def test_search_shows_the_gallery_and_a_detail_view(page):
    page.get_by_role("tab", name="Search").click()
    query = page.locator("#query textarea")
    query.fill("a rocket launch")
    query.press("Enter")
    tiles = page.locator("#results .thumbnail-item")
    tiles.first.wait_for()
    assert tiles.count() == 2  # the rocket, then the astronaut in front of a space shuttle
    assert "rocket on a launch pad" in tiles.first.inner_text()  # caption, labels and score under the tile
    assert "missile 46%" in tiles.first.inner_text() and "score" in tiles.first.inner_text()
    assert "2 photos" in page.locator("#search-status").inner_text()

    tiles.first.click()
    detail = page.locator(".gl-detail").first
    detail.get_by_text("Open the original").wait_for()
    assert "missile" in detail.inner_text() and "(EXIF)" in detail.inner_text()
    screenshot(page, "search.png")

    # filters apply inside the search: taken from 2016 on leaves the astronaut (file date), not the 2015 rocket
    page.get_by_text("Filters and number of results").click()
    since = page.locator("#since input").first
    since.fill("2016-01-01")
    since.press("Enter")
    query.press("Enter")
    page.locator("#search-status").get_by_text("taken Jan 1, 2016").wait_for()
    assert tiles.count() == 1 and "astronaut" in tiles.first.inner_text()
    screenshot(page, "search-filters.png")
    since.fill("")
    since.press("Enter")

    query.fill("xqzv plorble")
    query.press("Enter")
    page.locator("#search-status").get_by_text("No good match").wait_for()
    page.locator("#results .thumbnail-item").get_by_text("closest, not a good match").first.wait_for()


def test_describe_an_upload(page):
    page.get_by_role("tab", name="Describe a photo").click()
    page.locator("#photo input[type=file]").set_input_files(str(DATA / "pets" / "chelsea.jpg"))
    caption = page.locator("#caption textarea")
    page.wait_for_function("el => el.value.trim().length > 0", arg=caption.element_handle())
    assert "cat" in caption.input_value()
    labels = page.locator("#labels")
    labels.get_by_text("tabby").first.wait_for()
    assert labels.locator("meter.bar").count() == 3  # gr.Label(num_top_classes=3): three bars
    assert labels.locator("dd.confidence").all_inner_texts() == ["58%", "22%", "12%"]
    screenshot(page, "describe.png")


def test_find_similar_from_a_result(page):
    page.get_by_role("tab", name="Search").click()
    if page.locator("#since").is_visible():  # left open by the filter test
        page.get_by_text("Filters and number of results").click()
    query = page.locator("#query textarea")
    query.fill("a cat")
    query.press("Enter")
    tiles = page.locator("#results .thumbnail-item")
    page.locator("#search-status").get_by_text("photos for").wait_for()
    assert "tabby cat" in tiles.first.inner_text()
    tiles.first.click()
    page.locator("#find-similar").click()
    status = page.locator("#search-status")
    status.get_by_text("look like").wait_for()
    assert "most alike first" in status.inner_text() and "chelsea" in status.inner_text()
    assert tiles.count() == 6  # every other photo, the resized copy of the same cat first
    assert "tabby cat" in tiles.first.inner_text() and "tabby cat" not in tiles.nth(1).inner_text()
    assert "score 1.00" in tiles.first.inner_text()
    tiles.first.click()  # a look-alike opens in the detail view like any result
    page.locator(".gl-detail").first.get_by_text("Open the original").wait_for()
    assert "chelsea" in page.locator(".gl-detail").first.inner_text()
    screenshot(page, "similar.png")


def test_find_similar_to_an_upload(page):
    page.get_by_role("tab", name="Describe a photo").click()
    page.locator("#photo input[type=file]").set_input_files(str(DATA / "food" / "coffee.jpg"))
    page.wait_for_function("el => el.value.includes('coffee')", arg=page.locator("#caption textarea").element_handle())
    page.locator("#photo-similar").click()
    status = page.locator("#search-status")  # the results open in the Search tab
    status.get_by_text("your photo").wait_for()
    assert "coffee.jpg" in status.inner_text()
    tiles = page.locator("#results .thumbnail-item")
    assert "cup of coffee" in tiles.first.inner_text() and "score 1.00" in tiles.first.inner_text()


def test_duplicates_tab(page):
    page.get_by_role("tab", name="Duplicates").click()
    page.get_by_role("button", name="Find duplicates").click()
    status = page.locator("#duplicates-status")
    status.get_by_text("group of copies").wait_for()
    assert "**" not in status.inner_text() and "2 photos in all" in status.inner_text()
    group = page.locator(".gl-duplicates").first
    group.locator(".thumbnail-item").first.wait_for()
    names = group.locator(".thumbnail-item").all_inner_texts()
    assert [n.split(" ·")[0] for n in names] == ["chelsea-small.jpg", "chelsea.jpg"]
    assert "Group 1" in page.locator(".gl-group").first.inner_text()
    assert "Near copies" in page.locator(".gl-group").first.inner_text()
    screenshot(page, "duplicates.png")


def test_library_tab(page):
    page.get_by_role("tab", name="Library").click()
    page.locator("#library .thumbnail-item").first.wait_for()
    assert page.locator("#library .thumbnail-item").count() == 7
    assert "7 photos" in page.locator("#page-info").inner_text()
    assert "Jun 12, 2021" in page.locator("#library").inner_text()  # EXIF dates under the tiles
    screenshot(page, "library.png")

    page.locator("#library .thumbnail-item").first.click()  # Find similar from the library opens the Search tab
    page.locator("#library-similar").click()
    page.locator("#search-status").get_by_text("look like").wait_for()
    assert page.locator("#results .thumbnail-item").count() == 6


def test_index_tab_shows_progress_and_a_summary(page, app, tmp_path):
    from PIL import Image, ImageOps

    new = tmp_path / "Holiday 2024"
    new.mkdir()
    for name in ("travel/china.jpg", "travel/flower.jpg", "food/coffee.jpg"):  # new bytes: not recognised copies
        with Image.open(DATA / name) as im:
            ImageOps.mirror(im).save(new / Path(name).name, quality=90)
    _, models = app
    models.captioner.delay = 1.0
    try:
        page.get_by_role("tab", name="Index").click()
        folder = page.locator("#index-folder input")
        folder.fill(str(new))
        folder.press("Enter")
        page.get_by_role("button", name="Index this folder").click()
        page.get_by_text("indexed 1 of 3 images").first.wait_for()  # gr.Progress: done/total and images/s
        assert "images/s" in page.get_by_text("indexed 1 of 3 images").first.inner_text()
        screenshot(page, "index-progress.png", settle_ms=0)
        result = page.locator("#index-result")
        result.get_by_text("3 added").wait_for()
        assert "0 failed" in result.inner_text() and "images/s" in result.inner_text()
        screenshot(page, "index.png")
    finally:
        models.captioner.delay = 0.0

    page.get_by_role("tab", name="Library").click()
    page.locator("#page-info").get_by_text("10 photos").wait_for()


def review_path(page, other_than: str = "") -> str:
    """The path of the photo under review, once shown (not Gradio's timer while the view updates)."""
    where = page.locator("#review-where")
    page.wait_for_function(
        "([el, old]) => { const line = el.innerText.trim().split('\\n')[0].trim();"
        " return line.startsWith('/') && line !== old; }",
        arg=[where.element_handle(), other_than],
    )
    return where.inner_text().split("\n")[0].strip()


def test_review_edit_approve_and_export(page, app):
    """The alt-text review: edit one caption (Alt+E), approve the next (Alt+A), filter, export sidecars."""
    import json
    import subprocess

    page.get_by_role("tab", name="Review").click()
    page.locator("#review-gallery .thumbnail-item").first.wait_for()
    alt = page.locator("#review-alt textarea")
    page.wait_for_function("el => el.value.trim().length > 0", arg=alt.element_handle())
    first = review_path(page)
    text = f'{alt.input_value().capitalize()} (foto de Ángel & "Ñu" <3)'
    alt.fill(text)
    page.locator("#review-count").get_by_text(f"{len(text)} characters").wait_for()
    alt.press("Alt+e")  # save the edit: on to the next photo
    page.locator("#review-status").get_by_text("Saved").wait_for()
    page.wait_for_function("el => !el.value.includes('Ángel')", arg=alt.element_handle())
    second = review_path(page, other_than=first)
    assert second != first
    page.locator("#review-gallery").get_by_text("foto de Ángel").wait_for()  # the tile shows the new caption
    page.locator("#review-approve").click()
    page.locator("#review-status").get_by_text("Approved").wait_for()
    screenshot(page, "review.png")

    page.locator("#review-show").get_by_text("Edited").click()
    page.locator("#review-info").get_by_text("1 photo").wait_for()
    page.locator("#review-show").get_by_text("Approved").click()
    page.locator("#review-info").get_by_text("1 photo").wait_for()

    if shutil.which("exiftool") is None:
        return
    page.get_by_text("Export and file names").click()
    page.locator("#review-export").click()
    page.locator("#review-export-status").get_by_text("2 new").wait_for()
    sidecar = Path(first + ".xmp")
    out = subprocess.run(["exiftool", "-j", "-G1", str(sidecar)], capture_output=True, check=True).stdout
    (got,) = json.loads(out)
    assert got["XMP-dc:Description"] == text and got["XMP-iptcCore:AltTextAccessibility"] == text
    assert Path(second + ".xmp").is_file()
