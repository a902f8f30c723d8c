"""Atomic file writes: the new content goes to a temporary file beside the target, is fsync'ed, replaces the target
with `os.replace`, and the folder is fsync'ed; until then the previous file stays whole."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def fsync(path: Path) -> None:
    """Flush a file's or a folder's entry to disk (a folder: so a rename in it survives a power cut)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(target: Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """`with replacing(path) as f: f.write(...)`: `path` gets all of it or, if anything fails, keeps what it had."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        fsync(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
