"""The `Catalog` class: lifetime, migrations, roots, reading, writing (see the package's docstring)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import IndexCorrupt, SchemaTooNew, StorageError
from ..names import from_column, readable, to_column
from ..types import IMPORT_ROOT, FileState, Filters, ImageRecord, Label, NewImage
from .curation import Curation
from .rows import (
    _COLUMNS,
    _FROM,
    _ORDER,
    BM25_WEIGHTS,
    LAYOUT_COLUMN,
    VECTOR_KINDS,
    _blob,
    _chunks,
    _kinds,
    _kinds_of,
    _labels,
    _labels_json,
    _record,
    _state,
    _vector,
    _where,
)
from .schema import MIGRATIONS


class Catalog(Curation):
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
            self._columns = {r["name"] for r in self.conn.execute("PRAGMA table_info(images)")}
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
        """Write one row. Columns without a value are left out (so NULL), and so are columns the catalog's schema
        step does not have yet (a catalog written by an older glimpse, opened read-only or being migrated)."""
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
        values = {column: value for column, value in values.items() if value is not None and column in self._columns}
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
