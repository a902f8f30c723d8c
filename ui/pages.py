"""The app's page as the server's middlewares change it: `PageRewrite` holds the page Gradio sends whole, lets a
subclass rewrite it, and sends it on with its new length (gate.py blanks the API description for strangers,
language.py adds the visitor's language)."""

from __future__ import annotations

PAGE_ROUTES = ("/", "/index.html")


class PageRewrite:
    """ASGI middleware: the app's page (PAGE_ROUTES, requested with one of `methods`) is kept whole, then passed
    through `rewrite`; every other request goes through untouched. The page is small, so holding it costs
    nothing."""

    methods: tuple[str, ...] = ("GET",)

    def __init__(self, app):
        self.app = app

    def rewrite(self, scope, body: bytes, content_type: bytes) -> bytes:
        raise NotImplementedError

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in self.methods or scope["path"] not in PAGE_ROUTES:
            return await self.app(scope, receive, send)
        start, chunks = None, []

        async def hold(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                return await send(message)
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            content_type = dict(start["headers"]).get(b"content-type", b"")
            body = self.rewrite(scope, b"".join(chunks), content_type)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, hold)
