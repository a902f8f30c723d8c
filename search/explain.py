"""Why a photo matched: which of the query's words appear in its caption, labels or file name, and which name a
kind of thing its labels are ("dog: golden retriever is a dog", from the ImageNet hierarchy: indexer/hierarchy.py)."""

from __future__ import annotations

import re

from glimpse.indexer.catalog import ImageRecord
from glimpse.indexer.hierarchy import kind_reasons

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
    """{field: query words found in it} for the fields caption, labels, name and kind (the words found in none of
    those that name a kind of its confident labels: see `kinds_matched`); fields without a match omitted."""
    return explain(record, terms)[0]


def explain(record: ImageRecord, terms: list[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """`matched_words` and `kinds_matched` at once (a search result shows both): the fields looked up once."""
    out = _found(record, terms)
    if kinds := kinds_matched(record, terms, out):
        out["kind"] = list(kinds)
    return out, kinds


def kinds_matched(record: ImageRecord, terms: list[str], found: dict[str, list[str]] | None = None) -> dict[str, str]:
    """{query word: "dog: golden retriever is a dog"} for the query words that name a kind of the photo's labels,
    among those not `found` in its caption, labels or file name (default: looked up here)."""
    found = _found(record, terms) if found is None else found
    seen = {w for words in found.values() for w in words}
    return kind_reasons(record.labels, [t for t in terms if t not in seen], _norm)


def _found(record: ImageRecord, terms: list[str]) -> dict[str, list[str]]:
    """{field: query words in it} for caption, labels and file name."""
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
