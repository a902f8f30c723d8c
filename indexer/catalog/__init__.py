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

from ..types import IMPORT_ROOT, FileState, ImageRecord, NewImage
from .core import Catalog
from .rows import BM25_WEIGHTS, REVIEW_STATES, VECTOR_KINDS
from .schema import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "BM25_WEIGHTS", "IMPORT_ROOT", "MIGRATIONS", "REVIEW_STATES", "SCHEMA_VERSION", "VECTOR_KINDS", "Catalog",
    "FileState", "ImageRecord", "NewImage",
]  # fmt: skip
