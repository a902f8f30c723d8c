"""Stage 1: walk a library folder and list the photo files in it."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".heic", ".heif"}
)


@dataclass(frozen=True)
class FileEntry:
    path: Path  # absolute
    rel: str  # POSIX path relative to the library root
    size: int
    mtime_ns: int


def is_image_name(name: str) -> bool:
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS


def scan(root: Path, exclude: tuple[Path, ...] = ()) -> Iterator[FileEntry]:
    """Yield every image file under `root`, sorted by relative path.

    Hidden files and folders (dot-names) and the `exclude` folders (the index itself) are skipped.
    Folder symlinks are not followed, so a symlink loop cannot trap the walk; a file symlink is kept
    only when it points to a file inside the library. Files that vanish or can't be stat'ed are skipped.
    """
    root = Path(root).resolve()
    excluded = {Path(e).resolve() for e in exclude}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=_log_walk_error):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in excluded)
        for name in sorted(filenames):
            if name.startswith(".") or not is_image_name(name):
                continue
            path = here / name
            entry = _entry(root, path)
            if entry is not None:
                yield entry


def _entry(root: Path, path: Path) -> FileEntry | None:
    try:
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            log.info("skipping %s: symlink points outside the library", path)
            return None
        st = path.stat()
    except OSError as e:  # vanished, dangling link, permission
        log.info("skipping %s: %s", path, e)
        return None
    if not os.path.isfile(path):
        return None
    return FileEntry(path=path, rel=path.relative_to(root).as_posix(), size=st.st_size, mtime_ns=st.st_mtime_ns)


def _log_walk_error(err: OSError) -> None:
    log.warning("cannot read folder %s: %s", err.filename, err.strerror)
