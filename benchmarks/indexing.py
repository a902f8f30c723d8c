"""Indexing speed: the seed tutorial's loop against glimpse's pipeline, on the same photos, in one process.

    python benchmarks/indexing.py              # 64 photos (16 of them 12-megapixel JPEGs)
    python benchmarks/indexing.py --quick      # 16 photos, seed loop on 8
    python benchmarks/indexing.py --images 200 --batch-size 16

1. glimpse: `index_folder` into a fresh temporary index, end to end (scan, hash, decode and preprocess in
   threads, caption + classify in batches, embed, SQLite and FAISS writes), with `--precision` (auto = bf16 on
   AMX/AVX512-BF16 CPUs) and `--batch-size`.
2. seed: per photo, PIL open, BLIP processor and `generate` in fp32 at batch 1, ResNet-18 forward, MiniLM
   embedding of the caption.

Captions have a fixed length (`min_new_tokens = max_new_tokens = 20`) so random weights do the work real ones
do. Each phase is preceded by a two-image warm-up (one-time kernel setup is not what a library costs per photo).
Peak RSS is measured per phase (the peak is reset in between). Then fp32 captions of the same preprocessed
inputs are computed to count how often glimpse's (bf16) captions differ from fp32 ones: with random weights
that is only a smoke signal.

Then the physical limit: the model work per image (FLOPs counted with `torch.utils.flop_counter.FlopCounterMode`
over one image through the vision encoder, the decoder for 20 tokens, ResNet-18 and the text embedder, as glimpse
runs them), the machine's measured matrix-multiply rate (2048 x 2048 products, fp32, bf16, and int8 through
FBGEMM's dynamic linear, on the run's torch threads, interleaved), and the share of that rate indexing reaches.

    # an AVX2-only CPU emulated (see benchmarks/describe.py)
    GLIMPSE_CPU=avx2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 \\
        FBGEMM_ENABLE_INSTRUCTIONS=AVX2 python benchmarks/indexing.py --quick

The last line is `speedup X.XX`: seed seconds per image / glimpse seconds per image.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import (
    CpuLoad,
    blip_base,
    cpu_class,
    log,
    machine,
    median,
    minilm,
    peak_rss_mb,
    photos,
    reset_peak_rss,
    resnet18,
)

TOKENS = 20


def run_glimpse(folder: Path, blip: Path, resnet: Path, text: Path, precision: str, batch_size: int, workers: int):
    from glimpse.indexer.models import BlipCaptioner, Models, ResNetClassifier, TextEmbedder
    from glimpse.indexer.pipeline import index_folder
    from glimpse.indexer.store import IndexStore
    from PIL import Image

    models = Models(
        BlipCaptioner(str(blip), precision=precision, min_new_tokens=TOKENS, max_new_tokens=TOKENS),
        ResNetClassifier(str(resnet), precision=precision),
        TextEmbedder(str(text)),
    ).load()
    warm = [Image.new("RGB", (640, 480), (120, 90, 60))] * 4  # a batch, as indexing runs them (no int8 setup)
    models.embedder.embed_documents(models.captioner.caption(warm))
    models.classifier.classify(warm)
    with tempfile.TemporaryDirectory(prefix="glimpse-bench-") as tmp:
        with IndexStore.open_or_create(Path(tmp) / "index", models.ids(), models.embedder.dim) as store:
            with CpuLoad() as load:
                summary = index_folder(folder, store, models, batch_size=batch_size, workers=workers)
            records = {r.path: r.caption for r in store.catalog.records()}
            assert len(store.vectors()) == summary.added, "every photo must be in the vector index"
    if summary.failed:
        raise RuntimeError(f"glimpse failed on {summary.failed}")
    return records, load


def run_seed(paths: list[Path], root: Path, blip: Path, resnet: Path, text: Path):
    """The seed tutorial, as written: one photo at a time, fp32."""
    import torch
    from PIL import Image
    from sentence_transformers import SentenceTransformer
    from torchvision.models import ResNet18_Weights
    from torchvision.models import resnet18 as build_resnet
    from transformers import BlipForConditionalGeneration, BlipProcessor

    processor = BlipProcessor.from_pretrained(blip)
    model = BlipForConditionalGeneration.from_pretrained(blip).eval()
    classifier = build_resnet()
    classifier.load_state_dict(torch.load(resnet, weights_only=True))
    classifier.eval()
    transform = ResNet18_Weights.IMAGENET1K_V1.transforms()
    embedder = SentenceTransformer(str(text), device="cpu")

    def one(image):
        inputs = processor(images=image, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**inputs, min_new_tokens=TOKENS, max_new_tokens=TOKENS)
            caption = processor.decode(out[0], skip_special_tokens=True)
            probs = classifier(transform(image).unsqueeze(0)).softmax(-1)
            probs.topk(3)
        embedder.encode([caption])
        return caption

    warm = Image.new("RGB", (640, 480), (120, 90, 60))
    one(warm), one(warm)
    captions = {}
    with CpuLoad() as load:
        for path in paths:
            image = Image.open(path).convert("RGB")
            captions[path.relative_to(root).as_posix()] = one(image)
    return captions, load


def reference_captions(paths: list[Path], root: Path, blip: Path, precision: str, fast: bool) -> dict[str, str]:
    """Captions of glimpse's own preprocessed inputs in batches of 8: fp32 (token-identical to `generate` in
    fp32), or transformers' own `generate` in bf16 (fast=False), to compare glimpse's bf16 with."""
    from glimpse.indexer.decode import decode
    from glimpse.indexer.models import BlipCaptioner

    captioner = BlipCaptioner(
        str(blip), precision=precision, min_new_tokens=TOKENS, max_new_tokens=TOKENS, fast=fast
    ).load()
    out = {}
    for start in range(0, len(paths), 8):
        chunk = paths[start : start + 8]
        texts = captioner.caption([decode(p).image for p in chunk])
        out.update((p.relative_to(root).as_posix(), t) for p, t in zip(chunk, texts, strict=True))
    return out


def flops_per_image(blip: Path, resnet: Path, text: Path) -> dict[str, float]:
    """FLOPs of one image through each model, as glimpse runs them (fp32 copies: int8 and bf16 do the same
    products), counted by torch's FlopCounterMode (matrix products, convolutions, attention)."""
    import torch
    from glimpse.indexer.models import BlipCaptioner, ResNetClassifier
    from PIL import Image
    from sentence_transformers import SentenceTransformer
    from torch.utils.flop_counter import FlopCounterMode

    captioner = BlipCaptioner(str(blip), precision="fp32", min_new_tokens=TOKENS, max_new_tokens=TOKENS).load()
    classifier = ResNetClassifier(str(resnet), precision="fp32").load()
    embedder = SentenceTransformer(str(text), device="cpu")
    image = Image.new("RGB", (640, 480), (120, 90, 60))
    pixels = captioner.preprocess(image)[None]
    out = {}

    def count(key, work):
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            result = work()
        out[key] = float(counter.get_total_flops())
        return result

    embeds = count("vision encoder", lambda: captioner._fast.encode(pixels))
    ids = count(f"decoder ({TOKENS} tokens)", lambda: captioner._fast.decode(embeds, TOKENS, TOKENS))
    caption = captioner._processor.batch_decode(ids, skip_special_tokens=True)[0]
    count("ResNet-18", lambda: classifier.classify_with_features([image]))
    count("text embedder", lambda: embedder.encode([caption], convert_to_tensor=True))
    return out


def matmul_rates(repeats: int = 5, size: int = 2048) -> dict[str, float]:
    """GFLOP/s of a size x size matrix product on this process's torch threads: fp32, bf16, and int8 (FBGEMM's
    dynamic linear, as `--precision int8` and the AVX2 upload decoder run it; activation quantization included).
    The precisions alternate, so background load hits them alike; the median of `repeats` is kept."""
    import torch
    from glimpse.indexer.models.blip_fast import dynamic_int8

    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(size, size, generator=gen), torch.randn(size, size, generator=gen)
    a16, b16 = a.bfloat16(), b.bfloat16()
    q = dynamic_int8(b.t().contiguous(), None)  # x @ b, as a linear layer's weight
    work = {"fp32": lambda: a @ b, "bf16": lambda: a16 @ b16, "int8": lambda: q(a)}
    times = {k: [] for k in work}
    with torch.inference_mode():
        for f in work.values():
            f()
        for _ in range(repeats):
            for key, f in work.items():
                started = time.perf_counter()
                f()
                times[key].append(time.perf_counter() - started)
    return {k: 2 * size**3 / median(t) / 1e9 for k, t in times.items()}


def physical_limit(blip: Path, resnet: Path, text: Path, seconds_per_image: float, precision: str) -> None:
    import torch
    from glimpse.indexer.models.loading import resolve_dtype

    flops = flops_per_image(blip, resnet, text)
    total = sum(flops.values())
    parts = ", ".join(f"{k} {v / 1e9:.1f}" for k, v in flops.items())
    print(f"work per image: {total / 1e9:.1f} GFLOP ({parts})")
    rates = matmul_rates()
    threads = torch.get_num_threads()
    print(
        f"matmul 2048x2048 on {threads} torch threads: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in rates.items())
    )
    reached = total / seconds_per_image / 1e9
    dtype = "int8" if precision == "int8" else "bf16" if resolve_dtype(precision, "cpu") == torch.bfloat16 else "fp32"
    print(
        f"indexing reaches {reached:.1f} GFLOP/s: {reached / rates[dtype]:.0%} of the {dtype} matmul rate "
        f"({dtype}: the run's precision), {reached / rates['fp32']:.0%} of fp32's; at the {dtype} rate an image "
        f"would take at least {total / rates[dtype] / 1e9:.3f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=64, help="photos to index (default 64; 16 with --quick)")
    parser.add_argument("--seed-images", type=int, default=None, help="photos for the seed loop (default: all)")
    parser.add_argument("--quick", action="store_true", help="16 photos, seed loop on 8, no fp32 comparison")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "int8"])
    parser.add_argument("--batch-size", type=int, default=None, help="glimpse batch size (default: glimpse's)")
    parser.add_argument("--workers", type=int, default=2, help="glimpse decoding threads")
    parser.add_argument("--no-compare", action="store_true", help="skip the fp32 caption comparison")
    parser.add_argument("--no-seed", action="store_true", help="skip the seed loop (no speedup line)")
    parser.add_argument("--no-limit", action="store_true", help="skip the FLOPs and matmul-rate lines")
    args = parser.parse_args(argv)

    from glimpse.indexer.config import DEFAULT_BATCH_SIZE

    count = 16 if args.quick and args.images == 64 else args.images
    seed_count = args.seed_images or (min(8, count) if args.quick else count)
    batch_size = args.batch_size or DEFAULT_BATCH_SIZE
    folder = photos(count)
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    blip, resnet, text = blip_base(), resnet18(), minilm()
    megapixels = sum(1 for p in paths if p.stat().st_size > 1_000_000)
    print(f"machine: {machine()}")
    print(cpu_class())
    print(f"photos: {len(paths)} ({megapixels} of them 12-megapixel JPEGs), captions of {TOKENS} tokens")

    reset_peak_rss()
    log("glimpse pipeline ...")
    started = time.perf_counter()
    glimpse_captions, g_load = run_glimpse(folder, blip, resnet, text, args.precision, batch_size, args.workers)
    g_rss = peak_rss_mb()
    g_per = g_load.seconds / len(paths)
    print(
        f"glimpse: {g_per:.3f} s/image ({len(paths)} photos in {g_load.seconds:.1f} s, precision {args.precision}, "
        f"batch {batch_size}), peak RSS {g_rss / 1024:.2f} GB (models included; phase took "
        f"{time.perf_counter() - started:.0f} s with loading), other load on the machine {g_load.others:.0%}"
    )

    seed_captions, s_per = {}, None
    if not args.no_seed:
        reset_peak_rss()
        log("seed loop ...")
        seed_paths = paths[:: max(1, len(paths) // seed_count)][:seed_count]
        seed_captions, s_load = run_seed(seed_paths, folder, blip, resnet, text)
        s_rss = peak_rss_mb()
        s_per = s_load.seconds / len(seed_paths)
        print(
            f"seed:    {s_per:.3f} s/image ({len(seed_paths)} photos in {s_load.seconds:.1f} s, fp32, batch 1), "
            f"peak RSS {s_rss / 1024:.2f} GB, other load on the machine {s_load.others:.0%}"
        )

    if not (args.quick or args.no_compare):
        log("reference captions: fp32, and transformers' generate in bf16 ...")
        reference = reference_captions(paths, folder, blip, "fp32", fast=True)
        hf_bf16 = reference_captions(paths, folder, blip, "bf16", fast=False)
        differ = sum(glimpse_captions[k] != v for k, v in reference.items())
        hf_differ = sum(hf_bf16[k] != v for k, v in reference.items())
        print(
            f"captions: glimpse ({args.precision}) differs from fp32 on the same inputs for {differ}/{len(reference)} "
            f"photos ({differ / len(reference):.0%}); transformers' own bf16 generate differs for "
            f"{hf_differ}/{len(reference)} ({hf_differ / len(reference):.0%}). Random weights make near-ties "
            f"everywhere, so this is only a smoke signal"
        )
        if seed_captions:
            same = sum(glimpse_captions[k] == v for k, v in seed_captions.items())
            print(f"captions: glimpse equals the seed loop on {same}/{len(seed_captions)} photos (the seed ignores "
                  f"EXIF orientation and resizes differently, so it sees other pixels)")  # fmt: skip
    if not args.no_limit:
        log("the physical limit: FLOPs per image, matmul rates ...")
        physical_limit(blip, resnet, text, g_per, args.precision)
    if s_per is not None:
        print(f"speedup {s_per / g_per:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
