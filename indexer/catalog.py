"""The SQLite catalog: one row per image (or imported caption), an FTS5 table over its text, and metadata.

The catalog is the source of truth. Every embedding is stored here too, so the FAISS file is only a cache
that can always be rebuilt. Row ids are FAISS ids; a changed file gets a new row (and so a new id), which
makes "which vectors belong in FAISS" a pure set comparison. `vector_generation` changes whenever the set
of embedded rows changes (triggers keep it honest), so a FAISS file saved at another generation is detected.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexCorrupt, SchemaTooNew, StorageError
from .types import Label

IMPORT_ROOT = "<imported>"  # pseudo-root for captions brought in with `glimpse import`

# Named, ordered schema steps. PRAGMA user_version counts how many have been applied.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "initial",
        """
        CREATE TABLE roots (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE
        );
        CREATE TABLE images (
            id INTEGER PRIMARY KEY,
            root_id INTEGER NOT NULL REFERENCES roots(id),
            path TEXT NOT NULL,              -- POSIX, relative to the root (for imports: the given id)
            name TEXT NOT NULL,              -- file name, searchable
            size INTEGER,
            mtime_ns INTEGER,
            hash TEXT,                       -- blake2b of the file's bytes
            width INTEGER,
            height INTEGER,
            taken_at TEXT,                   -- EXIF DateTimeOriginal, ISO 8601
            caption TEXT,
            labels TEXT,                     -- JSON [[name, probability], ...], best first
            label_text TEXT,                 -- label names, comma separated, searchable
            status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
            error TEXT,
            embedding BLOB,                  -- float32, L2-normalized
            indexed_at REAL NOT NULL,
            UNIQUE (root_id, path)
        );
        CREATE INDEX images_hash ON images(hash);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('vector_generation', '0');

        CREATE VIRTUAL TABLE images_fts USING fts5(
            caption, label_text, name,
            content='images', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER images_ai AFTER INSERT ON images BEGIN
            INSERT INTO images_fts(rowid, caption, label_text, name)
                VALUES (new.id, new.caption, new.label_text, new.name);
            UPDATE meta SET value = CAST(value AS INTEGER) + 1
                WHERE key = 'vector_generation' AND new.embedding IS NOT NULL;
        END;
        CREATE TRIGGER images_ad AFTER DELETE ON images BEGIN
            INSERT INTO images_fts(images_fts, rowid, caption, label_text, name)
                VALUES ('delete', old.id, old.caption, old.label_text, old.name);
            UPDATE meta SET value = CAST(value AS INTEGER) + 1
                WHERE key = 'vector_generation' AND old.embedding IS NOT NULL;
        END;
        CREATE TRIGGER images_au AFTER UPDATE OF caption, label_text, name ON images BEGIN
            INSERT INTO images_fts(images_fts, rowid, caption, label_text, name)
                VALUES ('delete', old.id, old.caption, old.label_text, old.name);
            INSERT INTO images_fts(rowid, caption, label_text, name)
                VALUES (new.id, new.caption, new.label_text, new.name);
        END;
        CREATE TRIGGER images_au_embedding AFTER UPDATE OF embedding ON images BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'vector_generation';
        END;
        """,
    ),
    (
        "image_embeddings",
        """
        ALTER TABLE images ADD COLUMN image_embedding BLOB;  -- ResNet-18 penultimate features, L2-normalized
        ALTER TABLE images ADD COLUMN layout BLOB;  -- 8x8 grayscale thumbnail, zero-mean, unit length
        INSERT INTO meta VALUES ('image_generation', '0');
        CREATE TRIGGER images_ai_image AFTER INSERT ON images WHEN new.image_embedding IS NOT NULL BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'image_generation';
        END;
        CREATE TRIGGER images_ad_image AFTER DELETE ON images WHEN old.image_embedding IS NOT NULL BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'image_generation';
        END;
        CREATE TRIGGER images_au_image AFTER UPDATE OF image_embedding ON images BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'image_generation';
        END;
        """,
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)
# The two kinds of vectors: caption text (MiniLM) and image (ResNet-18 features). Column and generation key each.
VECTOR_KINDS = {"text": ("embedding", "vector_generation"), "image": ("image_embedding", "image_generation")}
LAYOUT_COLUMN = "layout"


@dataclass
class ImageRecord:
    id: int
    root: str
    path: str
    name: str
    size: int | None
    mtime_ns: int | None
    hash: str | None
    width: int | None
    height: int | None
    taken_at: str | None
    caption: str | None
    labels: list[Label]
    status: str
    error: str | None

    @property
    def is_import(self) -> bool:
        return self.root == IMPORT_ROOT

    @property
    def full_path(self) -> Path | None:
        return None if self.is_import else Path(self.root) / self.path


@dataclass(frozen=True)
class FileState:
    """What the catalog remembers of a file, to decide whether it changed."""

    id: int
    path: str
    size: int | None
    mtime_ns: int | None
    hash: str | None
    status: str


@dataclass
class NewImage:
    path: str
    name: str
    size: int | None = None
    mtime_ns: int | None = None
    hash: str | None = None
    width: int | None = None
    height: int | None = None
    taken_at: str | None = None
    caption: str | None = None
    labels: Sequence[Label] = ()
    embedding: np.ndarray | None = None
    image_embedding: np.ndarray | None = None
    layout: np.ndarray | None = None
    error: str | None = None  # set for a file that could not be used


_COLUMNS = (
    "images.id, roots.path, images.path, name, size, mtime_ns, hash, width, height, taken_at, "
    "caption, labels, status, error"
)


def _record(row: tuple) -> ImageRecord:
    labels = [Label(n, s) for n, s in json.loads(row[11] or "[]")]
    return ImageRecord(*row[:11], labels=labels, status=row[12], error=row[13])


class Catalog:
    """SQLite catalog in WAL mode: one writer (the indexer, under the index lock) and any number of readers."""

    def __init__(self, path: Path, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        try:
            if readonly:
                uri = f"file:{self.path}?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
            else:
                self.conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self.conn.execute("PRAGMA busy_timeout = 30000")
            if not readonly:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise IndexCorrupt(
                f"the catalog {self.path} is damaged ({e}); it was left untouched. "
                f"Move it aside and re-index, or restore it from a backup."
            ) from e

    # -- lifetime ---------------------------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic batch: everything in it is committed together or not at all."""
        try:
            with self.conn:
                yield self.conn
        except sqlite3.OperationalError as e:
            if any(word in str(e) for word in ("full", "disk I/O", "readonly", "read-only")):
                raise StorageError(
                    f"cannot write the catalog {self.path}: {e}. Nothing of this batch was kept; "
                    f"everything committed before is intact. Free some space and run again to resume."
                ) from e
            raise

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the catalog {self.path} has schema version {version}, newer than this glimpse "
                f"understands ({SCHEMA_VERSION}): upgrade glimpse"
            )
        if version == SCHEMA_VERSION:
            return
        if self.readonly:
            raise IndexCorrupt(f"the catalog {self.path} needs migrating; run `glimpse index` once to upgrade it")
        for number, (_name, sql) in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.conn:
                self.conn.executescript(f"BEGIN; {sql}; PRAGMA user_version = {number}; COMMIT;")

    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # -- roots ------------------------------------------------------------------------------------------
    def root_id(self, root: str, create: bool = False) -> int | None:
        row = self.conn.execute("SELECT id FROM roots WHERE path = ?", (root,)).fetchone()
        if row:
            return row[0]
        if not create:
            return None
        with self.transaction():
            return self.conn.execute("INSERT INTO roots(path) VALUES (?)", (root,)).lastrowid

    def roots(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT path FROM roots WHERE path != ? ORDER BY id", (IMPORT_ROOT,))]

    # -- reading ----------------------------------------------------------------------------------------
    def vector_generation(self, kind: str = "text") -> int:
        key = VECTOR_KINDS[kind][1]
        return int(self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])

    def file_states(self, root_id: int) -> dict[str, FileState]:
        rows = self.conn.execute(
            "SELECT id, path, size, mtime_ns, hash, status FROM images WHERE root_id = ?", (root_id,)
        )
        return {r[1]: FileState(*r) for r in rows}

    def find_by_hash(self, digest: str) -> FileState | None:
        """An indexed (status ok) row with this content hash, if any."""
        row = self.conn.execute(
            "SELECT id, path, size, mtime_ns, hash, status FROM images WHERE hash = ? AND status = 'ok' LIMIT 1",
            (digest,),
        ).fetchone()
        return FileState(*row) if row else None

    def get(self, ids: Iterable[int]) -> dict[int, ImageRecord]:
        ids = [int(i) for i in ids]  # numpy ints would bind as blobs
        out: dict[int, ImageRecord] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT {_COLUMNS} FROM images JOIN roots ON roots.id = root_id WHERE images.id IN ({marks})"
            out.update((r[0], _record(r)) for r in self.conn.execute(sql, chunk))
        return out

    def find(self, root_id: int, path: str) -> ImageRecord | None:
        sql = f"SELECT {_COLUMNS} FROM images JOIN roots ON roots.id = root_id WHERE root_id = ? AND images.path = ?"
        row = self.conn.execute(sql, (root_id, path)).fetchone()
        return _record(row) if row else None

    def records(
        self, status: str = "ok", order: str = "path", label: str | None = None, limit: int = -1, offset: int = 0
    ) -> list[ImageRecord]:
        """Rows for browsing: sorted by 'path' or 'date' (newest first), optionally by one label."""
        order_sql = {
            "path": "roots.path, images.path",
            "date": "COALESCE(taken_at, datetime(mtime_ns / 1000000000, 'unixepoch')) DESC, images.path",
        }[order]
        where, args = ["status = ?"], [status]
        if label:
            where.append("EXISTS (SELECT 1 FROM json_each(images.labels) WHERE json_each.value ->> 0 = ?)")
            args.append(label)
        sql = (
            f"SELECT {_COLUMNS} FROM images JOIN roots ON roots.id = root_id WHERE {' AND '.join(where)} "
            f"ORDER BY {order_sql} LIMIT ? OFFSET ?"
        )
        return [_record(r) for r in self.conn.execute(sql, (*args, limit, offset))]

    def count(self, status: str = "ok") -> int:
        return self.conn.execute("SELECT COUNT(*) FROM images WHERE status = ?", (status,)).fetchone()[0]

    def label_counts(self, top: int | None = None) -> list[tuple[str, int]]:
        """How many images have each label as their best guess."""
        sql = (
            "SELECT labels ->> '$[0][0]' AS label, COUNT(*) FROM images WHERE status = 'ok' AND label IS NOT NULL "
            "GROUP BY label ORDER BY COUNT(*) DESC, label LIMIT ?"
        )
        return [(r[0], r[1]) for r in self.conn.execute(sql, (top or -1,))]

    def embeddings(self, ids: Iterable[int] | None = None, kind: str = "text") -> tuple[np.ndarray, np.ndarray]:
        """(ids int64, vectors float32) of rows with a `kind` embedding: all of them, or those in `ids`."""
        column = LAYOUT_COLUMN if kind == "layout" else VECTOR_KINDS[kind][0]
        if ids is None:
            rows = self.conn.execute(f"SELECT id, {column} FROM images WHERE {column} IS NOT NULL ORDER BY id")
            rows = rows.fetchall()
        else:
            ids = [int(i) for i in ids]  # numpy ints would bind as blobs
            rows = []
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows += self.conn.execute(
                    f"SELECT id, {column} FROM images WHERE {column} IS NOT NULL AND id IN ({marks})", chunk
                ).fetchall()
        id_arr = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return id_arr, np.zeros((0, 0), dtype=np.float32)
        return id_arr, np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])

    def embedded_ids(self, kind: str = "text") -> np.ndarray:
        column = VECTOR_KINDS[kind][0]
        rows = self.conn.execute(f"SELECT id FROM images WHERE {column} IS NOT NULL").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def fts(self, match: str, limit: int) -> list[tuple[int, float]]:
        """(id, bm25) for an FTS5 MATCH expression, best first; bm25 is positive here (higher is better)."""
        sql = (
            "SELECT rowid, -bm25(images_fts, 1.0, 2.0, 1.0) FROM images_fts WHERE images_fts MATCH ? "
            "ORDER BY bm25(images_fts, 1.0, 2.0, 1.0) LIMIT ?"
        )
        try:
            return [(r[0], r[1]) for r in self.conn.execute(sql, (match, limit))]
        except sqlite3.OperationalError:  # a query FTS5 can't parse is simply no lexical evidence
            return []

    def hash_groups(self) -> list[tuple[str, list[int]]]:
        """(hash, ids) for every content hash shared by more than one indexed photo."""
        rows = self.conn.execute(
            "SELECT hash, group_concat(id) FROM images WHERE status = 'ok' AND hash IS NOT NULL "
            "GROUP BY hash HAVING COUNT(*) > 1"
        )
        return [(digest, sorted(int(i) for i in ids.split(","))) for digest, ids in rows]

    def failures(self) -> list[ImageRecord]:
        return self.records(status="failed")

    # -- writing (call inside transaction()) ----------------------------------------------------------
    def insert(self, root_id: int, item: NewImage) -> int:
        labels = [(lb.name, None if lb.score is None else round(float(lb.score), 6)) for lb in item.labels]
        emb, image_emb, layout = (None if v is None else np.asarray(v, np.float32).tobytes()
                                  for v in (item.embedding, item.image_embedding, item.layout))  # fmt: skip
        cur = self.conn.execute(
            "INSERT INTO images (root_id, path, name, size, mtime_ns, hash, width, height, taken_at, caption, "
            "labels, label_text, status, error, embedding, image_embedding, layout, indexed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                root_id, item.path, item.name, item.size, item.mtime_ns, item.hash, item.width, item.height,
                item.taken_at, item.caption, json.dumps(labels), ", ".join(n for n, _ in labels),
                "failed" if item.error else "ok", item.error, emb, image_emb, layout, time.time(),
            ),
        )  # fmt: skip
        return cur.lastrowid

    def delete(self, ids: Iterable[int]) -> None:
        self.conn.executemany("DELETE FROM images WHERE id = ?", ((i,) for i in ids))

    def move(self, image_id: int, path: str, name: str, size: int, mtime_ns: int) -> None:
        self.conn.execute(
            "UPDATE images SET path = ?, name = ?, size = ?, mtime_ns = ? WHERE id = ?",
            (path, name, size, mtime_ns, image_id),
        )

    def touch(self, image_id: int, size: int, mtime_ns: int) -> None:
        """Same content, new timestamp (e.g. `touch` or a copy that kept the bytes)."""
        self.conn.execute("UPDATE images SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, image_id))

    def copy_results(self, source_id: int) -> NewImage:
        """The caption, labels and embedding of an indexed row, to reuse for identical bytes elsewhere."""
        row = self.conn.execute(
            "SELECT width, height, taken_at, caption, labels, embedding, image_embedding, layout FROM images "
            "WHERE id = ?",
            (source_id,),
        ).fetchone()
        labels = [Label(n, s) for n, s in json.loads(row[4] or "[]")]
        emb, image_emb, layout = (None if b is None else np.frombuffer(b, dtype=np.float32) for b in row[5:8])
        return NewImage(
            path="", name="", width=row[0], height=row[1], taken_at=row[2], caption=row[3], labels=labels,
            embedding=emb, image_embedding=image_emb, layout=layout,
        )  # fmt: skip
