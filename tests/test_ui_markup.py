"""Nothing from a file or folder name, a caption, a label, an imported id or a failure reason can change the page:
such text reaches Markdown only through `views.md_escape` / `views.md_code`, and a toast only through
`views.html_text`, and is shown literally.

The unit tests render with markdown-it (CommonMark, GFM tables and strikethrough); the browser test serves an
index full of hostile names, ids, captions and labels and checks what Gradio's own renderer makes of them in
Chromium: no request leaves the app, no element appears that the app did not make, and the text is visible.
"""

from __future__ import annotations

import html
import re
import shutil
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import DATA

HOSTILE = [
    "first line\n\nsecond paragraph",
    "line\r\n\r\n# a heading after a blank line",
    "![](http://evil.example/x.png)",
    "![alt](https:evil.example) and ![ref][r]\n\n[r]: http://evil.example/r.png",
    '<a href="http://evil.example">click</a>',
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[link](javascript:alert(1))",
    "[x]: http://evil.example",
    "`code` and ``` a fence\n```mermaid\ngraph TD; A-->B\n```",
    "| a | b |\n|---|---|\n| c | d |",
    "# a heading",
    "   ## a heading, indented",
    "---",
    "a title\n===",
    "***",
    "    indented code",
    "> a quote",
    "1. an item",
    "- an item\n+ another\n* a third",
    "http://evil.example",
    "<http://evil.example>",
    "www.evil.example",
    "mail@evil.example",
    "&lt;img src=x&gt; &amp; &#60; &copy;",
    "**bold** _em_ ~~strike~~ <b>b</b>",
    "<!-- a comment --> <?php ?> <![CDATA[x]]>",
    "$$\\href{http://evil.example}{x}$$ and $x$",
    "a trailing backslash\\\nand two trailing spaces  \nbreak",
    "café 東京 🐱 ＜img＞ naïve",
    "line\u2028separator\u2029paragraph\x85next",
    "nul\x00 escape\x1b[31m del\x7f",
    "\\*not em\\* \\",
]


def shown(text: str) -> str:
    """What the page should show for `text`: the same characters on one line, whitespace runs as one space."""
    return "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in " ".join(text.split()))


def markdown(text: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)


class Tags(HTMLParser):
    """The elements of an HTML fragment, in order, with their attributes."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def skeleton(fragment: str) -> list[tuple[str, dict]]:
    return Tags(fragment).tags


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_shows_untrusted_text_literally(text):
    from glimpse.ui.views import md_code, md_escape

    escaped = md_escape(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert not re.search(r"(?<!\\)[:@]", escaped)  # no autolink: they need `http:`, `mailto:` or `a@b`
    assert "$$" not in escaped  # Gradio cuts LaTeX out before Markdown
    rendered = markdown(escaped)
    assert rendered.startswith("<p>") and rendered.endswith("</p>\n") and skeleton(rendered) == [("p", {})]
    assert html.unescape(rendered[3:-5]) == shown(text)
    for prefix in ("### ", "**File** ", "- ", ""):  # where views put it: a heading, after a label, a list item
        assert "".join(Tags(markdown(prefix + escaped)).text).strip().endswith(shown(text))
    code = markdown(f"**File** {md_code(text)}  \nnext")
    assert skeleton(code) == [("p", {}), ("strong", {}), ("code", {}), ("br", {})]
    assert shown(text) in "".join(Tags(code).text)


@pytest.mark.parametrize("text", HOSTILE)
def test_toast_text_is_plain_text(text):
    from glimpse.ui.views import html_text

    escaped = html_text(text)
    assert skeleton(escaped) == [] and html.unescape(escaped) == text


def test_every_view_keeps_its_own_structure_whatever_the_names():
    """Each view rendered with hostile names has exactly the elements it has with plain ones."""
    from glimpse.indexer.pipeline import Summary
    from glimpse.search import Filters, Hit, SearchResults
    from glimpse.ui import views

    def rendered(bad: str) -> list[str]:
        photo = Hit(
            id=1, path=f"/lib/{bad}/{bad}.jpg", file=Path(f"/lib/{bad}/{bad}.jpg"), caption=bad,
            labels=[(bad, 0.5)], score=0.9, semantic=0.7, matched={"caption": [bad, bad], "name": [bad]},
            date="2021-06-12T10:00:00", date_source="exif", size=(640, 480),
        )  # fmt: skip
        imported = Hit(id=2, path=bad, file=None, caption=bad, labels=[(bad, None)])
        summary = Summary(added=1)
        summary.failed = [(f"/lib/{bad}.jpg", bad), (bad, bad)]
        filters = Filters(label=bad, folder=f"/lib/{bad}", exclude=(bad,))
        results = SearchResults(query=bad, hits=[photo], no_good_match=False, filters=filters)
        stats = {"indexed": 3, "failed": 2, "size_bytes": 1e6, "roots": [f"/lib/{bad}", bad], "failures": []}
        return [
            views.detail_markdown(photo),
            views.detail_markdown(imported),
            views.search_status(results, 1),
            views.search_status(results, 0),
            views.similar_status(views.photo_title(photo), 2),
            views.similar_status(views.photo_title(imported), 1),
            views.stats_markdown(stats),
            views.index_summary(summary, Path(f"/lib/{bad}")),
        ]

    def elements(fragment: str) -> list[tuple[str, dict]]:
        """The elements, the link to the original reduced to where it goes: the app's file route."""
        tags = skeleton(fragment)
        for tag, attrs in tags:
            if tag == "a" and attrs["href"].startswith(views.FILE_ROUTE + "/lib/"):
                attrs["href"] = views.FILE_ROUTE
        return tags

    plain = [markdown(view) for view in rendered("plain")]
    for bad in HOSTILE:
        for view, (expected, got) in enumerate(zip(plain, map(markdown, rendered(bad)), strict=True)):
            assert elements(got) == elements(expected), (bad, view, got)
        imported = Hit(id=2, path=f"id {bad}", file=None, caption=f"caption {bad}", labels=[])
        text = "".join(Tags(markdown(views.detail_markdown(imported))).text)
        assert shown(f"id {bad}") in text and shown(f"caption {bad}") in text


def test_messages_for_the_user_are_escaped_for_their_toast(tmp_path, tiny_models):
    import gradio as gr
    from glimpse.ui.app import lay_out
    from glimpse.ui.handlers import Handlers
    from glimpse.ui.library import Library
    from glimpse.ui.thumbs import Thumbnails

    library = Library(tmp_path / "no-index-yet", tiny_models)
    with gr.Blocks():
        handlers = Handlers(library, Thumbnails(tmp_path / "thumbs"), lay_out(library, None))
    folder = "<img src=https:evil.example?x onerror=alert(1)>"
    with pytest.raises(gr.Error) as raised:
        handlers.index(folder)
    assert skeleton(raised.value.message) == [] and folder in html.unescape(raised.value.message)
    status = handlers.search_gallery("a dog", 10, "", "", "<b>not</b> a date", None)[handlers.layout.search.status]
    heading, reason = markdown(status).split("</h3>")  # the tab's own event says it in place, as Markdown
    assert skeleton(reason) == [("p", {})] and "<b>not</b>" in "".join(Tags(reason).text)


# -- in a real browser ----------------------------------------------------------------------------------------
# Names cannot hold "/", but "https:evil.example" (another scheme than the page's http) still reaches another host.
EVIL = "evil.example"
FOLDER = "album\n\n![](https:evil.example?folder) <a href=https:evil.example>a</a>"
NAMES = [  # photos, copied from data/photos
    ("pets/chelsea.jpg", "<img src=https:evil.example?file onerror=alert(1)>.jpg"),
    ("pets/chelsea.jpg", "cat\n\n![](https:evil.example?copy) [x](javascript:alert(1)).jpg"),  # an exact copy
    ("food/coffee.jpg", "<script>alert(1)<\\script> www.evil.example $$x$$ | a | b |.jpg"),
    ("space/rocket.jpg", "# heading &lt;b&gt; `code` mail@evil.example.jpg"),
]
BROKEN = ["<img src=https:evil.example?broken>.jpg", "broken\n\n![](https:evil.example?broken2).png"]
IMPORTED = {
    "id": "![](http://evil.example/id.png)\n\n<img src=http://evil.example/id2.png>",
    "caption": "a red bicycle leaning against a brick wall <img src=http://evil.example/cap.png onerror=alert(1)> "
    "![x](http://evil.example/cap2.png) [link](javascript:alert(1)) http://evil.example",
    "labels": ["<img src=http://evil.example/label.png>", "![](http://evil.example/label2.png)"],
}
INJECTED = """() => {
    const origin = location.origin, bad = [];
    const outside = (url) => { try { return new URL(url, location.href).origin !== origin } catch { return true } };
    for (const el of document.querySelectorAll("img, video, audio, source, iframe, embed, object, image")) {
        const url = el.getAttribute("src") || el.getAttribute("href") || el.getAttribute("data");
        if (url && !url.startsWith("data:") && !url.startsWith("blob:") && outside(url)) bad.push(el.outerHTML);
    }
    for (const el of document.querySelectorAll("a[href]")) {
        if (el.closest("footer")) continue;  // Gradio's own footer links to gradio.app
        const href = el.getAttribute("href");
        if (/^\\s*(javascript|data|vbscript):/i.test(href) || outside(href)) bad.push(el.outerHTML);
    }
    for (const el of document.querySelectorAll("body *")) {
        if (["SCRIPT", "STYLE", "LINK", "META", "BASE"].includes(el.tagName) && el.closest(".gradio-container"))
            bad.push(el.outerHTML);
        for (const attr of el.attributes) if (/^on/i.test(attr.name)) bad.push(el.outerHTML);
    }
    return bad;
}"""


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, tiny_models):
    """(url, folder to index) of a running app over photos, folders and imports with hostile names."""
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    from tests.scripted_models import scripted_models
    from tests.ui_helpers import make_index, serving

    root = tmp_path_factory.mktemp("ui-markup")
    library = root / "Pictures <img src=https:evil.example?root>"
    for source, name in NAMES:
        (library / FOLDER).mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / source, library / FOLDER / name)
    for name in BROKEN:
        (library / FOLDER / name).write_bytes(b"<img src=https://evil.example/bytes.png> not an image")
    later = root / "later ![](https:evil.example?later)"  # indexed from the Index tab
    later.mkdir()
    shutil.copy(DATA / "travel" / "flower.jpg", later / "<img src=https:evil.example?later>.jpg")
    (later / "[x](javascript:alert(1)) broken.jpg").write_bytes(b"not an image")
    models = scripted_models(DATA, tiny_models.embedder)
    index = make_index(root / "index", library, models, imports=[IMPORTED])
    app_library = Library(index, models, batch_size=1)
    demo = build_app(app_library, thumbs_dir=root / "thumbs")
    with serving(demo, app_library) as url:
        yield url, later


@pytest.mark.browser
@pytest.mark.slow
def test_hostile_names_stay_text_in_every_view(hostile_app, tmp_path):
    from tests.test_ui_browser import TIMEOUT
    from tests.ui_helpers import CHROMIUM, CHROMIUM_ARGS, keep_to_app, playwright_api

    url, later = hostile_app
    app_host = urlsplit(url).netloc
    requests: list[str] = []  # every request, blocked ones too: nothing may leave, and nothing does

    with playwright_api().sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1360, "height": 900},
        )  # fmt: skip
        context.set_default_timeout(TIMEOUT)
        context.on("request", lambda request: requests.append(request.url))
        keep_to_app(context, url)
        page = context.pages[0] if context.pages else context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

        missing: list[str] = []  # texts not shown literally, checked last: what left the page matters more

        def visible(text: str, where: str = "body") -> None:
            try:
                page.wait_for_function(
                    "([sel, text]) => document.querySelector(sel)?.innerText.replace(/\\s+/g, ' ').includes(text)",
                    arg=[where, one_line(text)], timeout=10_000,
                )  # fmt: skip
            except playwright_api.TimeoutError:
                shows = page.locator(where).first.inner_text() if page.locator(where).count() else "nothing"
                missing.append(f"{text!r} is not shown in {where}, which shows {shows!r}")

        page.goto(url)
        visible("photos indexed")
        visible("Pictures <img src=https:evil.example?root>", ".gl-header")  # the header's folders

        # Search: an imported caption, its detail view (id, caption, labels)
        query = page.locator("#query textarea")
        query.fill("a red bicycle")
        query.press("Enter")
        tiles = page.locator("#results .thumbnail-item")
        tiles.first.wait_for()
        visible(IMPORTED["caption"], "#results")
        tiles.first.click()
        visible(IMPORTED["id"], ".gl-detail")
        visible(IMPORTED["caption"], ".gl-detail")
        visible(IMPORTED["labels"][0], ".gl-detail")

        # a photo with a hostile name and folder: its detail view, then Find similar (its name in the status)
        query.fill("a tabby cat")
        query.press("Enter")
        visible("a tabby cat", "#results")
        tiles.first.click()
        page.locator(".gl-detail").first.get_by_text("Open the original").wait_for()
        visible(FOLDER, ".gl-detail")
        detail = one_line(page.locator(".gl-detail").first.inner_text())
        visible(NAMES[0][1] if one_line(NAMES[0][1]) in detail else NAMES[1][1], ".gl-detail")
        page.locator("#find-similar").click()
        page.locator("#search-status").get_by_text("look like").wait_for()
        status = one_line(page.locator("#search-status").inner_text())
        visible(NAMES[0][1] if one_line(NAMES[0][1]) in status else NAMES[1][1], "#search-status")

        query.fill("<img src=https:evil.example?query> ![](https:evil.example?q2) xqzv plorble")
        query.press("Enter")
        visible("![](https:evil.example?q2)", "#search-status")

        # Library: tiles, the label chart, the failures table
        page.get_by_role("tab", name="Library").click()
        page.locator("#library .thumbnail-item").first.wait_for()
        visible(IMPORTED["caption"], "#library")
        visible("2 files", "#failed-info")
        for name in BROKEN:
            visible(name)

        # Duplicates: the exact copy's tiles
        page.get_by_role("tab", name="Duplicates").click()
        page.get_by_role("button", name="Find duplicates").click()
        page.locator(".gl-duplicates .thumbnail-item").first.wait_for()
        visible(NAMES[0][1], ".gl-duplicates")
        visible(NAMES[1][1], ".gl-duplicates")

        # Index: a folder with a hostile name, one photo and one file that fails; then a folder that is not there
        page.get_by_role("tab", name="Index").click()
        folder = page.locator("#index-folder input")
        folder.fill(str(later))
        folder.press("Enter")
        page.get_by_role("button", name="Index this folder").click()
        page.locator("#index-result").get_by_text("1 added").wait_for()
        visible(later.name, "#index-result")
        visible("[x](javascript:alert(1)) broken.jpg", "#index-result")
        nowhere = "/nowhere/<img src=https:evil.example?toast onerror=alert(1)>"
        folder.fill(nowhere)
        folder.press("Enter")
        page.get_by_role("button", name="Index this folder").click()
        page.locator("#index-result").get_by_text("Could not index this folder").wait_for()  # said in place
        visible(nowhere, "#index-result")

        page.wait_for_timeout(500)  # let anything injected load
        injected = page.evaluate(INJECTED)
        context.close()

    outside = [r for r in requests if urlsplit(r).netloc != app_host and not r.startswith(("data:", "blob:"))]
    assert outside == [], f"the page reached beyond the app: {outside}"
    assert injected == [], f"elements the app did not make: {injected}"
    assert dialogs == []
    assert missing == []
    assert EVIL not in " ".join(requests)
