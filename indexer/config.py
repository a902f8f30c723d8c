"""Where settings come from: flags first, then GLIMPSE_* environment variables, then these defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CAPTION_MODEL = "Salesforce/blip-image-captioning-base"
DEFAULT_CLASSIFIER_WEIGHTS = "IMAGENET1K_V1"
DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_DEVICE = "auto"
DEFAULT_PRECISION = "auto"
DEFAULT_TEXT_ENGINE = "auto"  # the lean numpy engine for queries where the model allows it (models/embedder.py)
DEFAULT_BATCH_SIZE = 32  # images per model batch when indexing (measured: README, Performance)

# Every GLIMPSE_* environment variable glimpse reads, by setting: spell the names only here.
ENV = {
    "index": "GLIMPSE_INDEX",
    "caption_model": "GLIMPSE_CAPTION_MODEL",
    "classifier_weights": "GLIMPSE_CLASSIFIER_WEIGHTS",
    "text_model": "GLIMPSE_TEXT_MODEL",
    "device": "GLIMPSE_DEVICE",
    "precision": "GLIMPSE_PRECISION",
    "text_engine": "GLIMPSE_TEXT_ENGINE",  # auto | lean | torch: see models/embedder.py
    "auth": "GLIMPSE_AUTH",  # `glimpse serve --auth USER:PASSWORD`
    "lang": "GLIMPSE_LANG",  # `glimpse serve --lang en|es|auto`: the web app's language (ui/language.py)
    "temp": "GLIMPSE_TEMP_DIR",  # where the web app keeps uploads and thumbnails (ui/tempdir.py)
}


def default_index_dir() -> Path:
    """`$GLIMPSE_INDEX`, else `$XDG_DATA_HOME/glimpse/index` (usually `~/.local/share/glimpse/index`)."""
    if os.environ.get(ENV["index"]):
        return Path(os.environ[ENV["index"]]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "glimpse" / "index"


def _pick(flag: str | None, key: str, default: str) -> str:
    if flag:
        return flag
    return os.environ.get(ENV[key]) or default


@dataclass(frozen=True)
class ModelSettings:
    caption_model: str = DEFAULT_CAPTION_MODEL
    classifier_weights: str = DEFAULT_CLASSIFIER_WEIGHTS
    text_model: str = DEFAULT_TEXT_MODEL
    device: str = DEFAULT_DEVICE
    precision: str = DEFAULT_PRECISION
    text_engine: str = DEFAULT_TEXT_ENGINE

    @classmethod
    def resolve(
        cls,
        caption_model: str | None = None,
        classifier_weights: str | None = None,
        text_model: str | None = None,
        device: str | None = None,
        precision: str | None = None,
        text_engine: str | None = None,
    ) -> ModelSettings:
        return cls(
            caption_model=_pick(caption_model, "caption_model", DEFAULT_CAPTION_MODEL),
            classifier_weights=_pick(classifier_weights, "classifier_weights", DEFAULT_CLASSIFIER_WEIGHTS),
            text_model=_pick(text_model, "text_model", DEFAULT_TEXT_MODEL),
            device=_pick(device, "device", DEFAULT_DEVICE),
            precision=_pick(precision, "precision", DEFAULT_PRECISION),
            text_engine=_pick(text_engine, "text_engine", DEFAULT_TEXT_ENGINE),
        )
