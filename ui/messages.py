"""How the web app's events turn failures into messages: one toast builder (escaped: Gradio 6 renders toasts as
HTML) and one decorator that turns glimpse's typed errors into it, in the visitor's language."""

from __future__ import annotations

import functools
import logging

import gradio as gr
from glimpse.indexer.errors import GlimpseError

from . import views
from .i18n import CATALOGS, t

log = logging.getLogger(__name__)


def fail(message: str) -> gr.Error:
    """An error toast for the user. Gradio 6 renders a toast's message as (sanitized) HTML, and messages carry file
    names, folders and reasons: the message is escaped to show literally. Raise every gr.Error through this."""
    return gr.Error(views.html_text(message), print_exception=False)


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


def _language(args, kwargs) -> str:
    """The language of an event's caller: its handlers' `lang(request)` when the event passes a gr.Request (the
    web app's events do), else English (API calls, direct calls)."""
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
            raise fail(error_text(e, _language(args, kwargs))) from e
        except OSError as e:
            log.exception("request failed")
            message = t("error.os", _language(args, kwargs), reason=e.strerror or e, file=e.filename or "")
            raise fail(message.rstrip(": ")) from e

    return wrapper
