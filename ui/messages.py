"""How the web app's events turn failures into messages.

API endpoints raise: one toast builder (escaped: Gradio 6 renders toasts as HTML) and the `readable` decorator
that turns glimpse's typed errors into it, so a `gradio_client` caller gets the message as an error. The tabs'
own events never raise: `in_place` shows the same message in the tab itself (its status line), once, in place
of the results it could not produce, with no toast and no red "Error" badge over stale results.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import gradio as gr
from glimpse.indexer.errors import GlimpseError

from . import views

log = logging.getLogger(__name__)

# What could not be done, as the heading of the message shown in place (see `in_place`).
COULD_NOT = {
    "search": "Could not search",
    "similar": "Could not find similar photos",
    "describe": "Could not describe this photo",
    "save": "Could not save the caption",
    "browse": "Could not show the library",
    "overview": "Could not read the index",
    "index": "Could not index this folder",
    "reembed": "Could not switch the text model",
    "duplicates": "Could not look for duplicates",
    "review": "Could not do that",
    "export": "Could not write the sidecars",
    "rename": "Could not rename",
}
NO_INDEX = "No photos yet: index a folder in the **Index** tab."  # the web app's word for IndexNotFound


class Failure(gr.Error):
    """A gr.Error that keeps its plain text, for the message shown in place."""

    def __init__(self, text: str):
        super().__init__(views.html_text(text), print_exception=False)
        self.text = text


def fail(message: str) -> Failure:
    """An error toast for the user. Gradio 6 renders a toast's message as (sanitized) HTML, and messages carry file
    names, folders and reasons: the message is escaped to show literally. Raise every gr.Error through this."""
    return Failure(message)


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


def failure_markdown(action: str, text: str) -> str:
    """The message shown in place of what `action` (a key of COULD_NOT) could not produce."""
    return f"### ⚠ {COULD_NOT[action]}\n{views.md_escape(text)}"


def in_place(action: str, show: Callable[..., object]):
    """For a tab's event: a failure (a glimpse error, an OS error, a `fail`) becomes `show(self, message)`, the
    event's outputs with `failure_markdown(action, ...)` in its status line and stale results cleared, instead
    of a toast. `show` is a function of the handler object and the message."""

    def decorate(fn):
        guarded = readable(fn)

        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            try:
                return guarded(self, *args, **kwargs)
            except Failure as e:
                return show(self, failure_markdown(action, e.text))

        return wrapper

    return decorate
