"""Text that is not valid Unicode: file names whose bytes are not UTF-8, and queries with lone surrogates.

Python hands a file name like b"caf\\xe9.jpg" (a Latin-1 camera card, a Samba share) over as a str with a
surrogate escape ("caf\\udce9.jpg", see `os.fsdecode`); a query can carry one too (a `\\xff` byte in argv, a
lone "\\ud800" sent to the API). SQLite, JSON, terminals and tokenizers refuse such strings. So:

- `readable` is what people see and what gets searched or embedded: every surrogate becomes U+FFFD;
- `to_column` / `from_column` store a path in the catalog so it comes back exactly: as TEXT when it is valid
  UTF-8, else as a BLOB of its bytes (a TEXT and a BLOB are never equal, so each path has one stored form).
"""

from __future__ import annotations

import os
import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def readable(text: str) -> str:
    """`text` with each surrogate (an undecodable byte of a file name, a lone UTF-16 half) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def is_valid(text: str) -> bool:
    """True when `text` is valid Unicode (it encodes as UTF-8 as it is)."""
    return _SURROGATE.search(text) is None


def fs_bytes(path: str) -> bytes:
    """The file-system bytes of a path; a surrogate that stands for no byte becomes U+FFFD."""
    try:
        return os.fsencode(path)
    except UnicodeEncodeError:
        return readable(path).encode()


def to_column(path: str) -> str | bytes:
    """How a path is stored: itself when it is valid UTF-8, else its bytes (read back with `from_column`)."""
    return path if is_valid(path) else fs_bytes(path)


def from_column(value: str | bytes) -> str:
    return os.fsdecode(value) if isinstance(value, bytes) else value
