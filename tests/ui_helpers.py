"""Shared by the web-app tests: an index of data/photos plus imported captions, and an app running in-process on
a free loopback port."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Imported captions give the search something meaningful to find (the tiny BLIP's captions are random).
IMPORTS = [
    {"id": "beach.jpg", "caption": "a dog running on a sandy beach", "labels": ["golden retriever", "seashore"]},
    {"id": "kitchen.jpg", "caption": "a bowl of fruit on a kitchen counter", "labels": ["orange", "banana"]},
    {"id": "mountain.jpg", "caption": "snowy mountains at sunrise", "labels": ["alp"]},
]


def make_index(index_dir: Path, library: Path, models, imports: list[dict] = IMPORTS) -> Path:
    """Index `library` with `models`, then import `imports`; returns `index_dir`."""
    from glimpse.indexer.importer import import_jsonl
    from glimpse.indexer.pipeline import index_folder
    from glimpse.indexer.store import IndexStore

    with IndexStore.open_or_create(index_dir, models.ids(), models.embedder.dim) as store:
        index_folder(library, store, models)
    if imports:
        jsonl = index_dir.parent / f"{index_dir.name}-imports.jsonl"
        jsonl.write_text("".join(json.dumps(item) + "\n" for item in imports))
        with IndexStore.open(index_dir, readonly=False) as store:
            import_jsonl(jsonl, store, models.embedder)
    return index_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(demo, library, **launch_options) -> Iterator[str]:
    """Launch `demo` (from build_app(library)) the way `glimpse serve` does, on a free port; yield its URL."""
    from glimpse.ui.server import launch

    launch_options.setdefault("port", free_port())
    _, url, _ = launch(demo, library, prevent_thread_lock=True, **launch_options)
    try:
        yield url
    finally:
        demo.close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def playwright_api():
    """Playwright's sync API, once Debian's Chromium is known to be there (the test is skipped otherwise)."""
    api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return api


@contextmanager
def chromium_browser():
    """A headless Debian Chromium driven by Playwright, closed afterwards."""
    with playwright_api().sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def keep_to_app(context, url: str) -> list[str]:
    """Route every request of the browser `context`: those to `url`'s host (and data:/blob: URLs) go through, any
    other is aborted and recorded in the list returned, for the test to check it stays empty."""
    app_host, outside = urlsplit(url).netloc, []

    def only_the_app(route):
        if urlsplit(route.request.url).netloc == app_host or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_app)
    return outside
