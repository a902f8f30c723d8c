"""Plain data types shared by the models, the catalog and search. No storage, no models here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    name: str
    score: float | None  # classifier probability; None for labels brought in by `glimpse import`
