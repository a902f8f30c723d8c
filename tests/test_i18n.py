"""The web app in English and Spanish: the catalogs, the visitor's language (header, cookie, --lang), dates and
numbers, the views and toasts in Spanish, the page script, `glimpse serve --lang`, and (slow) the running app's
handlers answering each visitor in their language while the API stays plain English data."""

from __future__ import annotations

import json
import re
import string
from datetime import date, datetime
from pathlib import Path

import pytest

from tests.conftest import DATA

UI = Path(__file__).resolve().parent.parent / "ui"


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# -- the catalogs -----------------------------------------------------------------------------------------------
def test_catalogs_have_the_same_keys_and_placeholders():
    from glimpse.ui.i18n import EN, ES

    assert set(EN) == set(ES)
    different = {key: (fields(EN[key]), fields(ES[key])) for key in EN if fields(EN[key]) != fields(ES[key])}
    assert different == {}
    assert all(ES[key].strip() for key in ES)


def test_every_key_the_code_uses_is_in_the_catalog_and_frontend_keys_have_no_placeholders():
    from glimpse.ui.i18n import EN

    code = {path.name: path.read_text() for path in UI.glob("*.py")}
    frontend = {k for text in code.values() for k in re.findall(r'\bL\("([a-z_.]+)"\)', text)}
    python = {k for text in code.values() for k in re.findall(r"\bt\(\s*[\"']([a-zA-Z_.]+)[\"']", text)}
    assert len(frontend) > 50 and len(python) > 50  # the patterns still find the keys
    assert frontend - set(EN) == set() and python - set(EN) == set()
    # the frontend reads its strings as ICU messages: braces would be taken for arguments
    assert {k for k in frontend if "{" in EN[k] or "}" in EN[k]} == set()
    # keys built at run time
    for action in ("approve", "edit", "skip"):
        assert f"review.done.{action}" in EN
    for state in ("unreviewed", "approved", "edited", "skipped"):
        assert f"review.state.{state}" in EN and f"review.states.{state}" in EN
    for field in ("caption", "labels", "name", "kind"):
        assert f"field.{field}" in EN


def test_t_fills_placeholders_and_falls_back_to_english():
    from glimpse.ui.i18n import t

    assert t("page.line", "es", number=2, pages=5, photos="40 fotos") == "Página **2** de **5** · 40 fotos"
    assert t("tab.search", "fr") == "Search" == t("tab.search", None)
    assert t("tab.search", "es") == "Buscar"


def test_api_descriptions_get_english_instead_of_translation_keys():
    from glimpse.ui.i18n import I18N, english

    marker = str(I18N("index.folder"))
    assert marker.startswith("__i18n__")
    info = {"parameters": [{"label": I18N("index.folder"), "default": ["x", 1, None]},
                           {"label": {"_type": "translation_metadata", "key": "search.k"}},
                           {"label": f"{marker} ({marker})"}]}  # fmt: skip
    assert english(info) == {"parameters": [{"label": "Folder", "default": ["x", 1, None]}, {"label": "Results"},
                                            {"label": "Folder (Folder)"}]}  # fmt: skip


# -- dates and numbers -------------------------------------------------------------------------------------------
def test_dates_are_written_the_languages_way():
    from glimpse.ui.i18n import day, day_and_time

    assert day(datetime(2023, 7, 14, 9, 30), "en") == "Jul 14, 2023"
    assert day(datetime(2023, 7, 14, 9, 30), "es") == "14 jul 2023"
    assert day(date(2021, 1, 2), "es") == "2 ene 2021"
    assert day_and_time(datetime(2023, 12, 1, 18, 5), "en") == "Dec 1, 2023, 18:05"
    assert day_and_time(datetime(2023, 12, 1, 18, 5), "es") == "1 dic 2023, 18:05"


def test_numbers_and_counts_are_written_the_languages_way():
    from glimpse.ui.i18n import count, number

    assert count(1234, "photos", "es") == "1.234 fotos" and count(1234, "photos", "en") == "1,234 photos"
    assert count(1, "photos", "es") == "1 foto" and count(1, "photos", "en") == "1 photo"
    assert count(0, "files", "es") == "0 archivos" and count(2, "groups", "en") == "2 groups"
    assert number(1234567.891, "es", 2) == "1.234.567,89" and number(1234567.891, "en", 2) == "1,234,567.89"
    assert number(0.5, "es", 3) == "0,500" and number(12, "es") == "12"


# -- the visitor's language --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-ES,es;q=0.9,en;q=0.8", ["es", "es", "en"]),
        ("en;q=0.5, es-MX;q=0.9", ["es", "en"]),  # by quality, not by order
        ("fr-CH, fr;q=0.9, de;q=0.7, *;q=0.5", ["fr", "fr", "de"]),
        ("es;q=0, en", ["en"]),  # q=0: not wanted
        ("EN-us", ["en"]),
        ("es;q=abc, en;q=0.1", ["en"]),  # a broken q-value counts as unwanted
        ("", []),
        (None, []),
    ],
)
def test_accept_language_is_parsed_with_its_q_values(header, expected):
    from glimpse.ui.language import accepted

    assert accepted(header) == expected


def test_the_language_rule_choice_then_server_then_header():
    from glimpse.ui.language import resolve

    assert resolve(None, "auto", "es-ES,es;q=0.9") == "es"
    assert resolve(None, "auto", "fr, de;q=0.9") == "en"  # nothing supported: English
    assert resolve(None, "auto", "fr, es;q=0.3, en;q=0.2") == "es"  # the first supported one
    assert resolve(None, "en", "es-ES") == "en"  # --lang en for every visitor...
    assert resolve(None, "es", "en-US") == "es"
    assert resolve("en", "es", "es-ES") == "en"  # ...but the visitor's own choice wins
    assert resolve("es", "auto", "en-US") == "es"
    assert resolve("fr", "auto", "es") == "es"  # an unknown choice is ignored


def test_the_language_of_a_request_reads_its_cookie_and_accept_language():
    import gradio as gr
    from glimpse.ui.language import cookie_choice, of_request

    assert cookie_choice("theme=dark; glimpse_lang=es") == "es"
    assert cookie_choice("glimpse_lang=fr") is None and cookie_choice("") is None and cookie_choice(None) is None
    assert cookie_choice('bad"cookie; ;;') is None
    spanish = gr.Request(headers={"accept-language": "es-ES,es;q=0.9", "cookie": "other=1"})
    chose_english = gr.Request(headers={"Accept-Language": "es-ES", "Cookie": "glimpse_lang=en"})
    assert of_request(spanish, "auto") == "es" and of_request(spanish, "en") == "en"
    assert of_request(chose_english, "es") == "en"
    assert of_request(gr.Request(headers={}), "auto") == "en" and of_request(None, "es") == "es"


def test_handlers_answer_in_the_visitors_language_and_english_without_a_request():
    import gradio as gr
    from glimpse.ui.handlers import Handlers

    ui = Handlers(library=None, thumbs=None, layout=None, server_language="auto")
    assert ui.lang(gr.Request(headers={"accept-language": "es"})) == "es" and ui.lang(None) == "en"
    assert Handlers(None, None, None, "es").lang(gr.Request(headers={"accept-language": "en"})) == "es"
    assert ui.alt_count("un perro", gr.Request(headers={"accept-language": "es"})) == "8 caracteres"
    assert ui.alt_count("a dog") == "5 characters"


def test_toasts_follow_the_visitors_language():
    import gradio as gr
    from glimpse.indexer.errors import IndexNotFound, NotInIndex
    from glimpse.ui.messages import error_text, readable

    assert error_text(IndexNotFound("no index at /x"), "en") == "no index at /x"
    assert error_text(IndexNotFound("no index at /x"), "es") == "Todavía no hay índice: no index at /x"

    class Events:
        def lang(self, request):
            return "es" if request is not None else "en"

        @readable
        def act(self, request: gr.Request | None = None):
            raise NotInIndex("photo 7 is not in the index")

        @readable
        def broken(self, request: gr.Request | None = None):
            raise FileNotFoundError(2, "No such file or directory", "/x/a.jpg")

    with pytest.raises(gr.Error) as e:
        Events().act(gr.Request(headers={}))
    assert e.value.message == "Esa foto no está en el índice: photo 7 is not in the index"
    with pytest.raises(gr.Error) as e:
        Events().act()  # no request: an API call, in English
    assert e.value.message == "photo 7 is not in the index"
    with pytest.raises(gr.Error) as e:
        Events().broken(gr.Request(headers={}))
    assert e.value.message == "No such file or directory: /x/a.jpg"


# -- views in Spanish --------------------------------------------------------------------------------------------
def _hit(**kw):
    from glimpse.search import Hit

    base = dict(id=1, path="/fotos/gato.jpg", file=Path("/fotos/gato.jpg"), caption="un gato en un sofá",
                labels=[("tabby", 0.58)], score=0.8123, date="2021-06-12T10:20:00", date_source="exif",
                size=(640, 480))  # fmt: skip
    return Hit(**{**base, **kw})


def test_views_in_spanish():
    from glimpse.ui import views

    hit = _hit()
    assert views.library_caption(hit, "es").splitlines()[1] == "12 jun 2021 · tabby 58%"
    assert views.library_caption(hit, "en").splitlines()[1] == "Jun 12, 2021 · tabby 58%"
    assert "puntuación 0,81" in views.tile_caption(hit, "es")
    detail = views.detail_markdown(hit, "es")
    assert "**Tomada** 12 jun 2021\\, 10\\:20 \\(EXIF\\)" in detail and "[Abrir el original](" in detail
    assert "**Tamaño** 640 × 480 px" in detail and "**Puntuación** 0,812" in detail
    found = views.detail_markdown(_hit(matched={"caption": ["gato"], "name": ["gato"]}), "es")
    assert "**Palabras encontradas** gato (descripción) · gato (nombre)" in found
    assert views.page_markdown(2, 52, 1234, "es") == "Página **2** de **52** · 1.234 fotos"
    assert views.page_markdown(1, 1, 1, "en") == "Page **1** of **1** · 1 photo"
    assert views.failures_markdown(1, "es").endswith("1 archivo (se reintentan cuando cambian)")
    assert views.duplicates_status(3, 3, 7, 0.85, "es").startswith("**3 grupos** de copias, 7 fotos en total")
    stats = {"roots": ["/fotos"], "indexed": 1234, "failed": 0, "size_bytes": 2_500_000, "offline": 0}
    assert views.stats_markdown(stats, "es").startswith("**1.234** fotos indexadas · **0** no se pudieron leer")
    assert "índice de 2,5 MB" in views.stats_markdown(stats, "es")
    assert views.review_where(hit, None, True, "es").endswith("sin revisar · escrita por una persona")
    assert views.review_where(hit, "approved", False, "es").endswith("aprobada · escrita por los modelos")
    assert views.review_page_markdown(1, 1, 0, "approved", "es") == "No hay fotos aprobadas."
    assert views.review_page_markdown(1, 1, 0, "edited", "en") == "No photos edited."


def test_search_status_in_spanish():
    from glimpse.search import Filters, SearchResults
    from glimpse.ui import views

    hit = _hit()
    filters = Filters(label="dog", since=date(2016, 1, 1))
    found = SearchResults(query="gato", hits=[hit], filters=filters, no_good_match=False)
    status = views.search_status(found, 1, "es")
    assert status == "**1 foto** para «gato» (etiqueta *dog*; tomadas del 1 ene 2016 al …), las mejores primero."
    english = views.search_status(found, 1, "en")
    assert english == "**1 photo** for “gato” (label *dog*; taken Jan 1, 2016 to …), best first."
    assert views.search_status(SearchResults("", [], False, Filters()), 0, "es").startswith("Escribe")


def test_progress_in_spanish():
    from glimpse.ui.progress import GradioProgress

    calls, now = [], [10.0]
    progress = GradioProgress(lambda value, desc, unit: calls.append((desc, unit)), clock=lambda: now[0], lang="es")
    progress.start(1500)
    now[0] = 12.0
    progress.advance(3)
    assert calls[-1] == ("indexadas 3 de 1.500 imágenes · 1,5 imágenes/s", "imágenes")


# -- the page and the CLI ----------------------------------------------------------------------------------------
def _page_with(headers: dict[str, str], server: str) -> bytes:
    """The page an ASGI app behind PageLanguage sends for a GET / with these headers."""
    import asyncio

    from glimpse.ui.language import PageLanguage

    page = b'<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body>app</body></html>'

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                (b"content-length", str(len(page)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": page[:20], "more_body": True})
        await send({"type": "http.response.body", "body": page[20:]})

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    scope = {"type": "http", "method": "GET", "path": "/",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}  # fmt: skip
    asyncio.run(PageLanguage(app, server=server)(scope, receive, send))
    start, body = sent
    assert dict(start["headers"])[b"content-length"] == str(len(body["body"])).encode()
    return body["body"]


def test_the_page_tells_gradio_the_visitors_language():
    spanish = _page_with({"Accept-Language": "es-ES,es;q=0.9"}, "auto")
    assert spanish.startswith(b'<!doctype html><html lang="en"><head><script>(() => { const lang = "es";')
    assert b"navigator, 'language'" in spanish and spanish.endswith(b"<body>app</body></html>")
    assert b'const lang = "en"' in _page_with({"Accept-Language": "es-ES", "Cookie": "glimpse_lang=en"}, "auto")
    assert b'const lang = "es"' in _page_with({"Accept-Language": "en-US"}, "es")
    assert b'const lang = "en"' in _page_with({}, "auto")


def test_build_app_refuses_an_unknown_language(tmp_path):
    from glimpse.ui.app import build_app

    with pytest.raises(ValueError, match="auto, en, es"):
        build_app(library=None, language="fr", temp_dir=tmp_path)


def test_serve_lang_reaches_the_app(run_cli, tmp_path, monkeypatch):
    import glimpse.ui.app as app
    import glimpse.ui.server as server

    seen = {}

    class Stopped:
        is_running = False

        def close(self):
            pass

    def build_app(library, **options):
        seen.update(options)
        return Stopped()

    monkeypatch.setattr(app, "build_app", build_app)
    monkeypatch.setattr(server, "launch", lambda demo, library, **options: (None, "http://127.0.0.1:1/", None))
    monkeypatch.setattr(server, "port_in_use", lambda host, port: False)
    code, _, err = run_cli("serve", "--lang", "es", "--index", tmp_path / "idx")
    assert code == 0 and seen["language"] == "es", err
    monkeypatch.setenv("GLIMPSE_LANG", "en")
    assert run_cli("serve", "--index", tmp_path / "idx")[0] == 0 and seen["language"] == "en"
    monkeypatch.delenv("GLIMPSE_LANG")
    assert run_cli("serve", "--index", tmp_path / "idx")[0] == 0 and seen["language"] == "auto"
    code, _, err = run_cli("serve", "--lang", "fr", "--index", tmp_path / "idx")
    assert code == 2 and "fr" in err


# -- the running app (slow): handlers per visitor, the API plain -------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_models):
    """The URL of a running app over data/photos and the imported captions (tiny models)."""
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    from tests.ui_helpers import make_index, serving

    root = tmp_path_factory.mktemp("ui-i18n-api")
    library = Library(make_index(root / "index", DATA, tiny_models), tiny_models)
    demo = build_app(library, thumbs_dir=root / "thumbs")
    with serving(demo, library) as url:
        yield url


@pytest.mark.slow
def test_the_app_answers_each_visitor_in_their_language(served):
    from gradio_client import Client

    spanish = Client(served, verbose=False, headers={"Accept-Language": "es-ES,es;q=0.9"})
    status = spanish.predict("dog on the beach", 5, "", "", "", "", api_name="/search_gallery")[1]
    assert status.startswith("**") and "para «dog on the beach»" in status and "las mejores primero" in status
    chose_english = Client(served, verbose=False, headers={"Accept-Language": "es", "Cookie": "glimpse_lang=en"})
    status = chose_english.predict("dog on the beach", 5, "", "", "", "", api_name="/search_gallery")[1]
    assert "for “dog on the beach”" in status and "best first" in status
    assert spanish.predict(api_name="/language") == "es" and chose_english.predict(api_name="/language") == "en"


@pytest.mark.slow
def test_the_api_stays_plain_english_data(served):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    spanish = Client(served, verbose=False, headers={"Accept-Language": "es"})
    api = json.dumps(spanish.view_api(print_info=False, return_format="dict"))
    assert "__i18n__" not in api and "translation_metadata" not in api
    results = spanish.predict("dog on the beach", 5, api_name="/search")
    assert results[0]["caption"] == "a dog running on a sandy beach"
    assert "__i18n__" not in json.dumps(results)
    with pytest.raises(AppError, match="is not a date"):  # API errors are English for every caller
        spanish.predict("dog", 5, "", "", "last week", api_name="/search")
