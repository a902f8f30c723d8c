"""The web app in Spanish and in English, in Debian's headless Chromium: a browser whose locale is es-ES gets
Spanish tabs, labels, search status, detail view, dates and error toasts; en-US gets English; the language
selector switches (and remembers) the language. The screenshots docs/screenshots/app-es.png and app-en.png come
from here (GLIMPSE_REFRESH_SCREENSHOTS=1 refreshes them; see test_ui_browser.py)."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import DATA
from tests.test_ui_browser import TIMEOUT, screenshot
from tests.ui_helpers import chromium_browser, keep_to_app, make_index, serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABS = {
    "es": ["Buscar", "Describir una foto", "Biblioteca", "Revisar", "Duplicados", "Índice"],
    "en": ["Search", "Describe a photo", "Library", "Review", "Duplicates", "Index"],
}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, minilm_models):
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    from tests.scripted_models import scripted_models

    root = tmp_path_factory.mktemp("ui-i18n")
    library = root / "Pictures"
    shutil.copytree(DATA, library)
    models = scripted_models(library, minilm_models.embedder)
    index = make_index(root / "index", library, models, imports=[])
    app_library = Library(index, models, batch_size=1)
    demo = build_app(app_library, thumbs_dir=root / "thumbs")
    with serving(demo, app_library) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def open_app(browser, app_url):
    """open_app(locale) -> a page of the app in a fresh browser context with that locale (its Accept-Language
    and navigator.language), once the header has loaded. Requests beyond the app fail the test."""
    contexts, blocked = [], []

    def open_page(locale: str):
        context = browser.new_context(locale=locale, viewport={"width": 1360, "height": 900})
        context.set_default_timeout(TIMEOUT)
        blocked.append(keep_to_app(context, app_url))
        contexts.append(context)
        page = context.new_page()
        page.goto(app_url)
        page.locator(".gl-header").get_by_text("indexed").or_(page.get_by_text("indexadas")).first.wait_for()
        return page

    yield open_page
    for context in contexts:
        context.close()
    outside = [url for urls in blocked for url in urls]
    assert outside == [], f"the page tried to reach beyond the app: {outside}"


def tab_names(page) -> list[str]:
    return [name.strip() for name in page.get_by_role("tab").all_inner_texts()]


def search(page, query: str) -> None:
    box = page.locator("#query textarea")
    box.fill(query)
    box.press("Enter")


def test_spanish_browser_gets_the_app_in_spanish(open_app):
    page = open_app("es-ES")
    assert page.evaluate("navigator.language") == "es"
    assert tab_names(page) == TABS["es"]
    header = page.locator(".gl-header").inner_text()
    assert "Encuentra tus fotos describiéndolas." in header and "fotos indexadas" in header
    assert page.locator("#language input:checked").get_attribute("value") == "es"
    assert page.locator("#query textarea").get_attribute("placeholder").startswith("Describe la foto")
    page.get_by_text("Filtros y número de resultados").wait_for()

    search(page, "a cat")
    status = page.locator("#search-status")
    status.get_by_text("1 foto para «a cat»").wait_for()
    assert "las mejores primero" in status.inner_text()
    tiles = page.locator("#results .thumbnail-item")
    assert "tabby cat" in tiles.first.inner_text() and "puntuación" in tiles.first.inner_text()
    tiles.first.click()
    detail = page.locator(".gl-detail").first
    detail.get_by_text("Abrir el original").wait_for()
    text = detail.inner_text()
    assert "Tomada" in text and "12 jun 2021" in text and "Archivo" in text and "Puntuación" in text
    assert page.get_by_role("button", name="Buscar parecidas").is_visible()
    assert page.get_by_role("button", name="Guardar descripción").is_visible()
    screenshot(page, "app-es.png")

    search(page, "xqzv plorble")
    status.get_by_text("Nada se parece bien a").wait_for()
    page.locator("#results .thumbnail-item").get_by_text("la más cercana, no una buena coincidencia").first.wait_for()

    page.get_by_role("tab", name="Biblioteca").click()
    page.locator("#page-info").get_by_text("Página 1 de 1").wait_for()
    assert page.locator("#page-info").inner_text().endswith(" · 6 fotos")
    assert "12 jun 2021" in page.locator("#library").inner_text()

    # an error toast, in Spanish: Rename without ticking the box
    page.get_by_role("tab", name="Revisar").click()
    page.get_by_text("Exportar y nombres de archivo").click()
    page.locator("#rename-apply").click()
    page.get_by_text("Marca primero la casilla para confirmar").first.wait_for()


def test_english_browser_gets_the_app_in_english(open_app):
    page = open_app("en-US")
    assert tab_names(page) == TABS["en"]
    assert "Find your photos by describing them." in page.locator(".gl-header").inner_text()
    search(page, "a cat")
    status = page.locator("#search-status")
    status.get_by_text("1 photo for “a cat”").wait_for()
    page.locator("#results .thumbnail-item").first.click()
    detail = page.locator(".gl-detail").first
    detail.get_by_text("Open the original").wait_for()
    assert "Jun 12, 2021" in detail.inner_text() and "Taken" in detail.inner_text()
    screenshot(page, "app-en.png")
    page.get_by_role("tab", name="Review").click()
    page.get_by_text("Export and file names").click()
    page.locator("#rename-apply").click()
    page.get_by_text("Tick the box to confirm first").first.wait_for()


def test_the_language_selector_switches_and_remembers(open_app):
    page = open_app("es-ES")
    page.locator("#language").get_by_text("English").click()  # writes the cookie, loads the page again
    page.get_by_role("tab", name="Describe a photo").wait_for()
    assert tab_names(page) == TABS["en"]
    page.locator(".gl-header").get_by_text("photos indexed").wait_for()  # the handlers' strings follow too
    assert page.locator("#language input:checked").get_attribute("value") == "en"
    search(page, "a cat")
    page.locator("#search-status").get_by_text("1 photo for").wait_for()

    page.reload()  # remembered: the cookie wins over the browser's Spanish
    page.locator(".gl-header").get_by_text("photos indexed").wait_for()
    assert tab_names(page) == TABS["en"]
    page.locator("#language").get_by_text("Español").click()
    page.locator(".gl-header").get_by_text("fotos indexadas").wait_for()
    assert tab_names(page) == TABS["es"]
