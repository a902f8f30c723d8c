"""Plain data types shared by the models, the catalog and search. No storage, no models here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


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

    @property
    def active(self) -> bool:
        return bool(self.label or self.folder or self.since or self.until or self.exclude)

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "folder": self.folder,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "exclude": list(self.exclude),
        }
