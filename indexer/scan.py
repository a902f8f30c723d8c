"""Stage 1: walk a library folder and list the photo files in it."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
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


def file_hash(path: Path) -> str:
    """The content hash glimpse keeps for a file (BLAKE2b, 128 bits, hex): moves, copies and changes by it."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


@dataclass(frozen=True)
class ScanProblem:
    """Something under the library that could not be looked at: a folder that could not be listed (its photos
    are not gone, just out of sight: `folder` is True) or one entry that could not be used."""

    path: Path  # absolute
    rel: str  # POSIX path relative to the library root ("." for the root itself)
    reason: str
    folder: bool
    size: int | None = None  # an entry's own (lstat) size and mtime, so a retry waits until it changes
    mtime_ns: int | None = None


def scan(root: Path, exclude: tuple[Path, ...] = (), problems: list[ScanProblem] | None = None) -> Iterator[FileEntry]:
    """Yield every image file under `root`, sorted by relative path; append what could not be looked at to
    `problems` (when given).

    Hidden files and folders (dot-names) and the `exclude` folders (the index itself) are skipped.
    Folder symlinks are not followed, so a symlink loop cannot trap the walk; a file symlink is kept
    only when it points to a file inside the library. Files that vanish are skipped; an entry that can't be
    resolved or stat'ed (a symlink loop, a dangling link, any error) is a problem, and the walk goes on.
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
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not _excluded(here / d, excluded))
        prefix = here.relative_to(root).as_posix() + "/" if here != root else ""  # once per folder, not per file
        for name in sorted(filenames):
            if name.startswith(".") or not is_image_name(name):
                continue
            path = here / name
            try:
                entry = _entry(root, path, prefix + name)
            except Exception as e:  # noqa: BLE001 - one entry, whatever went wrong, must not end the walk
                problems.append(_problem(root, path, e))
                continue
            if entry is not None:
                yield entry


def _excluded(folder: Path, excluded: set[Path]) -> bool:
    try:
        return folder.resolve() in excluded
    except (OSError, RuntimeError):  # a looping link: not the index, and never walked into
        return False


def _entry(root: Path, path: Path, rel: str) -> FileEntry | None:
    """The entry for `path` (`rel` under `root`), or None when it is not one to index (gone, not a file, a link
    out of the library). Raises when it can't be looked at. A plain file costs one lstat()."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        log.info("skipping %s: vanished", path)
        return None
    if stat.S_ISREG(st.st_mode):
        return FileEntry(path=path, rel=rel, size=st.st_size, mtime_ns=st.st_mtime_ns)
    link = stat.S_ISLNK(st.st_mode)
    if not link:
        return None  # a folder, a socket, a fifo named like an image
    try:
        if link and not path.resolve(strict=True).is_relative_to(root):
            log.info("skipping %s: symlink points outside the library", path)
            return None
        st = path.stat()
    except FileNotFoundError:
        if link and path.is_symlink():
            raise  # a dangling link (its target is missing), not a file that vanished since the listing
        log.info("skipping %s: vanished", path)
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return FileEntry(path=path, rel=rel, size=st.st_size, mtime_ns=st.st_mtime_ns)


def _problem(root: Path, path: Path, error: Exception) -> ScanProblem:
    """`path` could not be looked at: why, and its own size and modification time (when even those can be read)."""
    if getattr(error, "errno", None) == errno.ELOOP or isinstance(error, RuntimeError) and "loop" in str(error):
        reason = "symlink loop (following the link never reaches a file)"
    elif isinstance(error, FileNotFoundError):
        reason = "broken symlink (its target does not exist)"
    elif isinstance(error, OSError):
        reason = f"cannot look at the file: {error.strerror or error}"
    else:
        reason = f"cannot look at the file: {type(error).__name__}: {error}"
    log.warning("skipping %s: %s", path, reason)
    try:
        st = path.lstat()
        size, mtime_ns = st.st_size, st.st_mtime_ns
    except OSError:
        size = mtime_ns = None
    return ScanProblem(path, path.relative_to(root).as_posix(), reason, folder=False, size=size, mtime_ns=mtime_ns)
