"""Why a photo matched: which of the query's words appear in its caption, labels or file name."""

from __future__ import annotations

import re

from glimpse.indexer.catalog import ImageRecord

WORD = re.compile(r"\w+", re.UNICODE)


def _norm(word: str) -> str:
    """Lower case and a light plural strip, so 'dogs' matches 'dog' (FTS5 uses the full porter stemmer)."""
    word = word.lower()
    if len(word) > 4 and word.endswith("es"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def matched_words(record: ImageRecord, terms: list[str]) -> dict[str, list[str]]:
    """{field: query words found in it} for the fields caption, labels and name; fields without a match omitted."""
    wanted = {_norm(t): t for t in terms}
    fields = {
        "caption": record.caption or "",
        "labels": " ".join(lb.name for lb in record.labels),
        "name": record.name.rsplit(".", 1)[0].replace("_", " ").replace("-", " "),
    }
    out = {}
    for field, text in fields.items():
        found = {_norm(w) for w in WORD.findall(text)}
        words = [t for n, t in wanted.items() if n in found]
        if words:
            out[field] = words
    return out
