"""The lock on Gradio's file route: glimpse serves library photos and its own temporary files, nothing else.

Gradio serves `GET /gradio_api/file=PATH` for files under `allowed_paths` (the library roots), its temporary
folder and an examples cache under the working directory, and refuses the rest with 403. That is too much: a
library root is often a big folder (`~/Pictures`, or `~` itself) holding notes, keys, `.git`, the index; and
Gradio's temporary folder is, unless told otherwise, `/tmp/gradio`, shared with every other Gradio app on the
machine. This middleware answers 403 unless the file is, once `..` and symlinks are resolved,

- inside a library root, an image file that is not hidden or inside a hidden folder, or
- inside glimpse's own temporary folder (tempdir.py: uploads, the files the app sends, thumbnails);

what it lets through still goes through Gradio's own checks. A path that can't be resolved (a NUL byte, a
symlink loop) is refused the same way, instead of raising.
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


def resolved(target: str | os.PathLike) -> Path | None:
    """`target` as Gradio resolves it (absolute, `..` and symlinks followed), or None when it can't be: a NUL
    byte (ValueError), a symlink loop (RuntimeError before Python 3.13, OSError after), a name too long."""
    try:
        return Path(os.path.abspath(target)).resolve()
    except (ValueError, RuntimeError, OSError):
        return None


def refused(target: str, roots: Iterable[Path], temp: Iterable[Path] = ()) -> bool:
    """True unless `target` is a visible image file inside a library root, or a file in a `temp` folder."""
    path = resolved(target)
    if path is None:
        return True
    for root in roots:
        root = resolved(root)
        if root is not None and path.is_relative_to(root):
            rel = path.relative_to(root)
            return path.suffix.lower() not in IMAGE_EXTENSIONS or any(p.startswith(".") for p in rel.parts)
    return not any((folder := resolved(t)) is not None and path.is_relative_to(folder) for t in temp)


class LibraryFileGuard:
    """ASGI middleware: 403 for file-route requests that `refused` says no to. `roots()` is read per request,
    so folders indexed from the app are covered at once; `temp` is glimpse's temporary folder."""

    def __init__(self, app, roots: Callable[[], Iterable[Path]], temp: str | os.PathLike):
        self.app = app
        self.roots = roots
        self.temp = [Path(temp)]

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            target = requested_file(scope.get("path", ""))
            if target is not None and refused(target, self.roots(), self.temp):
                await send(
                    {"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]}
                )
                await send({"type": "http.response.body", "body": b"File not allowed."})
                return
        await self.app(scope, receive, send)
