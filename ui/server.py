"""Serving the web app: the one place `launch()` is called, with what glimpse exposes and nothing more.

- Bound to 127.0.0.1 unless a host is given; no share link unless asked; no analytics, no SSR node process,
  no MCP server.
- The file route serves the library roots (`allowed_paths`, kept equal to the roots as folders are indexed
  from the app) and the app's own temporary folder (tempdir.py: uploads and the files it sends), never the
  index folder (`blocked_paths`), and inside a root only visible image files (`LibraryFileGuard`).
- The page and the app's messages are in the visitor's language (English or Spanish: `gr.I18n` with the catalogs
  of i18n.py, and `PageLanguage`, see language.py); `build_app(language=...)` sets the server's.
- Uploads are capped at `max_file_size`; `auth` (user, password) puts a login in front of the pages and the API.
  The login page gives nothing away (no API description; FastAPI's schema and docs are off), and repeated wrong
  passwords from one address are slowed down (gate.py).
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading

import gradio as gr
from glimpse.indexer.config import ENV
from glimpse.indexer.errors import PortInUse
from starlette.middleware import Middleware

from . import tempdir
from .app import CSS, SCRIPTS, theme
from .gate import LoginPage, LoginThrottle
from .guard import LibraryFileGuard
from .i18n import I18N
from .language import PageLanguage
from .library import Library
from .upload import MAX_UPLOAD

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 7860
# Gradio keeps ~150 KB of state per session (a browser tab, a gradio_client Client, and every API call made
# without one, as curl makes them) for its last 10,000 sessions by default: 1.5 GB. This keeps it near 75 MB;
# the sessions idle longest go first (a tab that lost its session forgets its results until the next search).
SESSIONS = 500


def parse_auth(value: str) -> tuple[str, str]:
    """`"user:password"` -> `("user", "password")`; the password may contain colons."""
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ValueError("expected USER:PASSWORD, both non-empty")
    return user.strip(), password


def exposure_warnings(host: str, share: bool, auth) -> list[str]:
    """What the operator should hear before the server starts."""
    warnings = []
    if share:
        warnings.append(
            "--share publishes this app at a public *.gradio.live address through Gradio's tunnel service: "
            "anyone with the link can search and browse your photos, open the originals, upload images, "
            "and index folders on this machine."
            + ("" if auth else f" Add --auth USER:PASSWORD (or {ENV['auth']}) to require a login.")
        )
    if host not in (LOOPBACK, "localhost", "::1") and not auth:
        warnings.append(
            f"listening on {host} without --auth: anyone who can reach this machine on the network can use the app."
        )
    return warnings


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on `host`:`port` (a bind that fails with EADDRINUSE)."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return False  # a host that doesn't resolve: Gradio says so
    for family, kind, proto, _, address in infos[:1]:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is no use
            try:
                probe.bind(address)
            except OSError as e:
                return e.errno == errno.EADDRINUSE
    return False


def launch(
    demo: gr.Blocks,
    library: Library,
    host: str = LOOPBACK,
    port: int | None = DEFAULT_PORT,
    share: bool = False,
    auth: tuple[str, str] | None = None,
    max_file_size: str | int = MAX_UPLOAD,
    prevent_thread_lock: bool = False,
    quiet: bool = True,
):
    """Launch `demo`, an app made by `build_app(library)`. Returns Gradio's `(app, local_url, share_url)`.
    PortInUse when another program listens on `port`."""
    if port is not None and port_in_use(host, port):
        raise PortInUse(port)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    if os.environ.pop("GRADIO_ALLOWED_PATHS", None):  # Gradio reads it when our list is empty (no roots yet)
        log.warning("GRADIO_ALLOWED_PATHS is ignored: glimpse serves the indexed library folders only")
    allowed = [str(root) for root in library.roots()]

    def add_root(root) -> None:  # a folder indexed from the app becomes servable too
        if str(root) not in demo.allowed_paths:
            demo.allowed_paths.append(str(root))

    library.on_new_root(add_root)
    tempdir.use(demo.GRADIO_CACHE)  # the folder build_app chose (and the app's components use), again
    middleware = [
        Middleware(LoginThrottle),
        Middleware(LoginPage),
        Middleware(LibraryFileGuard, roots=lambda: list(demo.allowed_paths), temp=demo.GRADIO_CACHE),
        Middleware(PageLanguage, server=getattr(demo, "glimpse_language", "auto")),
    ]
    threading.Thread(target=library.warm_up, name="glimpse-warm-up", daemon=True).start()
    for warning in exposure_warnings(host, share, auth):
        log.warning(warning)
    return demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        auth_message="glimpse: sign in to search this photo library." if auth else None,
        allowed_paths=allowed,
        blocked_paths=[str(library.index_dir)],
        max_file_size=max_file_size,
        state_session_capacity=SESSIONS,
        app_kwargs={"middleware": middleware, "openapi_url": None, "docs_url": None, "redoc_url": None},
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        show_error=False,
        run_history=False,  # Gradio would keep every query and upload in the browser (or a Hugging Face bucket)
        footer_links=["api", "settings"],
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        theme=theme(),
        css=CSS,
        js=SCRIPTS,
        i18n=I18N,
    )
