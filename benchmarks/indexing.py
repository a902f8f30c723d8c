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

The last line is `speedup X.XX`: seed seconds per image / glimpse seconds per image.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import CpuLoad, blip_base, log, machine, minilm, peak_rss_mb, photos, reset_peak_rss, resnet18

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=64, help="photos to index (default 64; 16 with --quick)")
    parser.add_argument("--seed-images", type=int, default=None, help="photos for the seed loop (default: all)")
    parser.add_argument("--quick", action="store_true", help="16 photos, seed loop on 8, no fp32 comparison")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--batch-size", type=int, default=None, help="glimpse batch size (default: glimpse's)")
    parser.add_argument("--workers", type=int, default=2, help="glimpse decoding threads")
    parser.add_argument("--no-compare", action="store_true", help="skip the fp32 caption comparison")
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
        same = sum(glimpse_captions[k] == v for k, v in seed_captions.items())
        print(f"captions: glimpse equals the seed loop on {same}/{len(seed_captions)} photos (the seed ignores EXIF "
              f"orientation and resizes differently, so it sees other pixels)")  # fmt: skip
    print(f"speedup {s_per / g_per:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
