"""Re-running `glimpse index` on an unchanged library: scan and plan, no model loaded.

    python benchmarks/rerun.py                  # 10k photos, 5 cold runs
    python benchmarks/rerun.py --photos 50000

The library is `--photos` small distinct PNG files in 100 folders, indexed once by the real pipeline with
stand-in models (this benchmark times the re-run, not the models). Each run is a new process running
`glimpse index LIBRARY --index INDEX` as a user would: p50 wall time of `--runs`, and whether any ML library
was imported (none should be: there is nothing to do).

Target (issue 14): 10k unchanged photos in <= 3 s.
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
from common import cache_dir, log, median

ENTRY = (
    "import sys, json; from glimpse.ui.cli import main; code = main(); "
    "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'torchvision') if m in sys.modules); "
    "print(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr); sys.exit(code)"
)


class StandIn:
    """Captioner, classifier and embedder at once: constant captions, no labels, random unit vectors."""

    device = "cpu"

    def __init__(self, name: str, dim: int = 384):
        self.name, self.dim = name, dim
        self.rng = np.random.default_rng(0)

    def load(self):
        return self

    def preprocess(self, image):
        return image

    def caption(self, images, interactive: bool = False):
        return ["a photo"] * len(images)

    def classify(self, images):
        return [[] for _ in images]

    def classify_with_features(self, images):
        features = self.rng.standard_normal((len(images), 512)).astype(np.float32)
        return self.classify(images), features / np.linalg.norm(features, axis=1, keepdims=True)

    def embed_documents(self, texts):
        vectors = self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    embed_queries = embed_documents


def build(photos: int) -> tuple[Path, Path, dict]:
    from glimpse.indexer.models import Models
    from glimpse.indexer.pipeline import index_folder
    from glimpse.indexer.store import IndexStore
    from PIL import Image

    base = cache_dir() / f"rerun-{photos}"
    library, index = base / "library", base / "index"
    weights = base / "stand-in.pth"  # names the CLI checks exist; never loaded (nothing to do)
    env = {
        "GLIMPSE_CAPTION_MODEL": str(base), "GLIMPSE_CLASSIFIER_WEIGHTS": str(weights),
        "GLIMPSE_TEXT_MODEL": "sentence-transformers/all-MiniLM-L6-v2",
    }  # fmt: skip
    if (index / "manifest.json").is_file():
        return library, index, env
    log(f"building a {photos}-photo library and its index (once): {base}")
    for i in range(photos):
        folder = library / f"folder-{i % 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8), (i % 256, (i // 256) % 256, (i // 65536) % 256)).save(folder / f"photo-{i:06d}.png")
    weights.write_bytes(b"")
    models = Models(StandIn(str(base)), StandIn(str(weights)), StandIn(env["GLIMPSE_TEXT_MODEL"]))
    with IndexStore.open_or_create(index, models.ids(), 384) as store:
        index_folder(library, store, models, batch_size=256)
    return library, index, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from glimpse.indexer.cpu import cpu

    print(f"machine: {cpu().describe()}; Python {sys.version.split()[0]}")
    library, index, env = build(args.photos)
    times, heavy = [], set()
    for _ in range(args.runs + 1):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", ENTRY, "index", str(library), "--index", str(index), "--json"],
            env={**os.environ, **env}, capture_output=True, text=True,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        report = json.loads(done.stderr.strip().splitlines()[-1])
        if report["code"] != 0:
            raise SystemExit(done.stderr[-2000:])
        summary = json.loads(done.stdout)
        assert summary["unchanged"] == args.photos, summary
        heavy.update(report["heavy"])
        times.append(elapsed)
    times = times[1:]  # the first run warms the page cache
    print(
        f"glimpse index, {args.photos} unchanged photos: p50 {median(times):.2f} s (min {min(times):.2f}, "
        f"max {max(times):.2f}, {args.runs} cold processes; target <= 3 s); "
        f"ML libraries imported: {', '.join(sorted(heavy)) or 'none'}; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
