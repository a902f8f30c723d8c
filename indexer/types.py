"""Plain data types shared by the models, the catalog and search. No storage, no models here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from .names import readable

IMPORT_ROOT = "<imported>"  # pseudo-root for captions brought in with `glimpse import`


@dataclass(frozen=True)
class Label:
    name: str
    score: float | None  # classifier probability; None for labels brought in by `glimpse import`


@dataclass(frozen=True)
class Filters:
    """Which photos a search or a listing may return (the catalog turns these into its one row filter)."""

    label: str | None = None  # one of the photo's labels (any of its top 5), case-insensitive
    folder: str | None = None  # an absolute folder, or an id prefix for imported captions
    since: date | None = None  # inclusive
    until: date | None = None  # inclusive
    exclude: tuple[str, ...] = field(default_factory=tuple)  # words none of the results may contain
    review: str | None = None  # "unreviewed", "approved", "edited" or "skipped" (the Review tab's filter)

    @property
    def active(self) -> bool:
        return bool(self.label or self.folder or self.since or self.until or self.exclude or self.review)

    def as_dict(self) -> dict:
        """Fit to show and to serialize: text that is not valid Unicode gets U+FFFD (see names.readable)."""
        return {
            "label": self.label and readable(self.label),
            "folder": self.folder and readable(self.folder),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "exclude": [readable(w) for w in self.exclude],
        }


@dataclass
class ImageRecord:
    """One catalog row as read back: a photo, a file that failed, or an imported caption."""

    id: int
    root: str
    path: str
    name: str
    size: int | None
    mtime_ns: int | None
    hash: str | None
    width: int | None
    height: int | None
    taken_at: str | None  # EXIF capture time, ISO 8601
    caption: str | None
    labels: list[Label]
    status: str
    error: str | None
    date: str | None = None  # the date the photo is filed under: `taken_at`, else the file's mtime (local time)
    date_source: str | None = None  # "exif", "file" (mtime) or None (imported captions)
    offline: str | None = None  # why the file could not be seen at the last index run; None when it was there
    machine_caption: str | None = None  # the models' caption, kept beside a person's (set once edited)
    machine_labels: list[Label] | None = None  # the models' labels, likewise
    edited_at: float | None = None  # when a person last wrote the caption/labels (Unix time); None: the models'
    review: str | None = None  # "approved", "edited", "skipped", or None (not reviewed yet)
    reviewed_at: float | None = None

    @property
    def human(self) -> bool:
        """Whether a person wrote this caption and these labels."""
        return self.edited_at is not None

    @property
    def is_import(self) -> bool:
        return self.root == IMPORT_ROOT

    @property
    def full_path(self) -> Path | None:
        return None if self.is_import else Path(self.root) / self.path


@dataclass(frozen=True)
class FileState:
    """What the catalog remembers of a file, to decide whether it changed."""

    id: int
    path: str
    size: int | None
    mtime_ns: int | None
    hash: str | None
    status: str
    offline: str | None = None  # see ImageRecord.offline


@dataclass
class NewImage:
    """A row to write: what the indexer (or `glimpse import`) found out about one file."""

    path: str
    name: str
    size: int | None = None
    mtime_ns: int | None = None
    hash: str | None = None
    width: int | None = None
    height: int | None = None
    taken_at: str | None = None
    caption: str | None = None
    labels: Sequence[Label] = ()
    embedding: np.ndarray | None = None
    image_embedding: np.ndarray | None = None
    layout: np.ndarray | None = None
    error: str | None = None  # set for a file that could not be used
    machine_caption: str | None = None  # with `edited_at`: `caption`/`labels` are a person's, these the models'
    machine_labels: Sequence[Label] | None = None
    edited_at: float | None = None
    review: str | None = None
    reviewed_at: float | None = None
