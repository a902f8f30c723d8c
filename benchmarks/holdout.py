"""The "no good match" signal on data it was not tuned on: the held-out set beside the development set.

    python benchmarks/holdout.py

search/confidence.py's thresholds were chosen on the development set (`data/eval/corpus.jsonl` with
`queries.jsonl` and `offtopic.jsonl`). `data/eval/holdout/` is a second, separate set written afterwards: 40 other
captions, 40 queries that each have one answer, and 20 off-topic queries nothing in it answers (checked by hand).
For both sets, with the real MiniLM, this prints retrieval (R@1, R@5, MRR@10) and how the flag does: precision
(flagged queries that are off-topic) and recall (off-topic queries flagged), beside a fixed 0.30 cutoff alone.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import benchmarks.common  # noqa: E402,F401 - offline settings, the repository on sys.path

EVAL = Path(__file__).resolve().parent.parent / "data" / "eval"
SETS = {
    "development": (EVAL / "corpus.jsonl", EVAL / "queries.jsonl", EVAL / "offtopic.jsonl"),
    "held-out": (
        EVAL / "holdout" / "corpus.jsonl",
        EVAL / "holdout" / "queries.jsonl",
        EVAL / "holdout" / "offtopic.jsonl",
    ),
}


def rates(flag_off: int, flag_on: int, n_off: int) -> str:
    precision = flag_off / (flag_off + flag_on) if flag_off + flag_on else 1.0
    return f"precision {precision:.2f} recall {flag_off / n_off:.2f} ({flag_off}/{n_off} off-topic, {flag_on} real)"


def main() -> None:
    from glimpse.indexer.importer import import_jsonl
    from glimpse.indexer.models import TextEmbedder
    from glimpse.indexer.store import IndexStore
    from glimpse.search import Searcher
    from glimpse.search.confidence import FLOOR
    from glimpse.search.evaluate import evaluate, load_queries

    embedder = TextEmbedder().load()
    work = Path(tempfile.mkdtemp(prefix="glimpse-holdout-"))
    for name, (corpus, queries, offtopic) in SETS.items():
        folder = work / name
        with IndexStore.open_or_create(folder, {"text": embedder.name}, embedder.dim) as store:
            import_jsonl(corpus, store, embedder)
        real = load_queries(queries)[0]
        off = [json.loads(line)["query"] for line in offtopic.read_text().splitlines() if line.strip()]
        with IndexStore.open(folder) as store:
            searcher = Searcher(store, embedder)
            metrics = evaluate(searcher, real)
            on_results = [searcher.search(q["query"]) for q in real]
            off_results = [searcher.search(q) for q in off]
        flag = sum(r.no_good_match for r in off_results), sum(r.no_good_match for r in on_results)

        def weak(results):
            return sum(not r.hits or max(h.semantic for h in r.hits) < FLOOR for r in results)

        print(f"{name} ({len(real)} queries, {len(off)} off-topic):")
        print("  retrieval: " + "  ".join(f"{k} {metrics[k]:.3f}" for k in ("recall@1", "recall@5", "mrr@10")))
        print(f"  no good match (glimpse):    {rates(*flag, len(off))}")
        print(f"  fixed {FLOOR:.2f} cutoff alone:    {rates(weak(off_results), weak(on_results), len(off))}")
        shown = [len(r.hits) for r in off_results if r.no_good_match]
        print(f"  flagged queries still show {min(shown, default=0)}-{max(shown, default=0)} closest photos")


if __name__ == "__main__":
    main()
