"""A second lock on Gradio's file route for files inside the library.

Gradio serves `GET /gradio_api/file=PATH` for files under `allowed_paths` (the library roots), its upload
folder and its cache, and refuses the rest with 403. A library root is often a big folder (`~/Pictures`, or
`~` itself), so that alone would also serve every other file under it: notes, keys, `.git`, the index.
This middleware lets through, inside a root, only image files that are not hidden or inside a hidden folder;
paths outside the roots go on to Gradio's own checks unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from glimpse.indexer.scan import IMAGE_EXTENSIONS

FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/")


def requested_file(url_path: str) -> str | None:
    """The file a request path asks Gradio for, or None when it is not a file-route request.

    `url_path` is the ASGI scope's path, already percent-decoded once, exactly what Gradio's route reads.
    """
    for route in FILE_ROUTES:
        at = url_path.find(route)
        if at != -1:
            return url_path[at + len(route) :]
    return None


def refused(target: str, roots: Iterable[Path]) -> bool:
    """True when `target` lies inside a library root but is not a visible image file there."""
    path = Path(os.path.abspath(target)).resolve()  # as Gradio resolves it: `..` and symlinks followed
    for root in roots:
        root = Path(root).resolve()
        if path.is_relative_to(root):
            rel = path.relative_to(root)
            return path.suffix.lower() not in IMAGE_EXTENSIONS or any(p.startswith(".") for p in rel.parts)
    return False


class LibraryFileGuard:
    """ASGI middleware: 403 for file-route requests that `refused` says no to. `roots()` is read per request,
    so folders indexed from the app are covered at once."""

    def __init__(self, app, roots: Callable[[], Iterable[Path]]):
        self.app = app
        self.roots = roots

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            target = requested_file(scope.get("path", ""))
            if target is not None and refused(target, self.roots()):
                await send(
                    {"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]}
                )
                await send({"type": "http.response.body", "body": b"File not allowed."})
                return
        await self.app(scope, receive, send)
