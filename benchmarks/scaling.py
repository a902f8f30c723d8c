"""Indexing on Ray (indexer/distributed.py): does the orchestration scale, and what does the driver cost?

    python benchmarks/scaling.py                        # stand-ins, 1 2 4 8 actors, then real-size models
    python benchmarks/scaling.py --skip-real --repeats 3
    python benchmarks/scaling.py --real-model tiny      # the tests' tiny BLIP instead of the full-size one

1. Orchestration: stand-in models whose cost is a fixed wait per batch (`--wait`, time.sleep: what a GPU or a
   remote node's compute looks like from the driver), so 8 actors fit on 2 cores (`num_cpus` 2/8 each). Every
   other part is the real one: scan, hash and plan, the Parquet manifest, PhotoWorker decoding each photo from
   disk, Ray Data's actor pool, the driver writing every batch into SQLite and FAISS. Per actor count: the
   photos/s in steady state (first result to last, so the pool's start-up is left out) and end to end, and the
   driver's CPU seconds per photo (time.process_time of this process, which also runs Ray Data's scheduler)
   while results stream in. Target: >= 3.5x with 4 actors, >= 6x with 8, vs 1. The driver's CPU per photo gives
   the rate one driver core can write, compared with 100 GPUs at ~200 photos/s each.
2. Real-size models on this machine: BLIP-base architecture (random weights, benchmarks/common.py), ResNet-18
   and MiniLM: the plain local loop (`index_folder`) vs Ray with 1 and 2 CPU actors (cores split between them),
   end to end (model loading, and Ray's start-up, included: a few batches give no steady rate).

Medians over `--repeats` (`--real-repeats` for part 2); the machine and how busy other programs kept it ("busy":
the share of all cores used by other processes) are printed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from common import CpuLoad, blip_base, log, machine, median, minilm, resnet18
from glimpse.indexer.distributed import RAY_ENV, RayOptions, index_folder_ray
from glimpse.indexer.models import Models
from glimpse.indexer.pipeline import Progress, index_folder
from glimpse.indexer.store import IMAGE_DIM, IndexStore
from glimpse.indexer.types import Label

GPUS, GPU_RATE = 100, 200  # the extrapolation: 100 GPUs at ~200 photos/s each (BLIP-base, batched, fp16)


# -- stand-in models: a fixed wait per batch ----------------------------------------------------------------
class WaitCaptioner:
    name, device = "wait-captioner", "cpu"

    def __init__(self, wait: float):
        self.wait = wait

    def load(self):
        return self

    def preprocess(self, image):
        return None

    def caption(self, inputs, interactive: bool = False) -> list[str]:
        time.sleep(self.wait)  # the batch's "GPU time"
        return ["a small photo of something"] * len(inputs)


class FixedClassifier:
    name, device = "fixed-classifier", "cpu"

    def load(self):
        return self

    def preprocess(self, image):
        return None

    def classify_with_features(self, inputs):
        features = np.full((len(inputs), IMAGE_DIM), IMAGE_DIM**-0.5, np.float32)
        return [[Label("tabby", 0.9), Label("tiger cat", 0.05)] for _ in inputs], features


class FixedEmbedder:
    name, dim, device = "fixed-embedder", 8, "cpu"

    def load(self):
        return self

    def embed_documents(self, texts):
        return np.full((len(texts), self.dim), self.dim**-0.5, np.float32)

    embed_queries = embed_documents


@dataclass(frozen=True)
class WaitModels:
    """The recipe each actor calls (pickled by value: this file runs as __main__)."""

    wait: float

    def __call__(self) -> Models:
        return Models(WaitCaptioner(self.wait), FixedClassifier(), FixedEmbedder())


@dataclass(frozen=True)
class RealModels:
    blip: str
    resnet: str
    text: str
    tokens: int

    def __call__(self) -> Models:
        from glimpse.indexer.models import BlipCaptioner, ResNetClassifier, TextEmbedder

        captioner = BlipCaptioner(self.blip, precision="fp32", min_new_tokens=self.tokens, max_new_tokens=self.tokens)
        return Models(captioner, ResNetClassifier(self.resnet, precision="fp32"), TextEmbedder(self.text))


class Clock(Progress):
    """When each batch was written; the driver's CPU time (the whole process: Ray Data's scheduler threads too;
    and its main thread alone: fetching, decoding and writing the results) from the results' start to their end."""

    def start(self, total: int) -> None:
        self.cpu0, self.main0, self.t0, self.writes = time.process_time(), time.thread_time(), time.perf_counter(), []

    def advance(self, n: int) -> None:
        self.writes.append((time.perf_counter(), n))

    def close(self) -> None:
        self.cpu1, self.main1, self.t1 = time.process_time(), time.thread_time(), time.perf_counter()

    def steady_rate(self) -> float:
        """Photos/s from the first written batch to the last (the pool's start-up left out)."""
        if len(self.writes) < 3:
            return float("nan")  # too few batches to tell
        (first, n0), (last, _) = self.writes[0], self.writes[-1]
        photos = sum(n for _, n in self.writes) - n0
        return photos / (last - first) if last > first else float("nan")


def make_photos(folder: Path, count: int, size=(96, 72)) -> Path:
    from tests.images import photo_like

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = folder / f"p{i:05d}.jpg"
        if not path.exists():
            photo_like(size, seed=i).save(path, quality=85)
    return folder


def one_run(photos: Path, recipe, actors: int | None, cpus: float, batch_size: int) -> dict:
    """Index `photos` into a fresh index, with Ray (`actors`) or the local loop (None)."""
    models = recipe()
    with tempfile.TemporaryDirectory() as tmp, CpuLoad() as load:
        with IndexStore.open_or_create(Path(tmp) / "idx", models.ids(), models.embedder.dim) as store:
            clock = Clock()
            if actors is None:  # the models load inside the run, as each actor's do
                summary = index_folder(photos, store, models, batch_size=batch_size, progress=clock)
            else:
                options = RayOptions(address="local", actors=actors, cpus_per_actor=cpus, retries=1)
                summary = index_folder_ray(photos, store, models, recipe, options, batch_size, progress=clock)
    assert summary.added == summary.processed and not summary.failed, summary.as_dict()
    return {
        "photos": summary.processed, "steady": clock.steady_rate(), "end_to_end": summary.rate,
        "driver_cpu_per_photo": (clock.cpu1 - clock.cpu0) / summary.processed,
        "main_cpu_per_photo": (clock.main1 - clock.main0) / summary.processed,
        "driver_cores": (clock.cpu1 - clock.cpu0) / (clock.t1 - clock.t0), "others": load.others,
    }  # fmt: skip


HEADER = "photos/s {:>6}  end2end  main ms/ph  all ms/ph  drv cores  busy"


def report(name: str, runs: list[dict], base: float | None, key: str = "steady") -> float:
    """A table line; the ratio is of `key` (steady-state photos/s, or end to end) to `base`."""

    def mid(key: str) -> float:
        return median([r[key] for r in runs])

    rate = mid(key)
    ratio = f"{rate / base:5.2f}x" if base else "   - "
    print(
        f"{name:<14} {mid('steady'):8.2f} {ratio}  {mid('end_to_end'):7.3f}  {mid('main_cpu_per_photo') * 1000:10.3f}  "
        f"{mid('driver_cpu_per_photo') * 1000:9.3f}  {mid('driver_cores'):9.2f}  {mid('others'):4.0%}",
        flush=True,
    )
    return rate


def orchestration(args, ray) -> None:
    photos = make_photos(Path(tempfile.gettempdir()) / f"glimpse-scaling-{args.photos}", args.photos)
    print(
        f"\n1. stand-ins: {args.photos} photos of 96x72, batch {args.batch_size}, {args.wait * 1000:.0f} ms per batch"
    )
    print(f"{'actors':<14} " + HEADER.format("vs 1"))
    base, last = None, []
    for actors in args.actors:
        runs = []
        for _ in range(args.repeats):
            runs.append(one_run(photos, WaitModels(args.wait), actors, 2 / max(args.actors), args.batch_size))
        rate = report(f"{actors} actor{'s' * (actors > 1)}", runs, base)
        base = base or rate
        last = runs
    # the driver's main thread is the one that can't be spread: fetching, decoding and writing the results
    per_photo = median([r["main_cpu_per_photo"] for r in last])
    enough = "enough" if per_photo * GPUS * GPU_RATE <= 1 else "NOT enough"
    print(
        f"driver main thread at {max(args.actors)} actors: {per_photo * 1000:.3f} ms CPU per photo -> it can write "
        f"~{1 / per_photo:,.0f} photos/s; {GPUS} GPUs x {GPU_RATE} photos/s = {GPUS * GPU_RATE:,} photos/s would "
        f"need {GPUS * GPU_RATE * per_photo:.1f} such threads ({enough} "
        f"for one driver); Ray Data's scheduler threads add {median([r['driver_cores'] for r in last]):.2f} cores",
        flush=True,
    )


def real_models(args, ray) -> None:
    from tests.model_factory import build_blip

    if args.real_model == "base":
        blip = blip_base()
    else:
        blip = build_blip(Path(tempfile.gettempdir()) / "glimpse-scaling-blip-tiny", size="tiny")
    recipe = RealModels(str(blip), str(resnet18()), str(minilm()), args.tokens)
    photos = make_photos(Path(tempfile.gettempdir()) / f"glimpse-scaling-real-{args.real_photos}", args.real_photos,
                         size=(640, 480))  # fmt: skip
    cores = os.cpu_count() or 1
    print(
        f"\n2. real-size models ({args.real_model} BLIP, ResNet-18, MiniLM; fp32, {args.tokens} tokens): "
        f"{args.real_photos} photos of 640x480, batch {args.real_batch}, {cores} cores"
    )
    print(f"{'engine':<14} " + HEADER.format("vs loop"))
    print("(vs loop: end to end, model loading and Ray's start-up included; too few batches for a steady rate)")
    runs = [one_run(photos, recipe, None, 0, args.real_batch) for _ in range(args.real_repeats)]
    base = report("local loop", runs, None, key="end_to_end")
    for actors in (1, 2):
        runs = [one_run(photos, recipe, actors, cores / actors, args.real_batch) for _ in range(args.real_repeats)]
        report(f"ray {actors} actor{'s' * (actors > 1)}", runs, base, key="end_to_end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--wait", type=float, default=1.0, help="seconds of stand-in model time per batch")
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--real-repeats", type=int, default=1)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-orchestration", action="store_true")
    parser.add_argument("--real-model", choices=["base", "tiny"], default="base")
    parser.add_argument("--real-photos", type=int, default=16)
    parser.add_argument("--real-batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=20)
    args = parser.parse_args()

    for name, value in RAY_ENV.items():
        os.environ.setdefault(name, value)
    import ray

    cores = os.cpu_count() or 1
    # one Ray for the whole benchmark, this machine only (the same settings as `glimpse index --ray`)
    ray.init(
        address="local", num_cpus=cores, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1",
        _system_config={"enable_metrics_collection": False},
    )  # fmt: skip
    print(f"machine: {machine()}; Ray {ray.__version__}")
    try:
        if not args.skip_orchestration:
            orchestration(args, ray)
        if not args.skip_real:
            real_models(args, ray)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    log("scaling: stand-in models first, then real-size ones (see --help)")
    main()
