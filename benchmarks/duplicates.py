"""Near-duplicate grouping and "find similar", measured on a generated set.

    python benchmarks/duplicates.py [--limit N]

Real photos (data/photos plus scikit-image's samples), each with a resized, a JPEG re-encoded (q=35), a cropped
(1/12 off each side) and a burst-like (shifted, brighter) copy. Indexed with the tiny random BLIP and a
*random-weight* ResNet-18 (no ImageNet weights can be downloaded here): the feature figures are a floor for
what the real weights give. Reports pairwise precision/recall of `glimpse duplicates`, and how often "find
similar" ranks a copy of the same photo first.
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
    parser.add_argument("--limit", type=int, default=None, help="Use only the first N base photos.")
    parser.add_argument(
        "--holdout", action="store_true",
        help="The held-out set: copies made in other ways (thumbnail, WebP, corner crop, tilt, exposure), plus a "
        "real two-view pair; the thresholds were not chosen on it.",
    )  # fmt: skip
    args = parser.parse_args()

    from glimpse.indexer.models import BlipCaptioner, Models, ResNetClassifier, TextEmbedder
    from glimpse.indexer.pipeline import index_folder
    from glimpse.indexer.store import IndexStore
    from glimpse.search.duplicates import LAYOUT_SUPPORT, LAYOUT_THRESHOLD, NEAR_THRESHOLD, find_duplicates
    from glimpse.search.similar import SimilarFinder

    from tests.dupset import HOLDOUT_VARIANTS, VARIANTS, pair_scores, write_holdout_set, write_set
    from tests.model_factory import build_blip, build_resnet18

    work = Path(tempfile.mkdtemp(prefix="glimpse-dups-"))
    truth = (write_holdout_set if args.holdout else write_set)(work / "lib", args.limit)
    models = Models(
        BlipCaptioner(str(build_blip(work / "blip")), precision="fp32", max_new_tokens=4),
        ResNetClassifier(str(build_resnet18(work / "resnet.pth")), precision="fp32"),
        TextEmbedder(),
    ).load()
    root = (work / "lib").resolve()
    with IndexStore.open_or_create(work / "idx", models.ids(), models.embedder.dim) as store:
        index_folder(root, store, models, batch_size=8)
        print(f"{len(truth)} photos in {len(set(truth.values()))} groups" + (" (held-out set)" if args.holdout else ""))
        print(f"thresholds: layout >= {LAYOUT_THRESHOLD}, or features >= t with layout >= {LAYOUT_SUPPORT}")
        for threshold in (0.75, NEAR_THRESHOLD, 0.95):
            started = time.perf_counter()
            groups = find_duplicates(store, threshold)
            took = time.perf_counter() - started
            rel = [[str(Path(p).relative_to(root)) for p in g.paths] for g in groups]
            s = pair_scores(rel, truth)
            mark = "  <- default" if threshold == NEAR_THRESHOLD else ""
            pairs = f"{s['pairs_predicted']} pairs predicted, {s['pairs_actual']} true; {took:.2f} s"
            print(
                f"duplicates t={threshold:.2f}: precision {s['precision']:.3f} recall {s['recall']:.3f} ({pairs}){mark}"
            )
        finder = SimilarFinder(store, models.classifier)
        kinds = ("original", *(HOLDOUT_VARIANTS if args.holdout else VARIANTS), "left", "right")
        first = {kind: [0, 0] for kind in kinds}
        for rel, group in truth.items():
            kind = rel.removesuffix(".jpg").rsplit("-", 1)[-1] if "-" in rel else "original"
            kind = kind if kind in first else "original"
            top = finder.find(str(root / rel), k=1)[0]
            first[kind][0] += truth[str(Path(top.path).relative_to(root))] == group
            first[kind][1] += 1
        for kind, (hit, n) in ((k, v) for k, v in first.items() if v[1]):
            print(f"find similar, query = {kind:<9}: a copy of the same photo ranks first {hit}/{n} = {hit / n:.3f}")


if __name__ == "__main__":
    main()
