"""The catalog's statements for what people do with their photos after indexing: edits and their history,
review states, exported keywords (issue 11), and switching the text model (`glimpse reembed`). A mixin of
`Catalog`: every method runs on its connection, like the rest of the catalog's."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

import numpy as np

from ..types import IMPORT_ROOT, ImageRecord, Label
from .rows import _COLUMNS, _FROM, _ORDER, REVIEW_STATES, _blob, _chunks, _kinds_of, _labels, _labels_json, _record


class Curation:
    conn: sqlite3.Connection

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
