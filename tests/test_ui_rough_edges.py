"""The web app's rough edges, in a real browser (Debian's headless Chromium driven by Playwright): failures said
once, in place, with no toast and no red "Error" badge over stale results; Find similar saying what the gallery
holds; no empty gallery box; the empty-index page; and the whole app at phone width (390 x 844).

The app runs as in test_ui_browser.py (scripted captions and labels for the sample photos, the real MiniLM), over
a library with one broken photo (for the failures table) and one photo whose caption is very long (for the tiles).
Screenshots go to screenshots-tmp/ (and to docs/screenshots/ with GLIMPSE_REFRESH_SCREENSHOTS=1).
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import pytest

from tests.conftest import DATA
from tests.test_ui_browser import TIMEOUT, screenshot
from tests.ui_helpers import chromium_browser, keep_to_app, make_index, serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1360, "height": 900}
LONG = (
    "a tabby cat with green eyes sitting on a wooden chair next to a window in the afternoon sun while a dog "
    "sleeps on a rug and someone reads a newspaper in the background of the room"
)
BROKEN = "broken-photo-from-an-old-camera-card-DSC01234.jpg"


@pytest.fixture(scope="module")
def site(tmp_path_factory, minilm_models):
    """(url, Library, the paths the Describe tab described) of a running app."""
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    from tests.scripted_models import scripted_models

    root = tmp_path_factory.mktemp("rough-edges")
    library = root / "Pictures"
    shutil.copytree(DATA, library)
    (library / BROKEN).write_bytes((DATA / "pets" / "chelsea.jpg").read_bytes()[:3000])
    models = scripted_models(library, minilm_models.embedder)
    index = make_index(root / "index", library, models, imports=[])
    app_library = Library(index, models, batch_size=1)
    [cat] = [r for r in app_library.page(1, 50, "path").records if r.path.endswith("chelsea.jpg")]
    app_library.edit(cat.id, caption=LONG)
    described: list[str] = []
    describe = app_library.describe
    app_library.describe = lambda path: (described.append(str(path)), describe(path))[1]
    with serving(build_app(app_library, thumbs_dir=root / "thumbs"), app_library) as url:
        yield url, app_library, described


@pytest.fixture(scope="module")
def chromium():
    with chromium_browser() as browser:
        yield browser


@contextmanager
def app_page(chromium, url: str, viewport: dict, loaded: str = "photos indexed"):
    """A page of the app at `url`, once `loaded` shows; every request must stay on the app's host."""
    context = chromium.new_context(viewport=viewport)
    context.set_default_timeout(TIMEOUT)
    outside = keep_to_app(context, url)
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_text(loaded).wait_for()
        yield page
    finally:
        context.close()
    assert outside == []


@pytest.fixture(scope="module")
def desktop(chromium, site):
    with app_page(chromium, site[0], DESKTOP) as page:
        yield page


@pytest.fixture(scope="module")
def phone(chromium, site):
    with app_page(chromium, site[0], PHONE) as page:
        yield page


def search(page, query: str, status: str) -> None:
    """Search `query` from the Search tab and wait for the status line to say `status`."""
    page.get_by_role("tab", name="Search").click()
    box = page.locator("#query textarea")
    box.fill(query)
    box.press("Enter")
    page.locator("#search-status").get_by_text(status).first.wait_for()


def no_error_badge_or_toast(page) -> bool:
    """Gradio marks a failed event's outputs with a red "Error" badge and raises an "Error" toast: neither shows."""
    return page.get_by_text("Error", exact=True).filter(visible=True).count() == 0


def filters(page, since: str, until: str) -> None:
    if not page.locator("#since").is_visible():
        page.get_by_text("Filters and number of results").click()
    for where, value in (("#since", since), ("#until", until)):
        field = page.locator(f"{where} input").first
        field.fill(value)
        field.press("Enter")


# -- failures, said once and in place ---------------------------------------------------------------------
def test_a_failed_search_says_why_in_place_and_clears_the_old_results(desktop):
    search(desktop, "a rocket launch", "photos for")
    tiles = desktop.locator("#results .thumbnail-item")
    assert tiles.count() == 2

    filters(desktop, "2020-01-01", "2019-01-01")
    desktop.locator("#query textarea").press("Enter")
    status = desktop.locator("#search-status")
    status.get_by_text("Could not search").wait_for()
    assert "The start date is after the end date." in status.inner_text()
    assert not desktop.locator("#results").is_visible()  # the rocket is gone, not left under the message
    assert no_error_badge_or_toast(desktop)

    filters(desktop, "", "")
    desktop.locator("#query textarea").press("Enter")
    status.get_by_text("photos for").wait_for()  # a later success leaves nothing of the failure behind
    assert tiles.count() == 2 and "Could not" not in status.inner_text() and no_error_badge_or_toast(desktop)


def test_a_refused_upload_leaves_no_photo_and_caption_from_before(desktop, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    desktop.get_by_role("tab", name="Describe a photo").click()
    caption = desktop.locator("#caption textarea")
    desktop.locator("#photo input[type=file]").set_input_files(str(DATA / "pets" / "chelsea.jpg"))
    desktop.wait_for_function("el => el.value.includes('cat')", arg=caption.element_handle())
    assert desktop.locator("#photo img").count() == 1

    desktop.locator("#photo input[type=file]").set_input_files(str(notes))  # the browser refuses it (not image/*)
    status = desktop.locator("#describe-status")
    status.get_by_text("notes.txt is a .txt file, not a photo").wait_for()
    desktop.wait_for_function("el => el.value === ''", arg=caption.element_handle())
    assert desktop.locator("#photo img").count() == 0  # the cat is not left on show as if it were notes.txt
    assert "Could not describe this photo" in status.inner_text() and no_error_badge_or_toast(desktop)


def test_a_truncated_jpeg_is_said_once_and_a_later_success_clears_it(desktop, site, tmp_path):
    _, _, described = site
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes((DATA / "food" / "coffee.jpg").read_bytes()[:4000])
    desktop.get_by_role("tab", name="Describe a photo").click()
    described.clear()
    desktop.locator("#photo input[type=file]").set_input_files(str(truncated))
    status = desktop.locator("#describe-status")
    status.get_by_text("truncated.jpg can't be read as a photo").wait_for()
    desktop.wait_for_timeout(1500)  # room for a second, duplicate event, if there were one
    assert desktop.get_by_text("can't be read as a photo").count() == 1 and len(described) == 1
    assert desktop.locator("#photo img").count() == 0 and no_error_badge_or_toast(desktop)

    desktop.locator("#photo-similar").click()  # nothing to compare: said in the same place
    status.get_by_text("Drop or paste a photo first.").wait_for()
    assert desktop.get_by_role("tab", name="Describe a photo").get_attribute("aria-selected") == "true"

    desktop.locator("#photo input[type=file]").set_input_files(str(DATA / "food" / "coffee.jpg"))
    caption = desktop.locator("#caption textarea")
    desktop.wait_for_function("el => el.value.includes('coffee')", arg=caption.element_handle())
    assert status.inner_text().strip() == "" and no_error_badge_or_toast(desktop)


def test_a_failed_index_run_says_why_under_the_button(desktop, tmp_path):
    desktop.get_by_role("tab", name="Index").click()
    folder = desktop.locator("#index-folder input")
    folder.fill(str(tmp_path / "no such folder"))
    folder.press("Enter")
    desktop.get_by_role("button", name="Index this folder").click()
    result = desktop.locator("#index-result")
    result.get_by_text("Could not index this folder").wait_for()
    assert "is not a folder" in result.inner_text() and no_error_badge_or_toast(desktop)


# -- what the gallery holds -------------------------------------------------------------------------------
def test_find_similar_says_what_the_gallery_now_holds(desktop):
    search(desktop, "a rocket launch", "photos for")
    desktop.locator("#results .thumbnail-item").first.click()
    desktop.locator("#find-similar").click()
    status = desktop.locator("#search-status")
    status.get_by_text("Photos like rocket.jpg").wait_for()
    query = desktop.locator("#query textarea")
    assert query.input_value() == ""  # not the old query over photos it did not find
    assert "photos like rocket.jpg" in query.get_attribute("placeholder")

    search(desktop, "a cat", "photo for")  # a search by words puts the usual hint back
    assert query.get_attribute("placeholder").startswith("Describe the photo")


def test_no_match_leaves_no_empty_gallery_box(desktop):
    search(desktop, "a cat", "photo for")
    assert desktop.locator("#results").is_visible()
    if not desktop.locator("#filter-folder").is_visible():
        desktop.get_by_text("Filters and number of results").click()
    folder = desktop.locator("#filter-folder input")
    folder.fill("/nowhere")
    folder.press("Enter")
    search(desktop, "a cat", "Nothing for")
    assert not desktop.locator("#results").is_visible()
    folder.fill("")
    folder.press("Enter")


# -- at phone width -----------------------------------------------------------------------------------------
def page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def right_edge(locator) -> float:
    box = locator.bounding_box()
    return box["x"] + box["width"]


def test_phone_every_tab_is_in_reach_and_no_page_is_wider_than_the_screen(phone):
    tabs = phone.get_by_role("tab")
    names = tabs.all_inner_texts()
    assert names == ["Search", "Describe a photo", "Library", "Review", "Duplicates", "Index"]  # none behind "⋯"
    for name in names:
        tab = phone.get_by_role("tab", name=name)
        assert tab.is_visible() and right_edge(tab) <= PHONE["width"]
        tab.click()
        phone.wait_for_function(
            f"() => document.querySelector('[role=tab][aria-selected=true]').innerText === '{name}'"
        )
        assert page_width(phone) <= PHONE["width"], name
    screenshot(phone, "phone-index.png")


def test_phone_tiles_clamp_long_captions_and_the_detail_shows_all(phone):
    search(phone, "a cat", "photo for")
    tile = phone.locator("#results .thumbnail-item").first
    assert right_edge(tile) <= PHONE["width"] and tile.bounding_box()["width"] >= 140  # two a row, not four
    text = tile.locator(".caption-label")
    assert text.evaluate("el => el.scrollHeight > el.clientHeight + 2")  # clamped: more text than it shows
    lines = text.evaluate("el => Math.round(el.clientHeight / parseFloat(getComputedStyle(el).lineHeight))")
    assert lines <= 5
    screenshot(phone, "phone-search.png")
    tile.locator("img").click()
    detail = phone.locator(".gl-detail").first
    detail.get_by_text("Open the original").wait_for()
    assert phone.locator("#results-caption textarea").input_value() == LONG
    assert LONG in detail.locator("h3").first.inner_text()
    assert page_width(phone) <= PHONE["width"]


def test_phone_library_chart_failures_and_pager_fit(phone):
    phone.get_by_role("tab", name="Library").click()
    phone.locator("#library .thumbnail-item").first.wait_for()
    pager = phone.locator(".gl-pager").first
    buttons = [pager.get_by_role("button", name="← Previous"), pager.locator("input[type=number]"),
               pager.get_by_role("button", name="Next →")]  # fmt: skip
    tops = [b.bounding_box()["y"] + b.bounding_box()["height"] / 2 for b in buttons]
    assert max(tops) - min(tops) < 4 and all(right_edge(b) <= PHONE["width"] for b in buttons)  # one line
    lines = "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length }"
    assert [buttons[0].evaluate(lines), buttons[2].evaluate(lines)] == [1, 1]  # "← Previous" does not wrap

    title = phone.locator("#label-chart").get_by_text("Most common labels")
    assert title.is_visible() and right_edge(title) <= PHONE["width"]
    assert right_edge(phone.locator("#label-chart")) <= PHONE["width"]

    failures = phone.locator("#failures")
    failures.get_by_text(BROKEN).filter(visible=True).first.wait_for()
    why = failures.get_by_text("why it could not be read").filter(visible=True).first
    assert why.is_visible() and right_edge(why) <= PHONE["width"]  # the second column is not cut off
    assert right_edge(failures.get_by_text("cannot decode").filter(visible=True).first) <= PHONE["width"]
    assert page_width(phone) <= PHONE["width"]
    screenshot(phone, "phone-library.png")


# Last: building a second app makes its folder Gradio's temporary folder for the whole process (tempdir.use),
# so the module's own app could no longer hand out files afterwards.
def test_the_empty_index_page_shows_no_markup(chromium, minilm_models, tmp_path):
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    library = Library(tmp_path / "no index yet", minilm_models)
    with serving(build_app(library, thumbs_dir=tmp_path / "thumbs"), library) as url:
        with app_page(chromium, url, DESKTOP, loaded="No index at") as page:
            search(page, "a dog", "No photos yet")
            assert not page.locator("#results").is_visible()
            page.get_by_role("tab", name="Duplicates").click()
            page.get_by_role("button", name="Find duplicates").click()
            page.locator("#duplicates-status").get_by_text("No photos yet").wait_for()
            page.get_by_role("tab", name="Library").click()
            page.locator("#page-info").get_by_text("No photos yet").wait_for()
            for shown in ("#search-status", "#duplicates-status", "#page-info", ".gl-header"):
                text = page.locator(shown).first.inner_text()
                assert "`" not in text and "**" not in text and "index a folder" in text.lower(), (shown, text)
            assert no_error_badge_or_toast(page)
