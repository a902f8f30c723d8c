"""Search filters, applied inside the search rather than by cutting the ranked list afterwards.

A filter (`Filters`, kept with the catalog's types) narrows the set of catalog rows a query may return: a label,
a folder (path prefix), a capture-date range (EXIF `taken_at`, else the file's modification time, in local time)
and excluded words (`-word` in the query, matched like the query's own words: porter-stemmed over caption,
labels and file name). The catalog decides which rows pass (`Catalog.filtered_ids`, `Catalog.fts`); the dense
search then runs over exactly that set (a FAISS id selector) and so does the lexical one, so a filtered query
still returns `k` results whenever `k` photos pass the filters.
"""

from __future__ import annotations

import re

import numpy as np
from glimpse.indexer.types import Filters
from glimpse.indexer.vectors import VectorIndex, normalize

__all__ = ["Filters", "dense_within", "split_exclusions"]

_EXCLUDED = re.compile(r"(?<!\S)-(\w[\w'-]*)", re.UNICODE)


def split_exclusions(query: str) -> tuple[str, tuple[str, ...]]:
    """`"beach -dog -people"` -> `("beach", ("dog", "people"))`. A hyphen inside a word is kept."""
    excluded = tuple(dict.fromkeys(w.lower() for w in _EXCLUDED.findall(query)))
    if not excluded:
        return query, ()
    return " ".join(_EXCLUDED.sub(" ", query).split()), excluded


def dense_within(vectors: VectorIndex, qvec: np.ndarray, n: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the best `n` vectors among `ids` only, like `VectorIndex.search` for one query."""
    sims, found = vectors.search(normalize(qvec), n, within=ids)
    return sims[0], found[0]
