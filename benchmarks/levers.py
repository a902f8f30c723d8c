"""The levers behind glimpse's indexing speed, measured one by one, side by side (captioning dominates).

    python benchmarks/levers.py            # 32 photos, 3 alternating rounds
    python benchmarks/levers.py --quick    # 16 photos, 1 round, no torch.compile

Every variant captions the same preprocessed photos with the full-size random BLIP (20-token captions), in
rounds that alternate the variants so background load hits them alike; medians of seconds per image.

- `generate fp32 b1`: transformers' generate, fp32, one photo at a time (the seed's captioning);
- `generate bf16 b8`: the same in bf16, batches of 8;
- `generate int8-dyn b8`: fp32 model with `torch.ao` dynamic int8 quantization of the text decoder's linears;
- `fast bf16 bN`: glimpse's FastBlipCaptioning (fused attention, folded cross-attention), batch N, all cores;
- `fast bf16 b32 lanes`: the same batch split across two single-thread lanes (what `index_folder` does);
- `fast bf16 b32 lanes, no malloc reuse`: glibc's default large-buffer behaviour (mmap per buffer);
- `vision compiled`: the vision encoder alone under `torch.compile` (compile time reported separately),
  against the plain one;
- `resnet fp32 / bf16`: ResNet-18 forward at batch 32, channels_last.
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import time
import warnings

from common import CpuLoad, blip_base, log, machine, median, photos, resnet18

TOKENS = 20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="16 photos, 1 round, no torch.compile")
    args = parser.parse_args(argv)
    count, rounds = (16, 1) if args.quick else (args.images, args.rounds)

    import torch
    from glimpse.indexer.decode import decode
    from glimpse.indexer.lanes import Lanes
    from glimpse.indexer.models import BlipCaptioner, ResNetClassifier
    from glimpse.indexer.models.blip_fast import FastBlipCaptioning
    from glimpse.indexer.models.loading import tune_allocator
    from transformers import BlipForConditionalGeneration

    folder = photos(64)
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    paths = paths[:: max(1, len(paths) // count)][:count]
    blip = str(blip_base())
    captioner = BlipCaptioner(blip, precision="bf16").load()  # for its preprocessing
    images = [decode(p).image for p in paths]
    pixels = torch.stack([captioner.preprocess(im) for im in images])
    print(f"machine: {machine()}")
    print(f"photos: {len(images)}, {TOKENS}-token captions, {rounds} round(s), medians of s/image")

    log("loading models ...")
    fp32 = BlipForConditionalGeneration.from_pretrained(blip).eval()
    bf16 = copy.deepcopy(fp32).to(torch.bfloat16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        int8 = copy.deepcopy(fp32)
        int8.text_decoder = torch.ao.quantization.quantize_dynamic(
            int8.text_decoder, {torch.nn.Linear}, dtype=torch.qint8
        )
    fast = FastBlipCaptioning(bf16)
    gen = dict(max_new_tokens=TOKENS, min_new_tokens=TOKENS)

    def generate(model, dtype, batch):
        def run():
            for i in range(0, len(pixels), batch):
                model.generate(pixel_values=pixels[i : i + batch].to(dtype), **gen)

        return run

    def fast_run(batch):
        def run():
            for i in range(0, len(pixels), batch):
                fast.generate(pixels[i : i + batch].to(torch.bfloat16), TOKENS, TOKENS)

        return run

    def lane_work(share):
        with torch.inference_mode():  # thread-local: each lane needs its own
            return fast.generate(share.to(torch.bfloat16), TOKENS, TOKENS)

    def lanes_run():
        with Lanes(2, 1) as lanes:
            for i in range(0, len(pixels), 32):
                lanes.map(lane_work, pixels[i : i + 32])

    def no_reuse():
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 128 * 1024)  # glibc's defaults: mmap above 128 KB, trim above 128 KB
        libc.mallopt(-1, 128 * 1024)
        try:
            lanes_run()
        finally:
            tune_allocator.cache_clear()
            tune_allocator()

    variants = {
        "generate fp32 b1": generate(fp32, torch.float32, 1),
        "generate bf16 b8": generate(bf16, torch.bfloat16, 8),
        "generate int8-dyn b8": generate(int8, torch.float32, 8),
        "fast bf16 b8": fast_run(8),
        "fast bf16 b16": fast_run(16),
        "fast bf16 b32": fast_run(32),
        "fast bf16 b32 lanes": lanes_run,
        "fast bf16 b32 lanes, no malloc reuse": no_reuse,
    }
    tune_allocator()
    plain_vision = lambda: [fast.encode(pixels[i : i + 8].to(torch.bfloat16)) for i in range(0, len(pixels), 8)]  # noqa: E731
    variants["vision only, plain b8"] = plain_vision
    if not args.quick:
        log("compiling the vision encoder (torch.compile) ...")
        compiled = torch.compile(fast._encode, dynamic=False)
        started = time.perf_counter()
        with torch.inference_mode():
            compiled(pixels[:8].to(torch.bfloat16))
        print(f"torch.compile of the vision encoder: {time.perf_counter() - started:.0f} s to compile (batch 8)")
        variants["vision only, compiled b8"] = lambda: [
            compiled(pixels[i : i + 8].to(torch.bfloat16)) for i in range(0, len(pixels) - 7, 8)
        ]
    fp32_resnet = ResNetClassifier(str(resnet18()), precision="fp32").load()
    bf16_resnet = ResNetClassifier(str(resnet18()), precision="bf16").load()
    variants["resnet fp32 b32"] = lambda: fp32_resnet.classify(images)
    variants["resnet bf16 b32 channels_last"] = lambda: bf16_resnet.classify(images)

    results = {name: [] for name in variants}
    loads = []
    with torch.inference_mode():
        for name, run in variants.items():  # warm-up
            if not name.startswith("generate fp32"):
                run()
        for r in range(rounds):
            for name, run in variants.items():
                log(f"round {r + 1}: {name}")
                with CpuLoad() as load:
                    run()
                results[name].append(load.seconds / len(images))
                loads.append(load.others)
    base = median(results["generate fp32 b1"])
    for name, times in results.items():
        ratio = f"{base / median(times):5.1f}x" if not name.startswith(("vision", "resnet")) else "      "
        print(f"{name:<40} {median(times):.3f} s/image  {ratio}")
    print(f"other load on the machine: {median(loads):.0%} (median over the timed runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
