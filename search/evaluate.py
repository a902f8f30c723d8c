"""Retrieval quality for queries with known relevant items.

- recall@k: the share of queries with at least one relevant item in the top k (as in shared/eval's reference
  figures; for a query with one relevant item it is plain recall);
- mrr@10: the mean of 1/rank of the first relevant item, 0 when it is not in the top 10;
- for queries with many relevant items (the kinds eval: "dog" and every breed), how many of them come back:
  item_recall@10, the share of a query's relevant items in its top 10 (of at most 10), and precision@5, the share
  of its top 5 that are relevant (of at most as many as it has relevant items).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from glimpse.indexer.jsonl import read_jsonl

from .engine import Hit, Searcher

METRICS = ("recall@1", "recall@5", "mrr@10", "item_recall@10", "precision@5")


def _matches(hit: Hit, wanted: str) -> bool:
    """A relevant id names a hit by its import id, its full path, or its path relative to the library."""
    return hit.path == wanted or hit.path.endswith("/" + wanted.lstrip("/")) or Path(hit.path).name == wanted


def evaluate(searcher: Searcher, queries: list[dict]) -> dict:
    """Metrics over all queries, plus the same broken down by the queries' `lang` when they have one."""
    per_query = []
    for q in queries:
        hits = searcher.search(q["query"], k=10, min_score=None).hits
        relevant = list(q["relevant"])
        ranks = [next((r for r, h in enumerate(hits, 1) if _matches(h, rel)), None) for rel in relevant]
        first = min((r for r in ranks if r), default=None)
        found = [r for r in ranks if r]
        per_query.append({
            "query": q["query"],
            "lang": q.get("lang"),
            "recall@1": float(bool(first and first <= 1)),
            "recall@5": float(bool(first and first <= 5)),
            "mrr@10": 1.0 / first if first else 0.0,
            "item_recall@10": sum(r <= 10 for r in found) / min(len(relevant), 10),
            "precision@5": sum(r <= 5 for r in found) / min(len(relevant), 5),
            "top": hits[0].path if hits else None,
        })  # fmt: skip
    result = _aggregate(per_query)
    langs = defaultdict(list)
    for row in per_query:
        if row["lang"]:
            langs[row["lang"]].append(row)
    if len(langs) > 1:
        result["by_lang"] = {lang: _aggregate(rows) for lang, rows in sorted(langs.items())}
    result["queries"] = per_query
    return result


def _aggregate(rows: list[dict]) -> dict:
    n = len(rows)
    return {
        "n": n,
        **{key: round(sum(r[key] for r in rows) / n, 4) if n else 0.0 for key in METRICS},
    }


def load_queries(path: Path) -> tuple[list[dict], list[tuple[int, str]]]:
    good, bad = read_jsonl(path, required=("query",))
    queries = []
    for number, obj in good:
        relevant = obj.get("relevant")
        if not isinstance(relevant, list) or not relevant or not all(isinstance(r, str) for r in relevant):
            bad.append((number, "relevant must be a non-empty list of ids"))
            continue
        queries.append(obj)
    return queries, sorted(bad)
