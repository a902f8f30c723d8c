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


@dataclass(frozen=True)
class ScanProblem:
    """Something under the library that could not be looked at: a folder that could not be listed (its photos
    are not gone, just out of sight: `folder` is True) or one entry that could not be used."""

    path: Path  # absolute
    rel: str  # POSIX path relative to the library root ("." for the root itself)
    reason: str
    folder: bool


def scan(root: Path, exclude: tuple[Path, ...] = (), problems: list[ScanProblem] | None = None) -> Iterator[FileEntry]:
    """Yield every image file under `root`, sorted by relative path; append what could not be looked at to
    `problems` (when given).

    Hidden files and folders (dot-names) and the `exclude` folders (the index itself) are skipped.
    Folder symlinks are not followed, so a symlink loop cannot trap the walk; a file symlink is kept
    only when it points to a file inside the library. Files that vanish or can't be stat'ed are skipped.
    """
    root = Path(root).resolve()
    excluded = {Path(e).resolve() for e in exclude}
    problems = [] if problems is None else problems

    def unlisted(err: OSError) -> None:
        folder = Path(err.filename)
        log.warning("cannot read folder %s: %s", folder, err.strerror)
        rel = folder.relative_to(root).as_posix() if folder.is_relative_to(root) else str(folder)
        problems.append(ScanProblem(folder, rel, f"could not read folder: {err.strerror or err}", folder=True))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unlisted):
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
