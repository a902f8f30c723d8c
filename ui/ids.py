"""Photo ids as the front-ends receive them (a number, a string of digits, a float from JSON), checked once."""

from __future__ import annotations

from pathlib import Path

from glimpse.indexer.errors import NotInIndex

MAX_ID = 2**63 - 1  # SQLite's largest INTEGER, so the largest catalog row id: photo ids are 1 to this


def _whole(value) -> int | None:
    """`value` as an int when it is a whole number (an int, an integral float, a string of digits), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    try:
        return int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        return None


def photo_id(value) -> int:
    """`value` as a photo id. NotInIndex, saying what ids are, when it can't be one (not a whole number, or one
    SQLite can't hold: no such photo can exist), so that no front-end hands SQLite a number it chokes on."""
    number = _whole(value)
    if number is None:
        raise NotInIndex(f"{value!r} is not a photo id: ids are whole numbers from 1 to {MAX_ID}")
    if not 1 <= number <= MAX_ID:
        raise NotInIndex(f"no photo with id {number} in the index: ids are whole numbers from 1 to {MAX_ID}")
    return number


def _names_an_id(ref) -> bool:
    """True when `similar`'s `ref` is meant as a photo id rather than a file."""
    if isinstance(ref, (int, float)):
        return True
    return isinstance(ref, str) and ref.strip().lstrip("+-").isdigit() and not Path(ref).exists()
