"""Which language a visitor gets, and making the browser show it.

One rule decides it, for the page's labels and for the strings Python builds alike (`resolve`):
1. the visitor's own choice in the app's language selector, kept in the `glimpse_lang` cookie;
2. else the server's language, `glimpse serve --lang en|es`;
3. else (`--lang auto`, the default) the browser's `Accept-Language` header, by its q-values;
4. else English.

Gradio's frontend picks the locale of its labels (`gr.I18n`) from `navigator.language` when the page loads, and
its own Settings switch changes neither that header nor our cookie. So `PageLanguage`, an ASGI middleware, puts
a small script at the top of the app's page that sets `navigator.language` to the language decided above:
labels and handler strings always agree. The selector writes the cookie and reloads the page (`SWITCH_JS`).
"""

from __future__ import annotations

import json
import re
from http.cookies import CookieError, SimpleCookie

from .i18n import LANGUAGES
from .pages import PageRewrite

COOKIE = "glimpse_lang"
CHOICES = ("auto", *LANGUAGES)  # what `glimpse serve --lang` takes
HEAD = re.compile(rb"<head[^>]*>", re.I)

# The selector's change (the `.input` event: a person's, never the value set on load): remember the choice for a
# year, then load the page again, whose labels then come in the chosen language.
SWITCH_JS = f"""
(lang) => {{
  document.cookie = "{COOKIE}=" + encodeURIComponent(lang) + "; path=/; max-age=31536000; SameSite=Lax";
  window.location.reload();
  return lang;
}}
"""


def accepted(header: str | None) -> list[str]:
    """The languages of an `Accept-Language` header, most wanted first (by q-value, then order), as primary tags
    in lower case: "es-ES,es;q=0.9,en;q=0.8" -> ["es", "es", "en"]. Languages with q=0 and "*" are left out."""
    ranked = []
    for position, item in enumerate((header or "").split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0].lower()
        if primary and primary != "*" and quality > 0:
            ranked.append((-quality, position, primary))
    return [primary for _, _, primary in sorted(ranked)]


def resolve(choice: str | None, server: str | None, header: str | None) -> str:
    """The visitor's language (see the module's rule): `choice` from the cookie, `server` from `--lang`,
    `header` the `Accept-Language` value."""
    if choice in LANGUAGES:
        return choice
    if server in LANGUAGES:
        return server
    return next((lang for lang in accepted(header) if lang in LANGUAGES), LANGUAGES[0])


def cookie_choice(cookie_header: str | None) -> str | None:
    """The language the visitor chose, from a `Cookie` header (None when there is none, or it is not one)."""
    try:
        jar = SimpleCookie(cookie_header or "")
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel and morsel.value in LANGUAGES else None


def of_headers(headers, server: str | None) -> str:
    """The language for a request with these headers: a mapping, Starlette's `Headers` or what a queued
    `gr.Request` holds (any of them iterable as key-value pairs), or None."""
    found = {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
    return resolve(cookie_choice(found.get("cookie")), server, found.get("accept-language"))


def of_request(request, server: str | None) -> str:
    """The language for a `gr.Request` (None, as for direct calls in tests: the server's, else English)."""
    return of_headers(getattr(request, "headers", None) if request is not None else None, server)


def page_script(lang: str) -> bytes:
    """The script that makes Gradio's frontend show `lang` (it reads navigator.language when the page loads)."""
    value = json.dumps(lang)
    return (
        "<script>(() => { const lang = " + value + "; "
        "Object.defineProperty(navigator, 'language', { get: () => lang }); "
        "Object.defineProperty(navigator, 'languages', { get: () => [lang] }); "
        "document.documentElement.lang = lang; })();</script>"
    ).encode()


class PageLanguage(PageRewrite):
    """ASGI middleware: the app's page starts with `page_script` for the visitor's language (`server`: the
    `--lang` setting)."""

    def __init__(self, app, server: str | None = "auto"):
        super().__init__(app)
        self.server = server

    def rewrite(self, scope, body: bytes, content_type: bytes) -> bytes:
        if not content_type.startswith(b"text/html"):
            return body
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        script = page_script(of_headers(headers, self.server))
        return HEAD.sub(lambda m: m.group(0) + script, body, count=1)
