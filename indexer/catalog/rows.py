"""What the catalog's statements share: the SQL expressions each rule is written in once (a photo's date,
where a row lives, which rows pass a filter), and turning rows into records and back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ..hierarchy import kinds
from ..names import from_column, fs_bytes, readable
from ..types import IMPORT_ROOT, FileState, Filters, ImageRecord, Label

# The two kinds of vectors: caption text (MiniLM) and image (ResNet-18 features). Column and generation key each.
VECTOR_KINDS = {"text": ("embedding", "vector_generation"), "image": ("image_embedding", "image_generation")}
LAYOUT_COLUMN = "layout"

# The date a photo is filed under, as ISO 8601: its EXIF capture time, else its file's mtime in local time.
# Imported captions have neither, so no date. Used to filter, to order and to show.
PHOTO_DATE = (
    "COALESCE(images.taken_at, strftime('%Y-%m-%dT%H:%M:%S', images.mtime_ns / 1000000000, 'unixepoch', 'localtime'))"
)
DATE_SOURCE = "CASE WHEN images.taken_at IS NOT NULL THEN 'exif' WHEN images.mtime_ns IS NOT NULL THEN 'file' END"
# Where a row lives: the full path of a photo, the given id of an imported caption (TEXT, its bytes when a stored
# path is a BLOB: compare it as CAST(... AS BLOB)).
FULL_PATH = "CASE WHEN roots.path = ? THEN images.path ELSE roots.path || '/' || images.path END"
BM25_WEIGHTS = "1.0, 2.0, 1.0, 1.0"  # caption, labels, file name, the labels' kinds (the FTS5 columns, in order)

_FROM = "FROM images JOIN roots ON roots.id = images.root_id"
_COLUMNS = (
    "images.id, roots.path AS root, images.path, images.name, images.size, images.mtime_ns, images.hash, "
    "images.width, images.height, images.taken_at, images.caption, images.labels, images.status, images.error, "
    f"images.offline, {PHOTO_DATE} AS date, {DATE_SOURCE} AS date_source, images.machine_caption, "
    "images.machine_labels, images.edited_at, images.review, images.reviewed_at"
)
REVIEW_STATES = ("approved", "edited", "skipped")
_ORDER = {"path": "roots.path, images.path", "date": f"{PHOTO_DATE} DESC, images.path"}  # date: newest first
_CHUNK = 500  # ids bound per statement


def _labels(text: str | None) -> list[Label]:
    return [Label(name, score) for name, score in json.loads(text or "[]")]


def _kinds_of(labels: Sequence[Label]) -> str | None:
    """The `ancestors` column of a row with these labels: its kinds as JSON, NULL when it has none."""
    found = kinds(labels)
    return json.dumps(found) if found else None


def _kinds(labels: str | None) -> str | None:
    """The same from a `labels` column: SQL's glimpse_kinds(), used by the migration that added the column."""
    return _kinds_of(_labels(labels))


def _record(row: sqlite3.Row) -> ImageRecord:
    paths = {"root": from_column(row["root"]), "path": from_column(row["path"])}
    machine = None if row["machine_labels"] is None else _labels(row["machine_labels"])
    return ImageRecord(**{**dict(row), **paths, "labels": _labels(row["labels"]), "machine_labels": machine})


def _labels_json(labels: Iterable[Label]) -> str:
    return json.dumps([(lb.name, None if lb.score is None else round(float(lb.score), 6)) for lb in labels])


def _state(row: sqlite3.Row) -> FileState:
    return FileState(**{**dict(row), "path": from_column(row["path"])})


def _where(filters: Filters | None, status: str | None = "ok", embedded: bool = False) -> tuple[str, list]:
    """The WHERE clause (over `images JOIN roots`) of the rows with `status` (None: any) that pass `filters`,
    and its arguments. `embedded`: only rows with a caption embedding, the ones a search can rank."""
    where, args = [], []
    if status is not None:
        where.append("images.status = ?")
        args.append(status)
    if embedded:
        where.append("images.embedding IS NOT NULL")
    filters = filters or Filters()
    if filters.label:
        where.append(
            "(EXISTS (SELECT 1 FROM json_each(images.labels) WHERE lower(json_each.value ->> 0) = lower(?)) "
            "OR EXISTS (SELECT 1 FROM json_each(images.ancestors) WHERE lower(json_each.value) = lower(?)))"
        )
        args += [readable(filters.label.strip())] * 2
    if filters.folder:  # compared as bytes: a folder whose name is not UTF-8 is stored as its bytes
        prefix = fs_bytes(filters.folder.rstrip("/") + "/")
        where.append(f"substr(CAST({FULL_PATH} AS BLOB), 1, ?) = ?")
        args += [IMPORT_ROOT, len(prefix), prefix]
    if filters.since:
        where.append(f"date({PHOTO_DATE}) >= ?")
        args.append(filters.since.isoformat())
    if filters.until:
        where.append(f"date({PHOTO_DATE}) <= ?")
        args.append(filters.until.isoformat())
    if filters.review:  # "unreviewed", or one of REVIEW_STATES
        where.append("images.review IS NULL" if filters.review == "unreviewed" else "images.review = ?")
        args += [] if filters.review == "unreviewed" else [filters.review]
    if filters.exclude:  # matched like query words: porter-stemmed, over caption, labels and file name
        words = " OR ".join('"' + readable(w).replace('"', '""') + '"' for w in filters.exclude)
        where.append("images.id NOT IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)")
        args.append(words)
    return " AND ".join(where) or "1", args


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ids = [int(i) for i in ids]  # numpy ints would bind as blobs
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.asarray(vector, np.float32).tobytes()


def _vector(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype=np.float32)
