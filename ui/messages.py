"""How the web app's events turn failures into messages: one toast builder (escaped: Gradio 6 renders toasts as
HTML) and one decorator that turns glimpse's typed errors into it."""

from __future__ import annotations

import functools
import logging

import gradio as gr
from glimpse.indexer.errors import GlimpseError

from . import views

log = logging.getLogger(__name__)


def fail(message: str) -> gr.Error:
    """An error toast for the user. Gradio 6 renders a toast's message as (sanitized) HTML, and messages carry file
    names, folders and reasons: the message is escaped to show literally. Raise every gr.Error through this."""
    return gr.Error(views.html_text(message), print_exception=False)


def readable(fn):
    """Turn glimpse's typed errors (and unexpected OS errors) into a message for the user."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except GlimpseError as e:
            raise fail(str(e)) from e
        except OSError as e:
            log.exception("request failed")
            raise fail(f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")) from e

    return wrapper
