"""Search filters, applied inside the search rather than by cutting the ranked list afterwards.

A filter narrows the set of catalog rows a query may return: a label, a folder (path prefix), a capture-date
range (EXIF `taken_at`, else the file's modification time, in local time) and excluded words (`-word` in the
query, matched like the query's own words: porter-stemmed over caption, labels and file name). The dense
search then runs over exactly that set (a FAISS id selector) and so does the lexical one (an SQL subquery),
so a filtered query still returns `k` results whenever `k` photos pass the filters.
"""

from __future__ import annotations

import re
import sqlite3

import numpy as np
from glimpse.indexer.catalog import IMPORT_ROOT, Catalog
from glimpse.indexer.types import Filters
from glimpse.indexer.vectors import VectorIndex, normalize

# The date a photo is filed under: EXIF capture time, else the file's mtime (local time), as 'YYYY-MM-DD'.
PHOTO_DATE_SQL = "date(COALESCE(images.taken_at, datetime(images.mtime_ns / 1000000000, 'unixepoch', 'localtime')))"
# Where a row lives: the full path of a photo, the given id of an imported caption.
FULL_PATH_SQL = "CASE WHEN roots.path = ? THEN images.path ELSE roots.path || '/' || images.path END"
BM25_WEIGHTS = "1.0, 2.0, 1.0"  # caption, labels, file name: the same weights as Catalog.fts

_EXCLUDED = re.compile(r"(?<!\S)-(\w[\w'-]*)", re.UNICODE)


def split_exclusions(query: str) -> tuple[str, tuple[str, ...]]:
    """`"beach -dog -people"` -> `("beach", ("dog", "people"))`. A hyphen inside a word is kept."""
    excluded = tuple(dict.fromkeys(w.lower() for w in _EXCLUDED.findall(query)))
    if not excluded:
        return query, ()
    return " ".join(_EXCLUDED.sub(" ", query).split()), excluded


def _where(filters: Filters) -> tuple[str, list]:
    """The WHERE clause (over `images JOIN roots`) of the rows that pass `filters`, and its arguments."""
    where = ["images.status = 'ok'", "images.embedding IS NOT NULL"]
    args: list = []
    if filters.label:
        where.append("EXISTS (SELECT 1 FROM json_each(images.labels) WHERE lower(json_each.value ->> 0) = lower(?))")
        args.append(filters.label.strip())
    if filters.folder:
        prefix = filters.folder.rstrip("/") + "/"
        where.append(f"substr({FULL_PATH_SQL}, 1, ?) = ?")
        args += [IMPORT_ROOT, len(prefix), prefix]
    if filters.since:
        where.append(f"{PHOTO_DATE_SQL} >= ?")
        args.append(filters.since.isoformat())
    if filters.until:
        where.append(f"{PHOTO_DATE_SQL} <= ?")
        args.append(filters.until.isoformat())
    if filters.exclude:
        words = " OR ".join('"' + w.replace('"', '""') + '"' for w in filters.exclude)
        where.append("images.id NOT IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)")
        args.append(words)
    return " AND ".join(where), args


def allowed_ids(catalog: Catalog, filters: Filters) -> np.ndarray:
    """Ids (int64) of the embedded rows that pass `filters`."""
    where, args = _where(filters)
    rows = catalog.conn.execute(f"SELECT images.id FROM images JOIN roots ON roots.id = root_id WHERE {where}", args)
    ids = [r[0] for r in rows]
    return np.fromiter(ids, dtype=np.int64, count=len(ids))


def dense_within(vectors: VectorIndex, qvec: np.ndarray, n: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the best `n` vectors among `ids` only, like `VectorIndex.search` for one query."""
    sims, found = vectors.search(normalize(qvec), n, within=ids)
    return sims[0], found[0]


def lexical_within(catalog: Catalog, match: str, limit: int, filters: Filters) -> list[tuple[int, float]]:
    """(id, bm25) for an FTS5 MATCH expression among the rows that pass `filters`, best first."""
    where, args = _where(filters)
    sql = (
        f"SELECT rowid, -bm25(images_fts, {BM25_WEIGHTS}) FROM images_fts WHERE images_fts MATCH ? AND rowid IN "
        f"(SELECT images.id FROM images JOIN roots ON roots.id = root_id WHERE {where}) "
        f"ORDER BY bm25(images_fts, {BM25_WEIGHTS}) LIMIT ?"
    )
    try:
        return [(r[0], r[1]) for r in catalog.conn.execute(sql, (match, *args, limit))]
    except sqlite3.OperationalError:  # a query FTS5 can't parse is simply no lexical evidence
        return []
