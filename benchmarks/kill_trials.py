"""kill -9 an indexer at random points, many times, and check the index after each.

    python benchmarks/kill_trials.py [--trials 100] [--images 24] [--batch-size 2] [--seed 0]

Each trial forks an indexer (tiny local models), kills it with SIGKILL after a random delay, then checks:
SQLite integrity_check is ok, every FAISS file on disk loads, the FAISS ids equal the catalog's embedded rows,
nothing reported as committed was lost and at most one batch was, and a re-run completes without redoing
committed work. The test suite runs 20 trials (tests/test_faults.py); this script runs as many as you like.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from glimpse.indexer.models import BlipCaptioner, Models, ResNetClassifier, TextEmbedder

    from tests.faults import run_trials
    from tests.model_factory import build_blip, build_resnet18
    from tests.test_faults import make_library

    work = Path(tempfile.mkdtemp(prefix="glimpse-kill-"))
    models = Models(
        BlipCaptioner(str(build_blip(work / "blip")), precision="fp32", max_new_tokens=8),
        ResNetClassifier(str(build_resnet18(work / "resnet.pth")), precision="fp32"),
        TextEmbedder(),
    ).load()
    lib = make_library(work / "lib", args.images)
    started = time.perf_counter()
    results = run_trials(lib, work, models, args.images, args.trials, args.batch_size, args.seed)
    took = time.perf_counter() - started
    committed = [r.committed for r in results]
    print(f"{len(results)} trials survived in {took:.0f} s: integrity ok, FAISS == catalog, re-run complete")
    early, mid, done = committed.count(0), sum(0 < c < args.images for c in committed), committed.count(args.images)
    print(f"killed with 0 committed: {early}, mid-run: {mid}, after the last batch: {done}")
    lost = [r.committed - r.reported for r in results]
    print(f"rows committed beyond the child's last progress report: max {max(lost)} (batch size {args.batch_size})")


if __name__ == "__main__":
    main()
