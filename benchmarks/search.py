"""Search latency at 10k, 100k and 1M photos: text query to ranked hits, through glimpse's own `Searcher`.

    python benchmarks/search.py                  # 10k, 100k and 1M photos, 1000 queries each
    python benchmarks/search.py --quick          # 10k and 100k, 1000 queries
    python benchmarks/search.py --sizes 50000 --queries 2000
    python benchmarks/search.py --sizes 100000 --index-kind ivfpq   # the compressed index at 100k
    python benchmarks/search.py --sizes 10000000 # from 2M on: the compressed index alone (search_large.py)

Each size gets a real index folder (SQLite catalog with captions, labels, FTS5 and embeddings; cached under
the benchmark cache, rebuilt with `--rebuild`), whose vectors are clustered like a photo library's: captions
are drawn from a small grammar ("a black dog running on a beach"), the distinct captions (4000) are embedded
with the real MiniLM, and every photo's vector is its caption's plus Gaussian noise (cosine about 0.85 to its
caption), so photos form tight, uneven clusters in a low-dimensional part of the space, as real ones do.

Per size it reports:
- build: the FAISS index built from the catalog's embeddings by the store's own repair path (index type
  chosen by size), and its memory (file size) and the process's RSS;
- latency p50/p99 over `--queries` text queries with `Searcher.search(query, k=10)`: query embedding (MiniLM,
  uncached: the embedder's cache of recent queries is off), FAISS (200 dense candidates), FTS5/BM25 candidates
  and the catalog join, all included;
- recall@10 of the index against exact search on the same query embeddings (1.0 when the index is exact);
- per-stage medians over 200 queries, each stage timed on its own: the query embedding (and the
  sentence-transformers reference side by side), FAISS, FTS5/BM25, the embeddings of lexical-only candidates,
  the join of the 10 shown rows, the explanations (one pass, and the two passes used before, side by side), and
  the query embedding answered from the cache of recent queries;
- the machine's load average, and the share of CPU other processes took while measuring.

Sizes from 2M on (the compressed index's range) are measured by `search_large.py`, without the catalog.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import time
from pathlib import Path

import numpy as np
from common import CpuLoad, cache_dir, log, machine, median, minilm, percentile, rss_mb

DIM = 384
DATA_VERSION = 1
NOISE = 0.032  # per dimension: noise norm ~0.63, cosine to the caption's embedding ~0.85

ADJECTIVES = "black white brown small large young old red blue happy sleeping wet".split()
SUBJECTS = (
    "dog cat horse bird child woman man couple family baby boat car bicycle train plane cake pizza "
    "coffee flower tree mountain lake bridge building church castle tent guitar book laptop phone "
    "sheep cow duck fish turtle elephant giraffe zebra bear"
).split()
ACTIONS = "running sitting standing sleeping playing eating swimming walking lying jumping".split()
PLACES = [
    "on a beach", "in the snow", "in a park", "on a street", "in a kitchen", "on a couch", "in a forest",
    "at night", "in the rain", "near a lake", "on a table", "in a garden", "on the grass", "in a city",
    "at sunset", "in a field", "on a boat", "in the mountains", "at a wedding", "in a living room",
    "on a bed", "at the zoo", "in the desert", "on a bridge", "by the sea", "under a tree",
    "in a market", "at a party", "in a museum", "on a road",
]  # fmt: skip
LABELS = {"dog": "golden retriever", "cat": "tabby", "bird": "robin", "car": "sports car", "boat": "canoe"}


def captions(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[f"a {rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)} {rng.choice(ACTIONS)} {rng.choice(PLACES)}"] = None
    return list(seen)


def queries(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    forms = [
        lambda: f"{rng.choice(SUBJECTS)} {rng.choice(PLACES)}",
        lambda: f"{rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)}",
        lambda: f"a {rng.choice(SUBJECTS)} {rng.choice(ACTIONS)}",
        lambda: f"photos of a {rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)} {rng.choice(PLACES)}",
        lambda: f"{rng.choice(SUBJECTS)} and {rng.choice(SUBJECTS)}",
    ]
    return [rng.choice(forms)() for _ in range(count)]


def caption_vectors(embedder, texts: list[str]) -> np.ndarray:
    path = cache_dir() / f"search-captions-v{DATA_VERSION}-{len(texts)}.npy"
    if path.is_file():
        return np.load(path)
    log(f"embedding {len(texts)} distinct captions with MiniLM (once)")
    vectors = embedder.embed_documents(texts)
    np.save(path, vectors)
    return vectors


def build_catalog(folder: Path, size: int, texts: list[str], centers: np.ndarray, text_model: str) -> None:
    """An index folder with `size` photos: captions, labels, FTS5 and clustered embeddings."""
    from glimpse.indexer.catalog import NewImage
    from glimpse.indexer.store import IndexStore
    from glimpse.indexer.types import Label

    shutil.rmtree(folder, ignore_errors=True)
    rng = np.random.default_rng(size)
    models = {"caption": "benchmark", "classifier": "benchmark", "text": text_model}
    with IndexStore.open_or_create(folder, models, DIM) as store:
        catalog = store.catalog
        root = catalog.root_id("/photos", create=True)
        # uneven clusters, as in a library: some scenes are photographed far more than others
        weights = rng.zipf(1.3, len(texts)).astype(np.float64)
        weights = np.minimum(weights, 1000) / np.minimum(weights, 1000).sum()
        chunk = 20_000
        for start in range(0, size, chunk):
            n = min(chunk, size - start)
            which = rng.choice(len(texts), n, p=weights)
            vectors = centers[which] + NOISE * rng.standard_normal((n, DIM), dtype=np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            with catalog.transaction():
                for j in range(n):
                    text = texts[which[j]]
                    subject = text.split()[2]
                    labels = [Label(LABELS.get(subject, subject), 0.6), Label("outdoor", 0.2)]
                    i = start + j
                    catalog.insert(
                        root,
                        NewImage(
                            path=f"{i // 1000:04d}/IMG_{i:07d}.jpg", name=f"IMG_{i:07d}.jpg", size=1, mtime_ns=i,
                            hash=f"{i:032x}", width=4000, height=3000, caption=text, labels=labels,
                            embedding=vectors[j],
                        ),
                    )  # fmt: skip
            log(f"  catalog: {start + n}/{size} photos")
    (folder / ".complete").write_text("ok\n")


def index_folder_for(size: int, texts, centers, text_model: str, rebuild: bool) -> Path:
    folder = cache_dir() / f"search-index-v{DATA_VERSION}-{size}"
    if rebuild or not (folder / ".complete").is_file():
        log(f"building a {size}-photo catalog in {folder} (cached for later runs)")
        started = time.perf_counter()
        build_catalog(folder, size, texts, centers, text_model)
        log(f"  took {time.perf_counter() - started:.0f} s")
    return folder


def measure(size: int, folder: Path, embedder, query_texts: list[str], index_kind: str = "auto") -> dict:
    import faiss
    from glimpse.indexer.store import IndexStore
    from glimpse.indexer.vectors import VectorIndex, vector_files
    from glimpse.search import Searcher

    for path, _ in vector_files(folder):  # build from the catalog, as a stale or missing file is repaired
        path.unlink()
    rss_before = rss_mb()
    with IndexStore.open(folder, readonly=False) as store:
        store.set_index_kind(index_kind)
        started = time.perf_counter()
        vectors = store.vectors()
        build_s = time.perf_counter() - started
        store.save_vectors()
    index_file = max(vector_files(folder), key=lambda pg: pg[1])[0]

    store = IndexStore.open(folder)
    searcher = Searcher(store, embedder)
    started = time.perf_counter()
    vectors = store.vectors()
    load_s = time.perf_counter() - started
    for q in query_texts[:20]:  # warm-up: SQLite page cache, first-call setup
        searcher.search(q, k=10)
    latencies = []
    with CpuLoad() as load:
        for q in query_texts:
            t = time.perf_counter()
            searcher.search(q, k=10)
            latencies.append(time.perf_counter() - t)
    rss_after = rss_mb()
    stages = profile(store, embedder, query_texts[:200])

    recall = 1.0
    if vectors.kind != "flat":
        qv = embedder.embed_queries(query_texts)
        ids, data = store.catalog.embeddings()
        exact = faiss.IndexFlatIP(DIM)
        exact.add(data)
        saved = faiss.cvar.distance_compute_blas_threshold
        faiss.cvar.distance_compute_blas_threshold = 20  # batched exact search through BLAS (13x faster)
        _, truth = exact.search(qv, 10)
        faiss.cvar.distance_compute_blas_threshold = saved
        truth = ids[truth]
        _, got = vectors.search(qv, 10)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got, strict=True)]))
        del exact, data
    store.close()
    assert isinstance(vectors, VectorIndex)
    return {
        "size": size,
        "index": vectors.describe(),
        "build_s": build_s,
        "load_s": load_s,
        "file_mb": index_file.stat().st_size / 1e6,
        "rss_mb": rss_after,
        "rss_growth_mb": rss_after - rss_before,
        "p50_ms": median(latencies) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "recall": recall,
        "queries": len(latencies),
        "others": load.others,
        "load_average": os.getloadavg(),
        "stages": stages,
    }


def profile(store, embedder, query_texts: list[str]) -> dict[str, float]:
    """Median ms per stage of a query, each timed on its own over the same queries (see the module doc)."""
    from glimpse.indexer.models import TextEmbedder
    from glimpse.search.engine import CANDIDATES, fts_expression, hit_for, query_terms
    from glimpse.search.explain import kinds_matched, matched_words

    reference = TextEmbedder(embedder.name, engine="torch", query_cache=0)
    reference.embed_queries(query_texts[:2])
    cached = TextEmbedder(embedder.name, query_cache=len(query_texts))
    for q in query_texts:
        cached.embed_queries([q])
    names = ["embed", "embed (reference)", "embed (cached)", "faiss", "fts5", "lexical vectors", "join", "explain",
             "explain (two passes, before)"]  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in names}
    vectors, catalog = store.vectors(), store.catalog

    def timed(name, f, *args):
        t = time.perf_counter()
        out = f(*args)
        times[name].append(time.perf_counter() - t)
        return out

    def explain_now(records, terms):
        return [hit_for(r, 1.0, 1.0, terms) for r in records]

    def explain_before(records, terms):  # what hit_for did until now: fields looked up twice, the path thrice
        return [
            (str(r.full_path) if r.full_path else r.path, matched_words(r, terms),
             list(dict.fromkeys(kinds_matched(r, terms).values())), r.full_path)
            for r in records
        ]  # fmt: skip

    for q in query_texts:
        qv = timed("embed", embedder.embed_queries, [q])
        timed("embed (reference)", reference.embed_queries, [q])
        timed("embed (cached)", cached.embed_queries, [q])
        _, ids = timed("faiss", vectors.search, qv, CANDIDATES)
        expr = fts_expression(query_terms(q))
        lexical = timed("fts5", catalog.fts, expr, CANDIDATES, None) if expr else []
        dense = set(ids[0].tolist())
        timed("lexical vectors", catalog.embeddings, [i for i, _ in lexical if i not in dense])
        records = list(timed("join", catalog.get, [int(i) for i in ids[0][:10] if i >= 0]).values())
        terms = query_terms(q)
        timed("explain", explain_now, records, terms)
        timed("explain (two passes, before)", explain_before, records, terms)
    return {name: median(values) * 1000 for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="collection sizes (default 10k 100k 1M)")
    parser.add_argument("--queries", type=int, default=1000, help="text queries per size (default 1000)")
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached catalogs")
    parser.add_argument(
        "--index-kind", choices=["auto", "flat", "ivf", "ivfpq"], default="auto", help="vector index (auto: by size)"
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])

    from glimpse.indexer.models import TextEmbedder
    from glimpse.indexer.vectors import COMPRESSED_LIMIT

    embedder = TextEmbedder(str(minilm()), query_cache=0).load()  # every query's embedding is timed
    texts = captions(4000)
    centers = caption_vectors(embedder, texts)
    query_texts = queries(args.queries)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    print(f"queries: {len(query_texts)} text queries per size, k=10, latency = Searcher.search end to end")
    for size in sizes:
        if size >= COMPRESSED_LIMIT and args.index_kind in ("auto", "ivfpq"):
            import search_large

            search_large.report(search_large.run(size, args.queries, search_large.CAPTIONS, args.rebuild))
            continue
        folder = index_folder_for(size, texts, centers, embedder.name, args.rebuild)
        log(f"measuring {size} ...")
        r = measure(size, folder, embedder, query_texts, args.index_kind)
        print(
            f"{r['size']:>9,} photos: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
            f"recall@10 {r['recall']:.3f} | "
            f"{r['index']}, built in {r['build_s']:.1f} s (loaded in {r['load_s']:.2f} s), "
            f"{r['file_mb']:.0f} MB on disk, RSS {r['rss_mb'] / 1024:.2f} GB | other load {r['others']:.0%}, "
            f"load average {r['load_average'][0]:.2f}"
        )
        print("    stages, median ms: " + ", ".join(f"{name} {ms:.1f}" for name, ms in r["stages"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
