"""Uploads for the Describe tab: only image files, parsed by glimpse's own decoder and nothing else.

`gr.Image` would open every upload with PIL itself before our code runs: no pixel limit of ours, and a
traceback-shaped "Error" for a file that is not an image. `photo_input()` is the same component in the browser
(drop zone, paste, preview, `accept="image/*"`) but hands the uploaded file over unopened; `check_upload`
then refuses anything that is not named like a photo (HTML, SVG, scripts...) before the decoder, which
applies the pixel limit and EXIF orientation, sees it.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from glimpse.indexer.errors import UnreadableImage
from glimpse.indexer.scan import IMAGE_EXTENSIONS

MAX_UPLOAD = "50mb"  # per file; Gradio answers 413 above it
ACCEPTED = ", ".join(sorted({e.lstrip(".").upper() for e in IMAGE_EXTENSIONS} - {"JPE", "TIF", "HEIF"}))


def photo_input(**kwargs) -> gr.Image:
    """A `gr.Image` upload box whose value is the uploaded file's path, not yet opened.

    The override is on the instance: a `gr.Image` subclass would make Gradio write a `.pyi` stub next to
    this module at import time.
    """
    component = gr.Image(type="filepath", image_mode=None, **kwargs)
    opened_by_gradio = component.preprocess

    def preprocess(payload):
        if payload is None or (payload.url and payload.url.startswith("data:")):
            return opened_by_gradio(payload)  # a pasted data: URL is decoded and saved by Gradio
        return payload.path  # Gradio has checked it is a file in its upload folder

    component.preprocess = preprocess
    return component


def check_upload(path: str | Path, lang: str = "en") -> Path:
    """The upload's path, when it is named like a photo. Raises UnreadableImage with a readable reason (in
    `lang`)."""
    from .i18n import t  # the catalog imports ACCEPTED from here

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_EXTENSIONS:
        what = t("error.a_file_with", lang, suffix=suffix) if suffix else t("error.a_file_without", lang)
        raise UnreadableImage(t("error.not_a_photo", lang, name=path.name, what=what, accepted=ACCEPTED))
    return path
