"""Shared by the web-app tests: an index of data/photos plus imported captions, and an app running in-process on
a free loopback port."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
