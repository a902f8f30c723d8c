"""How the web app's events turn failures into messages, in the visitor's language.

API endpoints raise: one toast builder (escaped: Gradio 6 renders toasts as HTML) and the `readable` decorator
that turns glimpse's typed errors into it, so a `gradio_client` caller gets the message as an error (in English:
API calls carry no gr.Request). The tabs' own events never raise: `in_place` shows the same message in the tab
itself (its status line), once, in place of the results it could not produce, with no toast and no red "Error"
badge over stale results.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import gradio as gr
from glimpse.indexer.errors import GlimpseError

from . import views
from .i18n import CATALOGS, t

log = logging.getLogger(__name__)

# What could not be done (the heading of the message shown in place, see `in_place`): catalog keys could_not.*
COULD_NOT = ("search", "similar", "describe", "save", "browse", "overview", "index", "reembed", "duplicates",
             "review", "export", "rename")  # fmt: skip


def no_index(lang: str = "en") -> str:
    """The web app's word for IndexNotFound (Markdown)."""
    return t("page.no_photos", lang)


class Failure(gr.Error):
    """A gr.Error that keeps its plain text, for the message shown in place."""

    def __init__(self, text: str):
        super().__init__(views.html_text(text), print_exception=False)
        self.text = text


def fail(message: str) -> Failure:
    """An error toast for the user. Gradio 6 renders a toast's message as (sanitized) HTML, and messages carry file
    names, folders and reasons: the message is escaped to show literally. Raise every gr.Error through this."""
    return Failure(message)


def error_text(error: GlimpseError, lang: str = "en") -> str:
    """A typed error for the user. In English, its own message. In another language, what went wrong in that
    language (by the error's class), then the library's message, which names the file, folder or model (and
    stays English: the library and the CLI speak English)."""
    if lang == "en":
        return str(error)
    for kind in type(error).__mro__:
        key = f"error.{kind.__name__}"
        if key in CATALOGS["en"]:
            return t("error.detail", lang, what=t(key, lang), detail=str(error))
    return str(error)


def language(args, kwargs) -> str:
    """The language of an event's caller: a `lang=` keyword when given; else its handlers' `lang(request)` when
    the event passes a gr.Request (the web app's events do); else English (API calls, direct calls)."""
    if kwargs.get("lang") is not None:  # a handler's own helper, told the language
        return kwargs["lang"]
    request = next((a for a in (*args, *kwargs.values()) if isinstance(a, gr.Request)), None)
    owner = args[0] if args else None
    return owner.lang(request) if request is not None and hasattr(owner, "lang") else "en"


def readable(fn):
    """Turn glimpse's typed errors (and unexpected OS errors) into a message for the user."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except GlimpseError as e:
            raise fail(error_text(e, language(args, kwargs))) from e
        except OSError as e:
            log.exception("request failed")
            message = t("error.os", language(args, kwargs), reason=e.strerror or e, file=e.filename or "")
            raise fail(message.rstrip(": ")) from e

    return wrapper


def failure_markdown(action: str, text: str, lang: str = "en") -> str:
    """The message shown in place of what `action` (one of COULD_NOT) could not produce."""
    return f"### ⚠ {t(f'could_not.{action}', lang)}\n{views.md_escape(text)}"


def in_place(action: str, show: Callable[..., object]):
    """For a tab's event: a failure (a glimpse error, an OS error, a `fail`) becomes `show(self, message)`, the
    event's outputs with `failure_markdown(action, ...)` in its status line and stale results cleared, instead
    of a toast. `show` is a function of the handler object, the message and the visitor's language."""

    def decorate(fn):
        guarded = readable(fn)

        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            try:
                return guarded(self, *args, **kwargs)
            except Failure as e:
                lang = language((self, *args), kwargs)
                return show(self, failure_markdown(action, e.text, lang), lang)

        return wrapper

    return decorate
