"""Upload latency: one photo's bytes to its caption and top-3 labels (`indexer.pipeline.describe`, batch of one).

    python benchmarks/describe.py                  # 12 uploads per variant, 20-token captions (about 3 min)
    python benchmarks/describe.py --quick          # 6 uploads per variant
    python benchmarks/describe.py --variants fp32:1 auto --uploads 20
    python benchmarks/describe.py --agreement 16   # also: how often each int8/bf16 path's captions equal fp32's

    # an AVX2-only CPU (Zen 3, older Intel) emulated on a newer one: glimpse's choices (GLIMPSE_CPU) and the
    # kernels torch, oneDNN, MKL and FBGEMM run (their own variables), before Python starts
    GLIMPSE_CPU=avx2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 \\
        FBGEMM_ENABLE_INSTRUCTIONS=AVX2 python benchmarks/describe.py

A variant is `PRECISION[:THREADS]`: glimpse's precision (auto, fp32, bf16, int8) and, optionally, the torch threads
an upload gets (`GLIMPSE_UPLOAD_THREADS`; default: glimpse's choice, see `glimpse doctor`). The default variants
compare today's choice (`auto`) with what an upload ran with before #14 on this CPU class (`fp32:1` where auto
is fp32: one thread, no int8 decoder), with `auto:1` (int8 decoder, one thread: the all-core choice's price on a
busy machine) and with `int8` (the vision encoder in int8 too). On a bf16-fast CPU, where auto is unchanged:
`auto`, `fp32:1` (fp32 before #14), `fp32` (now on every core) and `int8`.

The uploads are the benchmark photos (a quarter of them 12-megapixel JPEGs), passed as file objects, as the web
app receives them. Captions have a fixed length (`--tokens`, default 20, as in benchmarks/indexing.py), because
random weights never end a caption by themselves. Each variant is timed after two warm-up calls (the first is
reported separately: it also makes the int8 decoder weights). Rounds alternate the variants (A, B, A, B...) so
background load hits them alike; the load average and the other programs' CPU share are printed.

`--agreement N` compares, on N photos, each path's 20-token greedy captions and image embeddings with fp32's:
bf16 (the AMX path), int8 decoder weights (uploads under auto), the int8 vision encoder (`--precision int8`).
The weights are random (real BLIP weights can't be downloaded here), so near-ties between tokens are everywhere
and a caption that differs says little; the share of identical token prefixes and the embedding error are the
measurable proxies. They are the same numbers on any x86 CPU class (same arithmetic), so measure them natively.
"""

from __future__ import annotations

import argparse
import io
import os
import time

from common import CpuLoad, blip_base, cpu_class, log, machine, median, percentile, photos, resnet18


def parse_variant(text: str) -> tuple[str, int | None]:
    precision, _, threads = text.partition(":")
    if precision not in ("auto", "fp32", "bf16", "int8") or (threads and not threads.isdigit()):
        raise argparse.ArgumentTypeError(f"a variant is PRECISION[:THREADS], not {text!r}")
    return precision, int(threads) if threads else None


def name(variant: tuple[str, int | None]) -> str:
    precision, threads = variant
    return precision if threads is None else f"{precision}:{threads}"


def build(variant, blip, resnet, tokens: int):
    """Models for a variant: the captioner reads the upload threads when it loads."""
    from glimpse.indexer.models import BlipCaptioner, Models, ResNetClassifier, TextEmbedder
    from glimpse.indexer.models.policy import UPLOAD_THREADS_ENV

    precision, threads = variant
    saved = os.environ.pop(UPLOAD_THREADS_ENV, None)
    if threads:
        os.environ[UPLOAD_THREADS_ENV] = str(threads)
    try:
        models = Models(
            BlipCaptioner(str(blip), precision=precision, min_new_tokens=tokens, max_new_tokens=tokens),
            ResNetClassifier(str(resnet), precision=precision),
            TextEmbedder("unused"),  # describe needs no text model; never loaded
        )
        models.captioner.load()
        models.classifier.load()
    finally:
        os.environ.pop(UPLOAD_THREADS_ENV, None)
        if saved is not None:
            os.environ[UPLOAD_THREADS_ENV] = saved
    return models


def timings(args, uploads, blip, resnet) -> None:
    from glimpse.indexer.models.loading import cpu_has_fast_bf16
    from glimpse.indexer.pipeline import describe

    variants = args.variants or (
        [("auto", None), ("fp32", 1), ("fp32", None), ("int8", None)]
        if cpu_has_fast_bf16()
        else [("fp32", 1), ("auto", None), ("auto", 1), ("int8", None)]
    )
    models, first = {}, {}
    for variant in variants:
        log(f"loading {name(variant)} models ...")
        models[variant] = build(variant, blip, resnet, args.tokens)
        started = time.perf_counter()
        describe(io.BytesIO(uploads[0][1]), models[variant])
        first[variant] = time.perf_counter() - started
        describe(io.BytesIO(uploads[1 % len(uploads)][1]), models[variant])

    times = {v: [] for v in variants}
    loads, load_avg = [], [os.getloadavg()[0]]
    for _, data in uploads:  # rounds alternate the variants
        for variant in variants:
            with CpuLoad() as load:
                caption, labels = describe(io.BytesIO(data), models[variant])
            assert caption and len(labels) == 3
            times[variant].append(load.seconds)
            loads.append(load.others)
        load_avg.append(os.getloadavg()[0])
        log("round: " + ", ".join(f"{name(v)} {times[v][-1]:.2f} s" for v in variants) + f"; load {load_avg[-1]:.1f}")
    base = variants[0]
    for variant in variants:
        c = models[variant].captioner
        t = times[variant]
        print(
            f"{name(variant):>7}: p50 {median(t):.3f} s, p90 {percentile(t, 90):.3f} s, "
            f"{median(times[base]) / median(t):.2f}x {name(base)}'s p50 (n={len(t)}; {c.upload_threads} threads, "
            f"int8 decoder {'yes' if c._fast.int8_decoder else 'no'}, int8 vision "
            f"{'yes' if c._fast.int8_vision else 'no'}), first call {first[variant]:.2f} s"
        )
    print(
        f"other load on the machine during the timed calls: {median(loads):.0%} of all cores (median); "
        f"1-min load average {min(load_avg):.2f} to {max(load_avg):.2f} on {os.cpu_count()} cores"
    )


def agreement(count: int, tokens: int, blip) -> None:
    """Captions and image embeddings of each lower-precision path against fp32's, one image at a time."""
    import torch
    from glimpse.indexer.decode import decode
    from glimpse.indexer.models import BlipCaptioner

    folder = photos(64)
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))[:count]
    log(f"agreement on {len(paths)} photos ...")
    fp32 = BlipCaptioner(str(blip), precision="fp32").load()
    bf16 = BlipCaptioner(str(blip), precision="bf16").load()
    int8 = BlipCaptioner(str(blip), precision="int8", device="cpu").load()
    fp32._fast.quantize_decoder()
    bf16._fast.quantize_decoder()
    paths_of = {
        "bf16 (AMX auto: indexing)": (bf16, False),
        "bf16 + int8 decoder (AMX auto: upload)": (bf16, True),
        "fp32 + int8 decoder (AVX2 auto: upload)": (fp32, True),
        "int8 vision + fp32 decoder": (int8, False),
        "int8 vision + int8 decoder (--precision int8)": (int8, True),
    }
    stats = {k: {"same": 0, "prefix": 0.0, "tokens": 0.0, "embed": []} for k in paths_of}
    torch.set_num_threads(1)  # arithmetic, not speed: one thread is as exact and never stalls on a busy machine
    with torch.inference_mode():
        for path in paths:
            pixels = fp32.preprocess(decode(path).image)[None]
            ref_embeds = fp32._fast.encode(pixels)
            ref = fp32._fast.decode(ref_embeds, tokens, tokens)[0, 1:]
            log(f"  {path.name}")
            for key, (captioner, int8_decoder) in paths_of.items():
                fast = captioner._fast
                embeds = fast.encode(pixels.to(captioner.dtype))
                got = fast.decode(embeds, tokens, tokens, int8=int8_decoder)[0, 1:]
                s = stats[key]
                equal = (got == ref).tolist()
                s["same"] += all(equal)
                s["prefix"] += (equal.index(False) if False in equal else len(equal)) / len(equal)
                s["tokens"] += sum(equal) / len(equal)
                s["embed"].append(float((embeds.float() - ref_embeds).norm() / ref_embeds.norm()))
    print(f"agreement with fp32 on {len(paths)} photos, {tokens}-token greedy captions, one image at a time "
          f"(random full-size BLIP weights: a proxy, see the docstring):")  # fmt: skip
    for key, s in stats.items():
        n = len(paths)
        print(
            f"  {key:<46} identical captions {s['same']}/{n}, identical prefix {s['prefix'] / n:.0%} of the "
            f"tokens, tokens equal {s['tokens'] / n:.0%}, image-embedding error {median(s['embed']):.4f} (median)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=12, help="uploads per variant (default 12; 6 with --quick)")
    parser.add_argument("--tokens", type=int, default=20, help="caption length in tokens (default 20)")
    parser.add_argument("--quick", action="store_true", help="6 uploads per variant")
    parser.add_argument("--variants", nargs="+", type=parse_variant, default=None, help="PRECISION[:THREADS] ...")
    parser.add_argument("--agreement", type=int, default=0, metavar="N", help="compare captions on N photos")
    parser.add_argument("--no-timing", action="store_true", help="only the --agreement part")
    args = parser.parse_args(argv)

    count = 6 if args.quick and args.uploads == 12 else args.uploads
    folder = photos(64)
    every = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    paths = sorted(every, key=lambda p: p.name)[:count]  # photo0000, photo0001...: the size mix of make_photos
    uploads = [(p.name, p.read_bytes()) for p in paths]
    blip, resnet = blip_base(), resnet18()
    print(f"machine: {machine()}")
    print(cpu_class())
    if not args.no_timing:
        print(f"uploads: {len(uploads)} photos ({sum(len(b) > 1_000_000 for _, b in uploads)} 12-megapixel), "
              f"captions of {args.tokens} tokens, top-3 labels")  # fmt: skip
        timings(args, uploads, blip, resnet)
    if args.agreement:
        agreement(args.agreement, args.tokens, blip)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
