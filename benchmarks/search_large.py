"""Search at millions of photos: the compressed vector index (indexer/compressed.py), built chunk by chunk and
measured in a fresh process. `benchmarks/search.py --sizes 10000000` runs this for sizes from 2M on.

    python benchmarks/search.py --sizes 10000000
    python benchmarks/search_large.py --size 5000000 --queries 1000

Data: as `search.py`'s, but with more distinct captions (`--captions`, 20,000 from the same grammar, embedded
once with the real MiniLM) so that 10M photos are not 4,000 giant clusters; every photo's vector is its caption's
plus Gaussian noise (cosine about 0.85 to it), with uneven (Zipf) cluster sizes. The vectors are generated in
chunks into a float16 file in the benchmark cache (row = id), never all in RAM.

Build: `VectorIndex.build_compressed` reading that file chunk by chunk (k-means + PQ training on a sample, codes
added chunk by chunk, exact vectors streamed to a scratch file), then `save` (the FAISS file and the exact
vectors' file, atomically), as the store's repair path does from the catalog. Peak RSS of the build is
reported.

Measure, in a new process (so its memory is that of a search process): RSS after loading the model and the
index, and after the queries (anonymous memory and mapped file pages apart); latency p50/p99 over `--queries`
text queries, query embedding included (the lean MiniLM engine, uncached), asking 200 dense candidates as
`Searcher` does; per-stage medians (embedding, PQ scan, exact re-ranking); recall@10 against exact search by
chunked brute force over the float16 file for 200 queries; and the same recall and latency for other nprobe and
re-ranking depths on the same index.

What it leaves out: the SQLite catalog (FTS5, the join of the 10 shown rows), which this benchmark doesn't
build at this size (see docs/scaling.md for what those cost and why).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import CpuLoad, cache_dir, log, machine, median, minilm, peak_rss_mb, percentile

DIM = 384
DATA_VERSION = 1
CHUNK = 100_000
TRUTH_QUERIES = 200
CAPTIONS = 20_000  # distinct captions: cluster centers
SWEEP = ((16, 256), (32, 256), (64, 256), (64, 128), (64, 512), (128, 512))  # (nprobe, rerank)


def memory() -> dict[str, float]:
    """This process's resident memory in MB: all, anonymous (heap), mapped files."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024
    return out


def data_file(size: int, centers: np.ndarray) -> Path:
    """A file of at least `size` float16 vectors (row = id) clustered around `centers`, generated once into the
    benchmark cache (rows are drawn independently, so the first `size` rows of a larger file serve as well)."""
    from benchmarks.search import NOISE

    path = cache_dir() / f"search-large-v{DATA_VERSION}-{len(centers)}-{size}.npy"
    for other in sorted(cache_dir().glob(f"search-large-v{DATA_VERSION}-{len(centers)}-*.ok")):
        larger = other.with_suffix(".npy")
        if larger.is_file() and int(larger.stem.rsplit("-", 1)[1]) >= size:
            return larger
    if path.is_file() and path.with_suffix(".ok").is_file():
        return path
    log(f"generating {size:,} vectors into {path} (once)")
    rng = np.random.default_rng(size)
    weights = np.minimum(rng.zipf(1.3, len(centers)).astype(np.float64), 1000)
    weights /= weights.sum()
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(size, DIM))
    for start in range(0, size, CHUNK):
        n = min(CHUNK, size - start)
        vectors = centers[rng.choice(len(centers), n, p=weights)] + NOISE * rng.standard_normal((n, DIM), np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        out[start : start + n] = vectors
    out.flush()
    del out
    path.with_suffix(".ok").write_text("ok\n")
    return path


def exact_top(data: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """Ids of each query's exact top `k` (brute force, chunk by chunk over the float16 file)."""
    best_s = np.full((len(queries), k), -np.inf, np.float32)
    best_i = np.full((len(queries), k), -1, np.int64)
    for start in range(0, len(data), 500_000):
        sims = queries @ np.asarray(data[start : start + 500_000], dtype=np.float32).T
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        s = np.concatenate([best_s, np.take_along_axis(sims, top, 1)], axis=1)
        i = np.concatenate([best_i, top + start], axis=1)
        order = np.argsort(-s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(s, order, 1), np.take_along_axis(i, order, 1)
    return best_i


def build(folder: Path, data_path: Path, size: int) -> dict:
    from glimpse.indexer.vectors import VectorIndex, vector_files

    data = np.load(data_path, mmap_mode="r")[:size]
    folder.mkdir(parents=True, exist_ok=True)
    for path, _ in vector_files(folder):
        path.unlink()
    started = time.perf_counter()
    index = VectorIndex.build_compressed(
        DIM, np.arange(len(data), dtype=np.int64), lambda ids: (ids, np.asarray(data[ids], dtype=np.float32))
    )
    built = time.perf_counter() - started
    index.save(folder, 1)
    saved = time.perf_counter() - started
    files = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    result = {
        "index": index.describe(),
        "params": index.params(),
        "build_s": built,
        "save_s": saved - built,
        "files_mb": {name: size / 1e6 for name, size in files.items()},
        "build_peak_rss_mb": peak_rss_mb(),
    }
    (folder / "build.json").write_text(json.dumps(result, indent=2))
    return result


def child(folder: Path, query_texts: list[str], truth: np.ndarray) -> dict:
    """The search process: load, query, measure (its output is JSON on stdout)."""
    from glimpse.indexer.models import TextEmbedder
    from glimpse.indexer.vectors import VectorIndex

    start_mem = memory()
    embedder = TextEmbedder(str(minilm()), query_cache=0).load()  # every query's embedding is timed
    embedder.embed_queries(["warm up"])
    after_model = memory()
    started = time.perf_counter()
    index, _ = VectorIndex.load(folder, DIM)
    load_s = time.perf_counter() - started
    after_load = memory()
    for q in query_texts[:20]:
        index.search(embedder.embed_queries([q]), 200)
    latencies, stages = [], {"embed": [], "pq scan": [], "rerank": []}
    found = []
    with CpuLoad() as load:
        for q in query_texts:
            t = time.perf_counter()
            qv = embedder.embed_queries([q])
            _, ids = index.search(qv, 200)
            latencies.append(time.perf_counter() - t)
            found.append(ids[0][:10])
    after_queries = memory()
    # the stages, timed apart over the truth queries
    import faiss
    from glimpse.indexer import compressed
    from glimpse.indexer.vectors import normalize

    qvs = []
    for q in query_texts[:TRUTH_QUERIES]:
        t = time.perf_counter()
        qv = normalize(embedder.embed_queries([q]))
        stages["embed"].append(time.perf_counter() - t)
        qvs.append(qv)
        t = time.perf_counter()
        faiss.omp_set_num_threads(1)
        _, cand = index.index.search(qv, index.rerank)
        stages["pq scan"].append(time.perf_counter() - t)
        t = time.perf_counter()
        compressed.rerank(index.exact, qv, cand, 200)
        stages["rerank"].append(time.perf_counter() - t)
    qvs = np.vstack(qvs)
    recall = _recall(np.vstack(found[:TRUTH_QUERIES]), truth)
    sweep = []
    for nprobe, rerank in SWEEP:
        index.index.nprobe, index.rerank = nprobe, rerank
        times, got = [], []
        for qv in qvs:
            t = time.perf_counter()
            got.append(index.search(qv[None, :], 200)[1][0][:10])
            times.append(time.perf_counter() - t)
        recall_here = _recall(np.vstack(got), truth)
        sweep.append(
            {"nprobe": nprobe, "rerank": rerank, "recall": recall_here, "p50_ms": median(times) * 1000,
             "p99_ms": percentile(times, 99) * 1000}
        )  # fmt: skip
    return {
        "size": len(index),
        "load_s": load_s,
        "mem_start": start_mem,
        "mem_model": after_model,
        "mem_loaded": after_load,
        "mem_queried": after_queries,
        "p50_ms": median(latencies) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "queries": len(latencies),
        "recall": recall,
        "stages": {name: median(v) * 1000 for name, v in stages.items()},
        "others": load.others,
        "sweep": sweep,
    }


def _recall(got: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a.tolist()) & set(b.tolist())) / 10 for a, b in zip(got, truth, strict=True)]))


def run(size: int, n_queries: int, n_captions: int, rebuild: bool) -> dict:
    from glimpse.indexer.models import TextEmbedder

    from benchmarks.search import caption_vectors, captions, queries

    embedder = TextEmbedder(str(minilm())).load()
    centers = caption_vectors(embedder, captions(n_captions))
    data_path = data_file(size, centers)
    folder = cache_dir() / f"search-large-v{DATA_VERSION}-{n_captions}-{size}-index"
    if rebuild or not (folder / "build.json").is_file():
        log(f"building the compressed index of {size:,} vectors in {folder}")
        result = build(folder, data_path, size)
    else:
        result = json.loads((folder / "build.json").read_text())
    query_texts = queries(n_queries)
    truth_path = folder / f"truth-{TRUTH_QUERIES}.npy"
    if rebuild or not truth_path.is_file():
        log(f"exact top-10 of {TRUTH_QUERIES} queries by brute force over {size:,} vectors")
        started = time.perf_counter()
        qv = embedder.embed_queries(query_texts[:TRUTH_QUERIES])
        np.save(truth_path, exact_top(np.load(data_path, mmap_mode="r")[:size], qv))
        log(f"  took {time.perf_counter() - started:.0f} s")
    log("measuring in a fresh search process")
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), "--queries", str(n_queries), "--size", str(size)],
        check=True, capture_output=True, text=True, env={**os.environ},
    )  # fmt: skip
    result.update(json.loads(out.stdout))
    result["data_file"] = str(data_path)
    return result


def report(r: dict) -> None:
    files = r["files_mb"]
    faiss_mb = sum(v for k, v in files.items() if k.endswith(".faiss"))
    exact_mb = sum(v for k, v in files.items() if k.endswith(".exact.npy"))
    print(
        f"{r['size']:>10,} photos: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms (query embedding included, "
        f"{r['queries']} queries), recall@10 {r['recall']:.3f} ({TRUTH_QUERIES} queries vs exact) | {r['index']}"
    )
    print(
        f"    build {r['build_s']:.0f} s + save {r['save_s']:.0f} s, "
        f"build peak RSS {r['build_peak_rss_mb'] / 1024:.2f} GB"
        f" | on disk: FAISS {faiss_mb:.0f} MB + exact vectors {exact_mb:.0f} MB | load {r['load_s']:.1f} s"
    )
    for name, key in (("after load", "mem_loaded"), ("after queries", "mem_queried")):
        m = r[key]
        print(
            f"    search process RSS {name}: {m['VmRSS'] / 1024:.2f} GB (heap {m['RssAnon'] / 1024:.2f} GB, "
            f"mapped files {m['RssFile'] / 1024:.2f} GB); model alone {r['mem_model']['VmRSS'] / 1024:.2f} GB"
        )
    print("    stages, median ms: " + ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items()))
    print(f"    other load on the machine while measuring: {r['others']:.0%}")
    for s in r["sweep"]:
        print(
            f"    nprobe {s['nprobe']:>3}, rerank {s['rerank']:>3}: recall@10 {s['recall']:.3f}, "
            f"search p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms (no embedding)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--captions", type=int, default=CAPTIONS, help="distinct captions (cluster centers)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        from benchmarks.search import queries

        truth = np.load(args.child / f"truth-{TRUTH_QUERIES}.npy")
        print(json.dumps(child(args.child, queries(args.queries), truth)))
        return 0
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    report(run(args.size, args.queries, args.captions, args.rebuild))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
