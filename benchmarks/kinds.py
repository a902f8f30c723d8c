"""Kinds of labels (the ImageNet hierarchy) in search, measured: with and without them, and embedded or not.

    python benchmarks/kinds.py

Imports `data/eval/kinds-corpus.jsonl` (40 photos described as a captioner and a classifier would: many captions
never name what the labels say, "a brown animal on the sand" for a golden retriever) and the shared eval's corpus,
with the real MiniLM, and scores three ways of indexing them:

- without kinds: the labels' ancestors are nowhere (glimpse before the hierarchy);
- kinds searchable only: the ancestors of the confident labels are words full-text search finds;
- glimpse: the same, and their nearest KINDS_IN_TEXT (3) also appended to the text that is embedded;
  "embedded, nearest N" tries another number (give variants as arguments to run only those).

For `data/eval/kinds.jsonl` (dog, cats, a big cat, bird, vehicles, car, fruit, coffee: every relevant photo
listed) it reports item_recall@10 and precision@5; for the shared eval's queries (`data/eval/queries.jsonl`),
R@1, R@5 and MRR@10, which must not fall. The same for the held-out set (`data/eval/holdout/`).
"""

from __future__ import annotations

import functools
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import benchmarks.common  # noqa: E402,F401 - offline settings, the repository on sys.path

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "data" / "eval"
VARIANTS = ("without kinds", "kinds searchable only", "embedded, nearest 1", "embedded, nearest 6", "glimpse")
SETS = [  # (name, corpus, queries, metrics)
    ("kinds", EVAL / "kinds-corpus.jsonl", EVAL / "kinds.jsonl", ("item_recall@10", "precision@5")),
    ("shared", EVAL / "corpus.jsonl", EVAL / "queries.jsonl", ("recall@1", "recall@5", "mrr@10")),
    (
        "holdout",
        EVAL / "holdout" / "corpus.jsonl",
        EVAL / "holdout" / "queries.jsonl",
        ("recall@1", "recall@5", "mrr@10"),
    ),
]


def variant(name: str, stack: ExitStack) -> None:
    """Index as `name` says (glimpse's own way: kinds searchable and their nearest KINDS_IN_TEXT embedded)."""
    from glimpse.indexer import catalog, importer, pipeline

    if name in ("without kinds", "kinds searchable only"):  # the text embedded as before: caption and labels
        stack.enter_context(
            mock.patch.object(importer, "document_text", functools.partial(pipeline.document_text, version=1))
        )
    if name == "without kinds":
        stack.enter_context(mock.patch.object(catalog, "kinds", lambda labels: []))
    if name.startswith("embedded, nearest "):
        stack.enter_context(mock.patch.object(pipeline, "KINDS_IN_TEXT", int(name.split()[-1])))


def main() -> None:
    from glimpse.indexer.models import TextEmbedder
    from glimpse.indexer.store import IndexStore
    from glimpse.search import Searcher
    from glimpse.search.evaluate import evaluate, load_queries

    embedder = TextEmbedder().load()
    work = Path(tempfile.mkdtemp(prefix="glimpse-kinds-"))
    for name in sys.argv[1:] or VARIANTS:
        with ExitStack() as stack:
            variant(name, stack)
            cells = []
            for label, corpus, queries, metrics in SETS:
                if not corpus.is_file():
                    continue
                from glimpse.indexer.importer import import_jsonl

                folder = work / f"{name.replace(' ', '-')}-{label}"
                with IndexStore.open_or_create(folder, {"text": embedder.name}, embedder.dim) as store:
                    import_jsonl(corpus, store, embedder)
                with IndexStore.open(folder) as store:
                    result = evaluate(Searcher(store, embedder), load_queries(queries)[0])
                cells.append(f"{label}: " + " ".join(f"{m} {result[m]:.3f}" for m in metrics))
                if label == "kinds" and name == VARIANTS[-1]:
                    worst = sorted(result["queries"], key=lambda q: q["item_recall@10"])[:3]
                    cells.append("  lowest: " + "; ".join(f"{q['query']!r} {q['item_recall@10']:.2f}" for q in worst))
        print(f"{name:<20} " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
