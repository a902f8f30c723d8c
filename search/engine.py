"""Hybrid search: dense (MiniLM cosine over FAISS) ranking, lifted by exact-word evidence from FTS5/BM25.

Scoring, measured on shared/eval (see README):

    score = cosine(query, caption + labels) + LEXICAL_WEIGHT * bm25 / max_bm25_of_this_query

The cosine carries the meaning; the lexical term is a bounded nudge (at most LEXICAL_WEIGHT) for candidates
whose caption, labels and file name together contain *all* the query's words (porter-stemmed), and it brings
in items the dense top-N missed (an ImageNet label, a file name, a rare word). Requiring every word keeps one
shared word ("tropical" in "tropical bird") from outranking the right photo; an OR of the words measured
worse than dense-only at this weight. Rank fusion (RRF) loses to dense-only too, because it throws away how
far apart the cosines are. `score` stays on the cosine scale, so thresholds mean the same for every
query. Photos below MIN_SCORE are not listed unless they match the words; whether the query has a good match at
all is judged per query (confidence.py). A query with no good match still gets its NEAREST closest photos, with
`no_good_match` set, so a library with photos never answers with nothing.

The lexical side also searches the kinds of a photo's labels (indexer/hierarchy.py): "dog" finds a photo whose
caption never says dog but whose label is golden retriever, and `Hit.kinds` says why.

Filters (label, folder, capture date, `-word` exclusions; see filters.py) restrict both candidate searches to
the rows that pass them, so they never change how the remaining photos are scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from glimpse.indexer.catalog import ImageRecord
from glimpse.indexer.models import TextEmbedder
from glimpse.indexer.names import readable
from glimpse.indexer.store import IndexStore
from glimpse.indexer.types import Filters

from .confidence import no_good_match
from .explain import WORD, explain
from .filters import dense_within, split_exclusions

LEXICAL_WEIGHT = 0.2
MIN_SCORE = 0.3  # below this cosine, a photo is not a good match for the query
CANDIDATES = 200  # dense and lexical candidates considered per query
NEAREST = 5  # photos shown, flagged as no good match, for a query that matches nothing well

STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the their there this to was were "
    "with photo photos picture pictures image images show me some".split()
)


@dataclass
class Hit:
    id: int
    path: str  # full path for photos, the given id for imported captions; fit to show (see names.readable)
    caption: str | None
    labels: list[tuple[str, float | None]]
    score: float | None = None  # what the ranking used (cosine + lexical nudge); None when browsing
    semantic: float | None = None  # cosine similarity of query and caption text (image similarity: find similar)
    matched: dict[str, list[str]] = field(default_factory=dict)  # {"caption"|"labels"|"name"|"kind": query words}
    kinds: list[str] = field(default_factory=list)  # why a "kind" word matched: "dog: golden retriever is a dog"
    taken_at: str | None = None  # EXIF capture time
    date: str | None = None  # what date filters use: the EXIF capture time, else the file's mtime (local time)
    date_source: str | None = None  # "exif", "file" (mtime) or None (imported captions)
    file: Path | None = None  # the image file, exactly (its name may not be UTF-8); None for imported captions
    size: tuple[int, int] | None = None  # (width, height) in pixels, when known
    offline: bool = False  # the file could not be seen at the last index run (see ImageRecord.offline)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["file"] = readable(str(self.file)) if self.file else None
        d["size"] = list(self.size) if self.size else None
        d["labels"] = [{"name": n, "score": s} for n, s in self.labels]
        d["score"], d["semantic"] = (None if v is None else round(v, 4) for v in (self.score, self.semantic))
        return d


@dataclass
class SearchResults:
    query: str
    hits: list[Hit]
    no_good_match: bool
    filters: Filters = field(default_factory=Filters)

    def as_dict(self) -> dict:
        return {
            "query": self.query,
            "no_good_match": self.no_good_match,
            "filters": self.filters.as_dict(),
            "results": [h.as_dict() for h in self.hits],
        }


def query_terms(query: str) -> list[str]:
    words = [w.lower() for w in WORD.findall(query)]
    return [w for w in words if w not in STOPWORDS] or words


def fts_expression(terms: list[str]) -> str | None:
    """An FTS5 MATCH expression: all of the words (quoted, so no word is read as an operator)."""
    if not terms:
        return None
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)


class Searcher:
    def __init__(self, store: IndexStore, embedder: TextEmbedder):
        self.store = store
        self.embedder = embedder

    def search(
        self, query: str, k: int = 10, min_score: float | None = MIN_SCORE, filters: Filters | None = None
    ) -> SearchResults:
        """The best `k` photos for `query` among those passing `filters`; `-word` in the query excludes a word.

        With `min_score=None`, every candidate is ranked (for evaluation). A query that is not valid Unicode (a lone
        surrogate, an undecodable byte from argv) is searched, and answered, with U+FFFD in their place.
        """
        query = readable(query).strip()
        text, excluded = split_exclusions(query)
        filters = filters or Filters()
        if excluded:
            filters = replace(filters, exclude=tuple(dict.fromkeys(filters.exclude + excluded)))
        if not text:
            return SearchResults(query, [], no_good_match=True, filters=filters)
        qvec = self.embedder.embed_queries([text])[0]
        scores = self._candidates(qvec, text, max(k, CANDIDATES), filters)
        if not scores:
            return SearchResults(query, [], no_good_match=True, filters=filters)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1][0])
        no_good = no_good_match([sem for _, (_, sem, _) in ranked], any(lex > 0 for _, (_, _, lex) in ranked))
        if min_score is not None and no_good:  # never an empty answer while there are photos: the nearest few
            ranked = ranked[: min(k, NEAREST)]
        elif min_score is not None:
            ranked = [(i, v) for i, v in ranked if v[1] >= min_score or v[2] > 0]
        ranked = ranked[:k]
        records = self.store.catalog.get(i for i, _ in ranked)
        terms = query_terms(text)
        hits = [hit_for(records[i], score, sem, terms) for i, (score, sem, _) in ranked if i in records]
        return SearchResults(query, hits, no_good_match=no_good, filters=filters)

    def _candidates(
        self, qvec: np.ndarray, query: str, n: int, filters: Filters
    ) -> dict[int, tuple[float, float, float]]:
        """id -> (score, cosine, normalized bm25) for the dense top-n and the lexical top-n (within `filters`)."""
        catalog, vectors = self.store.catalog, self.store.vectors()
        expr = fts_expression(query_terms(query))
        if filters.active:
            allowed = catalog.filtered_ids(filters)
            if not len(allowed):
                return {}
            sims, ids = dense_within(vectors, qvec, n, allowed)
        else:
            sims, ids = vectors.search(qvec[None, :], n)
            sims, ids = sims[0], ids[0]
        lexical = dict(catalog.fts(expr, n, filters if filters.active else None)) if expr else {}
        semantic = {int(i): float(s) for i, s in zip(ids, sims, strict=True) if i >= 0}
        if lexical:
            top = max(lexical.values()) or 1.0
            lexical = {i: max(0.0, b) / top for i, b in lexical.items()}
            missing = [i for i in lexical if i not in semantic]
            if missing:
                got_ids, got = catalog.embeddings(missing)
                if len(got_ids):
                    semantic.update(zip(got_ids.tolist(), (got @ qvec).tolist(), strict=True))
        return {
            i: (sem + LEXICAL_WEIGHT * lexical.get(i, 0.0), sem, lexical.get(i, 0.0)) for i, sem in semantic.items()
        }


def hit_for(
    record: ImageRecord, score: float | None = None, semantic: float | None = None, terms: Sequence[str] = ()
) -> Hit:
    """A record as a result: with its scores for a search or look-alikes, without them for browsing."""
    matched, kinds = explain(record, list(terms))
    full_path = record.full_path
    return Hit(
        id=record.id,
        path=readable(str(full_path) if full_path else record.path),
        caption=record.caption,
        labels=[(lb.name, lb.score) for lb in record.labels],
        score=score,
        semantic=semantic,
        matched=matched,
        kinds=list(dict.fromkeys(kinds.values())),
        taken_at=record.taken_at,
        date=record.date,
        date_source=record.date_source,
        file=full_path,
        size=(record.width, record.height) if record.width and record.height else None,
        offline=record.offline is not None,
    )
