"""What the server gives a visitor who has not signed in (with `--auth`): a login form, and nothing else.

Gradio refuses the config, the API and the files to a stranger, but its login page still embeds the app's API
description (every endpoint, its parameters, the choices of its dropdowns), and its login route lets a client
guess passwords as fast as it can send them. Two ASGI middlewares close that:

- `LoginPage` blanks the API description in the page Gradio makes for a visitor who is not signed in (the page
  whose config says `auth_required`); the signed-in page is untouched.
- `LoginThrottle` counts login attempts per client address (the request's IP) until one succeeds: after `free`
  failed ones, each further attempt must wait a delay that doubles up to `longest` seconds, and one sent sooner
  is answered 429 without being checked. A correct login clears the count. It remembers at most `clients`
  addresses, forgetting the longest quiet first.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import OrderedDict

from .pages import PageRewrite

log = logging.getLogger(__name__)

STRANGER = re.compile(rb"<script>window\.gradio_config = \{[^<]*\"auth_required\":\s*true")
API_INFO = re.compile(rb"<script>window\.gradio_api_info = .*?;</script>", re.S)
NO_API_INFO = b"<script>window.gradio_api_info = null;</script>"
LOGIN_ROUTES = ("/login", "/login/")


class LoginPage(PageRewrite):
    """ASGI middleware: the login page without the API description."""

    methods = ("GET", "HEAD")

    def rewrite(self, scope, body: bytes, content_type: bytes) -> bytes:
        return API_INFO.sub(NO_API_INFO, body, count=1) if STRANGER.search(body) else body


class LoginThrottle:
    """ASGI middleware: a per-client delay on the login route after `free` wrong passwords."""

    def __init__(self, app, free: int = 10, first: float = 1.0, longest: float = 60.0, clients: int = 10_000):
        self.app = app
        self.free, self.first, self.longest, self.clients = free, first, longest, clients
        self.failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # client -> (count, next try allowed)

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th wrong password (0 within the free ones)."""
        if failures < self.free:
            return 0.0
        return min(self.longest, self.first * 2 ** min(failures - self.free, 64))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in LOGIN_ROUTES:
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("unknown", 0))[0]
        count, allowed = self.failures.get(client, (0, 0.0))
        now = time.monotonic()
        if now < allowed:
            wait = math.ceil(allowed - now)
            body = f"Too many wrong passwords: try again in {wait} s.".encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [(b"content-type", b"text/plain"), (b"retry-after", str(wait).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        count += 1  # counted as wrong until it proves right, so that parallel guesses are counted too
        self._note(client, count, now + self.delay(count))
        if count == self.free:
            log.warning("%d failed logins from %s: its further attempts are slowed down", count, client)
        status = None

        async def watch(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status == 200:
            self.failures.pop(client, None)

    def _note(self, client: str, count: int, allowed: float) -> None:
        self.failures[client] = (count, allowed)
        self.failures.move_to_end(client)
        while len(self.failures) > self.clients:
            self.failures.popitem(last=False)
