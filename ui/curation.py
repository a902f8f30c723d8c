"""What people do with their photos after indexing, for both front-ends: correct captions and labels (with
history and undo), review them, export them to other tools, give photos descriptive names. A mixin of
`Library` (library.py), whose store, lock and models it uses; the work itself is in indexer/curate.py,
indexer/export.py and indexer/rename.py."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from glimpse.indexer.catalog import ImageRecord
from glimpse.indexer.errors import NotInIndex
from glimpse.indexer.store import IndexStore

from .ids import _names_an_id, photo_id


class Curation:
    # -- curation: a person's captions and labels, review -------------------------------------------------
    def resolve(self, ref: int | str | os.PathLike) -> int:
        """The photo id `ref` names: an id, or the path of an indexed photo. NotInIndex when none."""
        if _names_an_id(ref):
            return photo_id(ref)
        path = Path(ref).expanduser().resolve()
        with self._lock:
            catalog = self._open().catalog
            for root in catalog.roots():
                if path.is_relative_to(root):
                    record = catalog.find(catalog.root_id(root), path.relative_to(root).as_posix())
                    if record is not None:
                        return record.id
        raise NotInIndex(f"{path} is not an indexed photo")

    def edit(
        self,
        ref: int | str | os.PathLike,
        caption: str | None = None,
        add_labels: Sequence[str] = (),
        remove_labels: Sequence[str] = (),
    ) -> ImageRecord:
        """Set a photo's caption and labels as a person's: re-embedded at once (the next search finds the new
        words), kept by re-index and import, the old text kept for `undo_edit`. See indexer/curate.py."""
        from glimpse.indexer import curate

        image_id = self.resolve(ref)
        with self._editing() as store:
            return curate.edit(store, self.models.embedder, image_id, caption, add_labels, remove_labels)

    def undo_edit(self, ref: int | str | os.PathLike) -> ImageRecord:
        """Bring back the caption and labels the photo's last edit replaced."""
        from glimpse.indexer import curate

        image_id = self.resolve(ref)
        with self._editing() as store:
            return curate.undo(store, self.models.embedder, image_id)

    def set_review(self, ref: int | str | os.PathLike, state: str | None) -> ImageRecord:
        """Mark a photo 'approved', 'edited' or 'skipped' (None: not reviewed yet)."""
        from glimpse.indexer import curate

        image_id = self.resolve(ref)
        with self._editing(embeds=False) as store:
            return curate.set_review(store, image_id, state)

    def edit_history(self, ref: int | str | os.PathLike) -> list[dict]:
        image_id = self.resolve(ref)
        with self._lock:
            return self._open().catalog.edit_history(image_id)

    # -- export -------------------------------------------------------------------------------------------
    def export_sidecars(self, only: str = "all", name: str = "jpg.xmp", dry_run: bool = False):
        """Merge an XMP sidecar beside each photo (`only`: all, approved, edited); see indexer/export.py."""
        from glimpse.indexer import export

        tool = export.ExifTool()  # missing: fails before anything is opened
        if dry_run:
            with self._lock:
                return export.export_sidecars(self._open(), only, name, dry_run=True, tool=tool)
        with self._editing(embeds=False) as store:
            return export.export_sidecars(store, only, name, tool=tool)

    def export_file(self, target: str | os.PathLike, kind: str, only: str = "all") -> int:
        """Write every photo's fields to `target`: kind 'csv' (exiftool's layout) or 'json'. Returns the rows."""
        from glimpse.indexer import export

        write = {"csv": export.write_csv, "json": export.write_json}[kind]
        with self._lock:
            return write(self._open(), Path(target), only)

    def embed_metadata(self, only: str = "all", overwrite_original: bool = False, dry_run: bool = False):
        """Write the fields into the image files themselves, through exiftool (pixels untouched)."""
        from glimpse.indexer import export

        tool = export.ExifTool()
        with self._lock:
            return export.embed_in_images(self._open(), only, overwrite_original, dry_run, tool=tool)

    # -- descriptive file names ----------------------------------------------------------------------------
    def rename_plan(self, template: str | None = None):
        """(renames, skipped): the descriptive name each photo would get (indexer/rename.py); nothing renamed."""
        from glimpse.indexer import rename

        with self._lock:
            return rename.plan(self._open(), template or rename.DEFAULT_TEMPLATE)

    def rename(self, template: str | None = None):
        """Rename the photos (and their sidecars) to their descriptive names, with an undo journal; the index
        is updated in place (same ids, captions and edits). Returns (done, skipped)."""
        from glimpse.indexer import rename

        with self._editing(embeds=False) as store:
            renames, skipped = rename.plan(store, template or rename.DEFAULT_TEMPLATE)
            done, failed = rename.apply(store, renames)
        return done, skipped + failed

    def undo_rename(self):
        """Put back every name the last `rename` changed. Returns (restored, failed)."""
        from glimpse.indexer import rename

        with self._editing(embeds=False) as store:
            return rename.undo(store)

    @contextmanager
    def _editing(self, embeds: bool = True) -> Iterator[IndexStore]:
        """The index opened for writing under its writer lock, for one change; the read-only store this library
        searches sees it at once (the catalog's generation moved)."""
        with self._lock:
            if embeds:
                self._check_text_model(self._open())
            else:
                self._open()
            with IndexStore.open(self.index_dir, readonly=False) as store, store.writer_lock():
                yield store
