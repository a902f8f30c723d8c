"""The SQLite catalog: one row per image (or imported caption), an FTS5 table over its text, and metadata.

The catalog is the source of truth. Every embedding is stored here too, so the FAISS file is only a cache
that can always be rebuilt. Row ids are FAISS ids; a changed file gets a new row (and so a new id), which
makes "which vectors belong in FAISS" a pure set comparison. `vector_generation` changes whenever the set
of embedded rows changes (triggers keep it honest), so a FAISS file saved at another generation is detected.

Every SQL statement of glimpse lives in this module; search and the UI call its methods. Rows are read by
column name (`sqlite3.Row`). One rule each, shared by filtering, counting, ordering and reading a row:
- a photo's date (`PHOTO_DATE`): the EXIF capture time, else the file's modification time in local time;
- which rows pass a `Filters` (`_where`): label (case-insensitive; one of the top 5 labels, or a kind of a
  confident one: `dog` for a golden retriever, see hierarchy.py), folder, date range, excluded words;
- how lexical evidence is weighed (`BM25_WEIGHTS`);
- how a path is stored (`names.to_column`): TEXT, or a BLOB of its bytes when it is not valid UTF-8, so it comes
  back exactly; the searchable `name` and the stored texts are readable (`names.readable`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import IndexCorrupt, SchemaTooNew, StorageError
from .hierarchy import kinds
from .names import from_column, fs_bytes, readable, to_column
from .types import IMPORT_ROOT, FileState, Filters, ImageRecord, Label, NewImage

__all__ = ["IMPORT_ROOT", "MIGRATIONS", "SCHEMA_VERSION", "Catalog", "FileState", "ImageRecord", "NewImage"]

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
    (
        "offline",
        """
        -- why a photo could not be seen at the last index run (its folder could not be listed, its library
        -- folder was missing or empty); NULL when it was there. Offline photos are kept, not swept.
        ALTER TABLE images ADD COLUMN offline TEXT;
        """,
    ),
    (
        "reembed",
        """
        -- `glimpse reembed`: new text embeddings are staged here, batch by batch (an interrupted run resumes),
        -- then swapped in by one transaction that also records the model and bumps the text epoch (the folder
        -- its FAISS files live in), so the old vectors and the old model serve until that moment.
        CREATE TABLE reembed (id INTEGER PRIMARY KEY, embedding BLOB NOT NULL);
        INSERT INTO meta VALUES ('reembed_model', ''), ('text_model', ''), ('embedding_dim', '0'), ('text_epoch', '0');
        """,
    ),
    (
        "label_kinds",
        """
        -- the WordNet ancestors of the photo's confident labels (hierarchy.py: golden retriever -> dog, animal...),
        -- a JSON list, nearest first; filled for the rows already there from their stored labels (no re-captioning,
        -- no re-embedding), and searchable: the full-text table gains a fourth column.
        ALTER TABLE images ADD COLUMN ancestors TEXT;
        DROP TRIGGER images_ai;
        DROP TRIGGER images_ad;
        DROP TRIGGER images_au;
        DROP TABLE images_fts;
        UPDATE images SET ancestors = glimpse_kinds(labels) WHERE labels IS NOT NULL;
        CREATE VIRTUAL TABLE images_fts USING fts5(
            caption, label_text, name, ancestors,
            content='images', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        );
        INSERT INTO images_fts(images_fts) VALUES ('rebuild');
        -- which recipe made the stored caption embeddings (pipeline.TEXT_VERSION): 1, caption and labels, for the
        -- rows already there (the next `glimpse index` or `import` re-embeds them from their stored text); 2, with
        -- the nearest kinds too, from here on
        INSERT INTO meta SELECT 'text_version',
            CASE WHEN EXISTS (SELECT 1 FROM images WHERE embedding IS NOT NULL) THEN '1' ELSE '2' END;
        CREATE TRIGGER images_ai AFTER INSERT ON images BEGIN
            INSERT INTO images_fts(rowid, caption, label_text, name, ancestors)
                VALUES (new.id, new.caption, new.label_text, new.name, new.ancestors);
            UPDATE meta SET value = CAST(value AS INTEGER) + 1
                WHERE key = 'vector_generation' AND new.embedding IS NOT NULL;
        END;
        CREATE TRIGGER images_ad AFTER DELETE ON images BEGIN
            INSERT INTO images_fts(images_fts, rowid, caption, label_text, name, ancestors)
                VALUES ('delete', old.id, old.caption, old.label_text, old.name, old.ancestors);
            UPDATE meta SET value = CAST(value AS INTEGER) + 1
                WHERE key = 'vector_generation' AND old.embedding IS NOT NULL;
        END;
        CREATE TRIGGER images_au AFTER UPDATE OF caption, label_text, name, ancestors ON images BEGIN
            INSERT INTO images_fts(images_fts, rowid, caption, label_text, name, ancestors)
                VALUES ('delete', old.id, old.caption, old.label_text, old.name, old.ancestors);
            INSERT INTO images_fts(rowid, caption, label_text, name, ancestors)
                VALUES (new.id, new.caption, new.label_text, new.name, new.ancestors);
        END;
        """,
    ),
    (
        "curation",
        """
        -- A person's caption and labels replace the models' in `caption`/`labels` (what is searched and shown);
        -- the models' own are kept beside them, and no re-index, re-caption or import overwrites a person's.
        ALTER TABLE images ADD COLUMN machine_caption TEXT;  -- the models' caption, once a person edited it
        ALTER TABLE images ADD COLUMN machine_labels TEXT;   -- the models' labels, ditto (JSON like `labels`)
        ALTER TABLE images ADD COLUMN edited_at REAL;        -- when a person last wrote them; NULL: the models'
        ALTER TABLE images ADD COLUMN review TEXT CHECK (review IN ('approved', 'edited', 'skipped'));
        ALTER TABLE images ADD COLUMN reviewed_at REAL;
        -- Each edit, with the text it replaced (`glimpse edit --undo` restores the last one). `image_id`
        -- follows the photo when a re-index gives it a new row.
        CREATE TABLE edits (
            id INTEGER PRIMARY KEY,
            image_id INTEGER NOT NULL,
            at REAL NOT NULL,
            caption_before TEXT,
            labels_before TEXT,
            edited_at_before REAL,
            review_before TEXT,
            caption TEXT,
            labels TEXT
        );
        CREATE INDEX edits_image ON edits(image_id, id);
        -- Rows whose vector changed in place (an edit keeps the photo's id): the vector index drops and re-adds
        -- those embedded after the generation it was saved at.
        CREATE TABLE reembedded (
            image_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            generation INTEGER NOT NULL
        );
        CREATE INDEX reembedded_generation ON reembedded(kind, generation);
        -- The keywords glimpse itself added to a photo's XMP sidecar at the last export (JSON: {tag: [keyword]}),
        -- so the next export replaces only those and never a keyword the user had.
        CREATE TABLE exported_keywords (image_id INTEGER PRIMARY KEY, keywords TEXT NOT NULL, at REAL NOT NULL);
        """,
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)
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


class Catalog:
    """SQLite catalog in WAL mode: one writer (the indexer, under the index lock) and any number of readers.

    `migrations` are the schema steps this catalog knows (tests pass fewer to write an older catalog)."""

    def __init__(self, path: Path, readonly: bool = False, migrations: Sequence[tuple[str, str]] = MIGRATIONS):
        self.path = Path(path)
        self.readonly = readonly
        self.migrations = list(migrations)
        try:
            if readonly:
                uri = f"file:{self.path}?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
            else:
                self.conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.create_function("glimpse_kinds", 1, _kinds, deterministic=True)
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
        version, known = self.conn.execute("PRAGMA user_version").fetchone()["user_version"], len(self.migrations)
        if version > known:
            raise SchemaTooNew(
                f"the catalog {self.path} has schema version {version}, newer than this glimpse "
                f"understands ({known}): upgrade glimpse"
            )
        if version == known:
            return
        if self.readonly:
            raise IndexCorrupt(f"the catalog {self.path} needs migrating; run `glimpse index` once to upgrade it")
        for number, (_name, sql) in enumerate(self.migrations[version:], start=version + 1):
            with self.conn:
                self.conn.executescript(f"BEGIN; {sql}; PRAGMA user_version = {number}; COMMIT;")

    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()["integrity_check"] == "ok"

    # -- roots ------------------------------------------------------------------------------------------
    def root_id(self, root: str, create: bool = False) -> int | None:
        row = self.conn.execute("SELECT id FROM roots WHERE path = ?", (to_column(root),)).fetchone()
        if row:
            return row["id"]
        if not create:
            return None
        with self.transaction():
            return self.conn.execute("INSERT INTO roots(path) VALUES (?)", (to_column(root),)).lastrowid

    def roots(self) -> list[str]:
        rows = self.conn.execute("SELECT path FROM roots WHERE path != ? ORDER BY id", (IMPORT_ROOT,))
        return [from_column(r["path"]) for r in rows]

    # -- reading ----------------------------------------------------------------------------------------
    def vector_generation(self, kind: str = "text") -> int:
        key = VECTOR_KINDS[kind][1]
        return int(self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()["value"])

    def text_version(self) -> int:
        """The recipe (pipeline.TEXT_VERSION) the stored caption embeddings were made with."""
        return int(self.conn.execute("SELECT value FROM meta WHERE key = 'text_version'").fetchone()["value"])

    def embedded_texts(self, after: int, limit: int) -> list[tuple[int, str | None, list[Label]]]:
        """(id, caption, labels) of the next `limit` rows with a caption embedding, by id, from after id `after`."""
        sql = "SELECT id, caption, labels FROM images WHERE embedding IS NOT NULL AND id > ? ORDER BY id LIMIT ?"
        return [(r["id"], r["caption"], _labels(r["labels"])) for r in self.conn.execute(sql, (after, limit))]

    def file_states(self, root_id: int) -> dict[str, FileState]:
        rows = self.conn.execute(
            "SELECT id, path, size, mtime_ns, hash, status, offline FROM images WHERE root_id = ?", (root_id,)
        )
        return {state.path: state for state in map(_state, rows)}

    def find_by_hash(self, digest: str) -> FileState | None:
        """An indexed (status ok) row with this content hash, if any."""
        row = self.conn.execute(
            "SELECT id, path, size, mtime_ns, hash, status, offline FROM images WHERE hash = ? AND status = 'ok' "
            "LIMIT 1",
            (digest,),
        ).fetchone()
        return _state(row) if row else None

    def get(self, ids: Iterable[int]) -> dict[int, ImageRecord]:
        out: dict[int, ImageRecord] = {}
        for chunk in _chunks(ids):
            sql = f"SELECT {_COLUMNS} {_FROM} WHERE images.id IN ({','.join('?' * len(chunk))})"
            out.update((r["id"], _record(r)) for r in self.conn.execute(sql, chunk))
        return out

    def find(self, root_id: int, path: str) -> ImageRecord | None:
        sql = f"SELECT {_COLUMNS} {_FROM} WHERE images.root_id = ? AND images.path = ?"
        row = self.conn.execute(sql, (root_id, to_column(path))).fetchone()
        return _record(row) if row else None

    def records(
        self,
        order: str = "path",
        filters: Filters | None = None,
        *,
        limit: int = -1,
        offset: int = 0,
        status: str | None = "ok",
    ) -> list[ImageRecord]:
        """Rows with `status` (None: any) that pass `filters`, sorted by 'path' or by 'date' (newest first)."""
        where, args = _where(filters, status)
        sql = f"SELECT {_COLUMNS} {_FROM} WHERE {where} ORDER BY {_ORDER[order]} LIMIT ? OFFSET ?"
        return [_record(r) for r in self.conn.execute(sql, (*args, limit, offset))]

    def count(self, filters: Filters | None = None, *, status: str | None = "ok") -> int:
        """How many rows `records` would list with the same `filters` and `status`."""
        where, args = _where(filters, status)
        return self.conn.execute(f"SELECT COUNT(*) AS n {_FROM} WHERE {where}", args).fetchone()["n"]

    def filtered_ids(self, filters: Filters | None = None) -> np.ndarray:
        """Ids (int64) of the embedded rows that pass `filters`: the rows a filtered search ranks."""
        where, args = _where(filters, embedded=True)
        ids = [r["id"] for r in self.conn.execute(f"SELECT images.id {_FROM} WHERE {where}", args)]
        return np.fromiter(ids, dtype=np.int64, count=len(ids))

    def fts(self, match: str, limit: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """(id, bm25) for an FTS5 MATCH expression, best first; bm25 is positive here (higher is better).

        With `filters`, only among the rows `filtered_ids` gives for them."""
        within, args = "", []
        if filters is not None:
            where, args = _where(filters, embedded=True)
            within = f"AND rowid IN (SELECT images.id {_FROM} WHERE {where})"
        sql = (
            f"SELECT rowid AS id, -bm25(images_fts, {BM25_WEIGHTS}) AS bm25 FROM images_fts "
            f"WHERE images_fts MATCH ? {within} ORDER BY bm25(images_fts, {BM25_WEIGHTS}) LIMIT ?"
        )
        try:
            return [(r["id"], r["bm25"]) for r in self.conn.execute(sql, (match, *args, limit))]
        except sqlite3.OperationalError:  # a query FTS5 can't parse is simply no lexical evidence
            return []

    def label_counts(self, top: int | None = None) -> list[tuple[str, int]]:
        """How many images have each label as their best guess."""
        sql = (
            "SELECT labels ->> '$[0][0]' AS label, COUNT(*) AS n FROM images WHERE status = 'ok' AND label IS NOT NULL "
            "GROUP BY label ORDER BY n DESC, label LIMIT ?"
        )
        return [(r["label"], r["n"]) for r in self.conn.execute(sql, (top or -1,))]

    def kind_counts(self, top: int | None = None, among: Callable[[str], bool] | None = None) -> list[tuple[str, int]]:
        """How many images each kind (an ancestor of their confident labels: dog, bird, vehicle) takes in, most
        first; only the kinds `among` accepts, if given. A kind that takes in exactly the photos a narrower one does
        (canine, mammal when all are dogs) is left out: it would filter the same photos under a vaguer name."""
        sql = (
            "SELECT json_each.value AS kind, COUNT(*) AS n, AVG(json_each.key) AS depth, MIN(images.id) AS low, "
            "MAX(images.id) AS high, TOTAL(images.id) AS total FROM images, json_each(images.ancestors) "
            "WHERE images.status = 'ok' GROUP BY kind"
        )
        narrowest: dict[tuple, tuple[float, str, int]] = {}  # the same photos (count, ids' sum and range) -> kind
        for r in self.conn.execute(sql):
            if among is not None and not among(r["kind"]):
                continue
            same = (r["n"], r["low"], r["high"], r["total"])
            if same not in narrowest or r["depth"] < narrowest[same][0]:
                narrowest[same] = (r["depth"], r["kind"], r["n"])
        counts = sorted(((kind, n) for _, kind, n in narrowest.values()), key=lambda kn: (-kn[1], kn[0]))
        return counts[:top] if top else counts

    def embeddings(
        self, ids: Iterable[int] | None = None, kind: str = "text", limit: int = -1
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64, vectors float32) of rows with a `kind` embedding: all of them (the first `limit`), or
        those in `ids`."""
        column = LAYOUT_COLUMN if kind == "layout" else VECTOR_KINDS[kind][0]
        select = f"SELECT id, {column} AS vector FROM images WHERE {column} IS NOT NULL"
        if ids is None:
            rows = self.conn.execute(f"{select} ORDER BY id LIMIT ?", (limit,)).fetchall()
        else:
            rows = []
            for chunk in _chunks(ids):
                rows += self.conn.execute(f"{select} AND id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        id_arr = np.fromiter((r["id"] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return id_arr, np.zeros((0, 0), dtype=np.float32)
        return id_arr, np.vstack([_vector(r["vector"]) for r in rows])

    def embedded_ids(self, kind: str = "text") -> np.ndarray:
        column = VECTOR_KINDS[kind][0]
        rows = self.conn.execute(f"SELECT id FROM images WHERE {column} IS NOT NULL").fetchall()
        return np.fromiter((r["id"] for r in rows), dtype=np.int64, count=len(rows))

    def hash_groups(self) -> list[tuple[str, list[int]]]:
        """(hash, ids) for every content hash shared by more than one indexed photo."""
        rows = self.conn.execute(
            "SELECT hash, group_concat(id) AS ids FROM images WHERE status = 'ok' AND hash IS NOT NULL "
            "GROUP BY hash HAVING COUNT(*) > 1"
        )
        return [(r["hash"], sorted(int(i) for i in r["ids"].split(","))) for r in rows]

    def failures(self) -> list[ImageRecord]:
        return self.records(status="failed")

    def offline(self) -> list[ImageRecord]:
        """Photos (indexed or failed) that could not be seen at the last index run, by path."""
        sql = f"SELECT {_COLUMNS} {_FROM} WHERE images.offline IS NOT NULL ORDER BY {_ORDER['path']}"
        return [_record(r) for r in self.conn.execute(sql)]

    # -- writing (call inside transaction()) ----------------------------------------------------------
    def insert(self, root_id: int, item: NewImage) -> int:
        """Write one row. Columns without a value are left out (so NULL): a catalog at an older schema step,
        without the newer columns, takes the rows that don't need them."""
        labels = [(lb.name, None if lb.score is None else round(float(lb.score), 6)) for lb in item.labels]
        machine_labels = None if item.machine_labels is None else _labels_json(item.machine_labels)
        values = {
            "root_id": root_id, "path": to_column(item.path), "name": readable(item.name), "size": item.size,
            "mtime_ns": item.mtime_ns, "hash": item.hash, "width": item.width, "height": item.height,
            "taken_at": item.taken_at, "caption": item.caption, "labels": json.dumps(labels),
            "label_text": ", ".join(n for n, _ in labels), "ancestors": _kinds_of(item.labels),
            "status": "failed" if item.error else "ok",
            "error": item.error and readable(item.error), "embedding": _blob(item.embedding),
            "image_embedding": _blob(item.image_embedding), "layout": _blob(item.layout), "indexed_at": time.time(),
            "machine_caption": item.machine_caption, "machine_labels": machine_labels, "edited_at": item.edited_at,
            "review": item.review, "reviewed_at": item.reviewed_at,
        }  # fmt: skip
        values = {column: value for column, value in values.items() if value is not None}
        sql = f"INSERT INTO images ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})"
        return self.conn.execute(sql, tuple(values.values())).lastrowid

    def delete(self, ids: Iterable[int]) -> None:
        self.conn.executemany("DELETE FROM images WHERE id = ?", ((i,) for i in ids))

    def move(self, image_id: int, path: str, name: str, size: int, mtime_ns: int) -> None:
        self.conn.execute(
            "UPDATE images SET path = ?, name = ?, size = ?, mtime_ns = ? WHERE id = ?",
            (to_column(path), readable(name), size, mtime_ns, image_id),
        )

    def set_offline(self, ids: Iterable[int], reason: str | None) -> None:
        """Mark photos as out of sight for `reason` (their folder could not be read), or back in sight (None)."""
        for chunk in _chunks(ids):
            sql = f"UPDATE images SET offline = ? WHERE id IN ({','.join('?' * len(chunk))})"
            self.conn.execute(sql, (reason, *chunk))

    def set_embedding(self, image_id: int, vector: np.ndarray) -> None:
        """A row's caption embedding, made again (the FAISS generation follows: a trigger)."""
        self.conn.execute("UPDATE images SET embedding = ? WHERE id = ?", (_blob(vector), image_id))

    def set_text_version(self, version: int) -> None:
        self.conn.execute("UPDATE meta SET value = ? WHERE key = 'text_version'", (str(version),))

    def touch(self, image_id: int, size: int, mtime_ns: int) -> None:
        """Same content, new timestamp (e.g. `touch` or a copy that kept the bytes)."""
        self.conn.execute("UPDATE images SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, image_id))

    # -- re-embedding with another text model (`glimpse reembed`) -------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def text_model(self) -> tuple[str, int] | None:
        """(model, dimension) a reembed switched the index to, or None (the manifest's model is the one)."""
        model = self.meta("text_model")
        return (model, int(self.meta("embedding_dim"))) if model else None

    def start_reembed(self, model: str) -> int:
        """Stage embeddings for `model`, keeping what an interrupted run for the same model staged; how many."""
        with self.transaction():
            if self.meta("reembed_model") != model:
                self.conn.execute("DELETE FROM reembed")
                self.conn.execute("UPDATE meta SET value = ? WHERE key = 'reembed_model'", (model,))
        return self.conn.execute("SELECT COUNT(*) AS n FROM reembed").fetchone()["n"]

    def reembed_todo(self, limit: int) -> list[ImageRecord]:
        """Up to `limit` embedded rows whose new embedding is not staged yet."""
        sql = (
            f"SELECT {_COLUMNS} {_FROM} WHERE images.embedding IS NOT NULL "
            "AND images.id NOT IN (SELECT id FROM reembed) ORDER BY images.id LIMIT ?"
        )
        return [_record(r) for r in self.conn.execute(sql, (limit,))]

    def stage(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO reembed (id, embedding) VALUES (?, ?)",
                ((int(i), _blob(v)) for i, v in zip(ids, vectors, strict=True)),
            )

    def finish_reembed(self, model: str, dim: int) -> int:
        """Swap the staged embeddings in, all at once, and record the model; returns the new text epoch."""
        with self.transaction():
            self.conn.execute(
                "UPDATE images SET embedding = (SELECT embedding FROM reembed WHERE reembed.id = images.id) "
                "WHERE id IN (SELECT id FROM reembed)"
            )
            epoch = int(self.meta("text_epoch")) + 1
            settings = {"text_model": model, "embedding_dim": dim, "text_epoch": epoch, "reembed_model": ""}
            self.conn.executemany("UPDATE meta SET value = ? WHERE key = ?", ((str(v), k) for k, v in settings.items()))
            self.conn.execute("DELETE FROM reembed")
        return epoch

    def copy_results(self, source_id: int) -> NewImage:
        """The caption, labels and embedding of an indexed row, to reuse for identical bytes elsewhere."""
        row = self.conn.execute(
            "SELECT width, height, taken_at, caption, labels, embedding, image_embedding, layout, machine_caption, "
            "machine_labels, edited_at FROM images WHERE id = ?",
            (source_id,),
        ).fetchone()
        machine = None if row["machine_labels"] is None else _labels(row["machine_labels"])
        return NewImage(
            path="", name="", width=row["width"], height=row["height"], taken_at=row["taken_at"],
            caption=row["caption"], labels=_labels(row["labels"]), embedding=_vector(row["embedding"]),
            image_embedding=_vector(row["image_embedding"]), layout=_vector(row["layout"]),
            machine_caption=row["machine_caption"], machine_labels=machine, edited_at=row["edited_at"],
        )  # fmt: skip

    # -- curation: a person's captions and labels, their history, review state (call inside transaction()) --
    def set_text(
        self,
        image_id: int,
        caption: str,
        labels: Sequence[Label],
        embedding: np.ndarray,
        edited_at: float | None,
        machine: tuple[str | None, Sequence[Label] | None] = (None, None),
    ) -> None:
        """Give a row new text and its embedding in place (the id stays): a person's (`edited_at`, with the
        models' caption and labels in `machine`), or the models' own again (`edited_at` None). The vector index
        re-reads the row's vector (see `reembedded_since`)."""
        machine_caption, machine_labels = machine
        self.conn.execute(
            "UPDATE images SET caption = ?, labels = ?, label_text = ?, ancestors = ?, embedding = ?, edited_at = ?, "
            "machine_caption = ?, machine_labels = ? WHERE id = ?",
            (
                caption, _labels_json(labels), ", ".join(lb.name for lb in labels), _kinds_of(labels),
                _blob(embedding), edited_at, machine_caption,
                None if machine_labels is None else _labels_json(machine_labels), image_id,
            ),
        )  # fmt: skip
        self.conn.execute(
            "INSERT INTO reembedded (image_id, kind, generation) VALUES (?, 'text', "
            "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'vector_generation'))",
            (image_id,),
        )

    def reembedded_since(self, generation: int, kind: str = "text") -> np.ndarray:
        """Ids of rows whose `kind` vector changed in place after `generation`."""
        rows = self.conn.execute(
            "SELECT DISTINCT image_id FROM reembedded WHERE kind = ? AND generation > ?", (kind, generation)
        ).fetchall()
        return np.fromiter((r["image_id"] for r in rows), dtype=np.int64, count=len(rows))

    def add_edit(self, image_id: int, before: ImageRecord, caption: str, labels: Sequence[Label], at: float) -> None:
        """Keep the text an edit replaces, for `last_edit` / undo."""
        self.conn.execute(
            "INSERT INTO edits (image_id, at, caption_before, labels_before, edited_at_before, review_before, "
            "caption, labels) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                image_id, at, before.caption, _labels_json(before.labels), before.edited_at, before.review, caption,
                _labels_json(labels),
            ),
        )  # fmt: skip

    def last_edit(self, image_id: int) -> dict | None:
        """The newest edit of a row: its id, when, and the caption, labels, edited_at and review it replaced."""
        row = self.conn.execute(
            "SELECT id, at, caption_before, labels_before, edited_at_before, review_before FROM edits "
            "WHERE image_id = ? ORDER BY id DESC LIMIT 1",
            (image_id,),
        ).fetchone()
        if row is None:
            return None
        return {**dict(row), "labels_before": _labels(row["labels_before"])}

    def edit_history(self, image_id: int) -> list[dict]:
        rows = self.conn.execute(
            "SELECT id, at, caption_before, caption FROM edits WHERE image_id = ? ORDER BY id", (image_id,)
        )
        return [dict(r) for r in rows]

    def drop_edit(self, edit_id: int) -> None:
        self.conn.execute("DELETE FROM edits WHERE id = ?", (edit_id,))

    def follow_edits(self, old_id: int, new_id: int) -> None:
        """A re-indexed photo got a new row: its edit history (and what export wrote) goes with it."""
        self.conn.execute("UPDATE edits SET image_id = ? WHERE image_id = ?", (new_id, old_id))
        self.conn.execute("UPDATE exported_keywords SET image_id = ? WHERE image_id = ?", (new_id, old_id))

    def set_review(self, image_id: int, state: str | None, at: float | None) -> None:
        self.conn.execute("UPDATE images SET review = ?, reviewed_at = ? WHERE id = ?", (state, at, image_id))

    def review_counts(self) -> dict[str, int]:
        """Indexed rows by review state: approved, edited, skipped, unreviewed; and `human`, those a person wrote."""
        rows = self.conn.execute(
            "SELECT COALESCE(review, 'unreviewed') AS state, COUNT(*) AS n FROM images WHERE status = 'ok' "
            "GROUP BY state"
        )
        counts = {state: 0 for state in (*REVIEW_STATES, "unreviewed")} | {r["state"]: r["n"] for r in rows}
        human = "SELECT COUNT(*) AS n FROM images WHERE status = 'ok' AND edited_at IS NOT NULL"
        reviewed = sum(counts[s] for s in REVIEW_STATES)
        return {**counts, "reviewed": reviewed, "human": self.conn.execute(human).fetchone()["n"]}

    def exported_keywords(self, ids: Iterable[int]) -> dict[int, dict[str, list[str]]]:
        """The keywords glimpse added to each photo's sidecar at its last export, by XMP tag."""
        out: dict[int, dict[str, list[str]]] = {}
        for chunk in _chunks(ids):
            sql = f"SELECT image_id, keywords FROM exported_keywords WHERE image_id IN ({','.join('?' * len(chunk))})"
            out.update((r["image_id"], json.loads(r["keywords"])) for r in self.conn.execute(sql, chunk))
        return out

    def set_exported_keywords(self, image_id: int, keywords: dict[str, list[str]], at: float) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO exported_keywords (image_id, keywords, at) VALUES (?, ?, ?)",
            (image_id, json.dumps(keywords, ensure_ascii=False), at),
        )

    def curated(self, only: str) -> list[ImageRecord]:
        """Indexed photos (not imported captions) to export: 'all', 'approved' (reviewed and approved) or
        'edited' (a person wrote the caption or labels), by path."""
        where = {"all": "1", "approved": "images.review = 'approved'", "edited": "images.edited_at IS NOT NULL"}[only]
        sql = (
            f"SELECT {_COLUMNS} {_FROM} WHERE images.status = 'ok' AND roots.path != ? AND {where} "
            f"ORDER BY {_ORDER['path']}"
        )
        return [_record(r) for r in self.conn.execute(sql, (IMPORT_ROOT,))]
