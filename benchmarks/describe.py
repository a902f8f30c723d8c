"""Upload latency: one photo's bytes to its caption and top-3 labels (`indexer.pipeline.describe`, batch of one).

    python benchmarks/describe.py             # 24 uploads per precision, 20-token captions
    python benchmarks/describe.py --quick     # 8 uploads, auto precision only
    python benchmarks/describe.py --tokens 12 # a typical BLIP-base caption length

The uploads are the benchmark photos (a quarter of them 12-megapixel JPEGs), passed as file objects, as the
web app receives them. Captions have a fixed length (`--tokens`, default 20, as in benchmarks/indexing.py),
because random weights never end a caption by themselves. Each precision is timed after two warm-up calls
(reported separately: the first call with `auto` also makes the int8 decoder weights). Rounds alternate the
precisions, so background load hits them alike. Then the captions of every precision are compared with fp32's
(random weights: a smoke signal only).
"""

from __future__ import annotations

import argparse
import io
import time

from common import CpuLoad, blip_base, log, machine, median, percentile, photos, resnet18


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=24, help="uploads per precision (default 24; 8 with --quick)")
    parser.add_argument("--tokens", type=int, default=20, help="caption length in tokens (default 20)")
    parser.add_argument("--quick", action="store_true", help="8 uploads, auto precision only")
    parser.add_argument("--precisions", nargs="+", default=None, help="default: auto bf16 fp32 (auto with --quick)")
    args = parser.parse_args(argv)

    from glimpse.indexer.models import BlipCaptioner, Models, ResNetClassifier, TextEmbedder
    from glimpse.indexer.pipeline import describe

    count = 8 if args.quick and args.uploads == 24 else args.uploads
    precisions = args.precisions or (["auto"] if args.quick else ["auto", "bf16", "fp32"])
    folder = photos(64)
    every = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    paths = sorted(every, key=lambda p: p.name)[:count]  # photo0000, photo0001...: the size mix of make_photos
    uploads = [(p.name, p.read_bytes()) for p in paths]
    blip, resnet = blip_base(), resnet18()
    print(f"machine: {machine()}")
    print(f"uploads: {len(uploads)} photos ({sum(len(b) > 1_000_000 for _, b in uploads)} 12-megapixel), "
          f"captions of {args.tokens} tokens, top-3 labels")  # fmt: skip

    models = {}
    first = {}
    for precision in precisions:
        log(f"loading {precision} models ...")
        models[precision] = Models(
            BlipCaptioner(str(blip), precision=precision, min_new_tokens=args.tokens, max_new_tokens=args.tokens),
            ResNetClassifier(str(resnet), precision=precision),
            TextEmbedder("unused"),  # describe needs no text model; never loaded
        )
        models[precision].captioner.load()
        models[precision].classifier.load()
        started = time.perf_counter()
        describe(io.BytesIO(uploads[0][1]), models[precision])
        first[precision] = time.perf_counter() - started
        describe(io.BytesIO(uploads[1 % len(uploads)][1]), models[precision])

    times = {p: [] for p in precisions}
    captions = {p: {} for p in precisions}
    loads = []
    for name, data in uploads:  # rounds alternate the precisions
        for precision in precisions:
            with CpuLoad() as load:
                caption, labels = describe(io.BytesIO(data), models[precision])
            assert len(labels) == 3
            times[precision].append(load.seconds)
            captions[precision][name] = caption
            loads.append(load.others)
    for precision in precisions:
        t = times[precision]
        print(
            f"{precision:>5}: p50 {median(t):.3f} s, p90 {percentile(t, 90):.3f} s, "
            f"first call {first[precision]:.2f} s (includes one-time setup)"
        )
    print(f"other load on the machine during the timed calls: {median(loads):.0%} (median)")
    if "fp32" in captions:
        for precision in precisions:
            if precision != "fp32":
                differ = sum(captions[precision][n] != c for n, c in captions["fp32"].items())
                print(f"captions: {precision} differs from fp32 on {differ}/{len(uploads)} uploads "
                      f"(random weights: a smoke signal only)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
