"""`glimpse import`: index captions a user already has (alt text, a CMS export) from a JSONL file.

Each line is `{"id": "...", "caption": "...", "labels": ["...", ...]}`; `id` may be a path. Imported items
live under a pseudo-root and are searched exactly like photos. Re-importing an id replaces its row when the
caption or labels changed; a caption or labels a person edited (`glimpse edit`) are kept, the imported ones stored
beside them. Malformed lines are reported with their line number and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .catalog import IMPORT_ROOT, NewImage
from .jsonl import read_jsonl
from .models import Embedder
from .pipeline import document_text, refresh_embeddings
from .store import IndexStore
from .types import Label


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": [{"line": n, "reason": r} for n, r in self.skipped],
        }


def _labels(obj: dict) -> list[Label] | None:
    raw = obj.get("labels", [])
    if not isinstance(raw, list):
        return None
    labels = []
    for item in raw:
        if isinstance(item, str):
            labels.append(Label(item, None))
        elif isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str):
            labels.append(Label(item[0], float(item[1])))
        else:
            return None
    return labels


def import_jsonl(path: Path, store: IndexStore, embedder: Embedder, batch_size: int = 256) -> ImportSummary:
    summary = ImportSummary()
    good, summary.skipped = read_jsonl(path, required=("id", "caption"))
    with store.writer_lock():
        catalog = store.catalog
        refresh_embeddings(store, embedder, batch_size)
        root_id = catalog.root_id(IMPORT_ROOT, create=True)
        rows: list[tuple[NewImage, int | None]] = []
        latest = {obj["id"].strip(): number for number, obj in good}  # a repeated id: the last line wins
        for number, obj in good:
            if latest[obj["id"].strip()] != number:
                summary.skipped.append((number, f"id {obj['id'].strip()!r} appears again later in the file"))
                continue
            labels = _labels(obj)
            if labels is None:
                summary.skipped.append((number, "labels must be a list of strings"))
                continue
            item_id, caption = obj["id"].strip(), obj["caption"].strip()
            existing = catalog.find(root_id, item_id)
            row = NewImage(path=item_id, name=Path(item_id).name, caption=caption, labels=labels)
            if existing and existing.human:  # a person's caption stays; the imported one goes beside it
                if existing.machine_caption == caption and existing.machine_labels == labels:
                    summary.unchanged += 1
                    continue
                row.machine_caption, row.machine_labels = caption, labels
                row.caption, row.labels = existing.caption, existing.labels
                row.edited_at, row.review, row.reviewed_at = existing.edited_at, existing.review, existing.reviewed_at
            elif existing and existing.caption == caption and existing.labels == labels:
                summary.unchanged += 1
                continue
            rows.append((row, existing.id if existing else None))
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            vectors = embedder.embed_documents([document_text(r.caption, r.labels) for r, _ in batch])
            with catalog.transaction():
                for (row, old_id), vector in zip(batch, vectors, strict=True):
                    row.embedding = vector
                    if old_id is not None:
                        catalog.delete([old_id])
                        summary.updated += 1
                    else:
                        summary.added += 1
                    new_id = catalog.insert(root_id, row)
                    if old_id is not None:
                        catalog.follow_edits(old_id, new_id)
        store.save_vectors()
    summary.skipped.sort()
    return summary
