"""Shared by the models: loading with a clear error, device and precision choice."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import socket
from urllib.parse import urlsplit

from ..errors import ModelUnavailable

log = logging.getLogger(__name__)


def resolve_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    return device


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """AMX or AVX-512 BF16: bf16 matrix work is then much faster than fp32 on the CPU."""
    from ..cpu import cpu

    return cpu().fast_bf16


PRECISIONS = ("auto", "fp32", "bf16", "int8")


def resolve_dtype(precision: str, device: str):
    """torch dtype for `precision` in auto|fp32|bf16|int8. `auto` picks bf16 only where the hardware is fast at it;
    `int8` computes in fp32 around int8 linear layers (the CPU only: see `BlipCaptioner`)."""
    import torch

    if precision in ("fp32", "int8"):
        if precision == "int8" and device != "cpu":
            raise ValueError("precision int8 runs on the CPU only: use --device cpu, or bf16 on a GPU")
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_fast_bf16() else torch.float32


# glibc serves allocations above M_MMAP_THRESHOLD with fresh mmap()ed pages and returns them on free, so
# every large activation buffer is page-faulted and zeroed by the kernel again, at every layer. Raising the
# threshold to its maximum (32 MB) and keeping freed memory for reuse makes them plain reuse (measured: the
# BLIP vision encoder 15% faster). The models keep their activation buffers under 32 MB (see blip_fast.py).
ALLOCATION_REUSE_BYTES = 32 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@functools.cache
def tune_allocator() -> bool:
    """Let glibc's malloc reuse large buffers instead of mapping fresh pages each time. Once per process;
    a no-op (False) where the C library is not glibc."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(
            libc.mallopt(_M_MMAP_THRESHOLD, ALLOCATION_REUSE_BYTES)
            and libc.mallopt(_M_TRIM_THRESHOLD, 8 * ALLOCATION_REUSE_BYTES)
        )
    except (OSError, AttributeError):
        return False


SMALL_WORK_ROWS = 4  # at most this many rows (texts, images) count as "small" work: see `small_work_threads`


_UPLOAD_THREADS = contextvars.ContextVar("glimpse_upload_threads", default=None)


@contextlib.contextmanager
def upload_threads(threads: int | None):
    """Inside this block someone waits for the small work (an upload): `small_work_threads` gives it `threads`
    torch threads instead of one (None: leave small work at one thread). See `policy.upload_threads`."""
    token = _UPLOAD_THREADS.set(threads)
    try:
        yield
    finally:
        _UPLOAD_THREADS.reset(token)


@contextlib.contextmanager
def small_work_threads(rows: int, device: str = "cpu"):
    """One torch thread for small CPU work (a query, one upload), restored afterwards; inside `upload_threads(n)`
    (an upload on a CPU where that pays: fp32 work, policy.py) `n` threads instead.

    Splitting a single short input across cores saves little and costs an OpenMP fork/join per operation,
    where every core waits for the slowest: on a shared 2-core machine that made a MiniLM query's p99 40 times
    its p50. Large batches keep all cores.
    """
    if rows > SMALL_WORK_ROWS or device != "cpu":
        yield
        return
    import torch

    want = _UPLOAD_THREADS.get() or 1
    before = torch.get_num_threads()
    if before == want:
        yield
        return
    torch.set_num_threads(want)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.cache
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController

        return ThreadpoolController()
    except Exception:  # noqa: BLE001 - not installed, or a library it can't inspect: leave the threads alone
        return None


@contextlib.contextmanager
def blas_threads(threads: int | None):
    """numpy's BLAS (OpenBLAS, MKL) limited to `threads` inside the block (None: as it is). A small product split
    across threads costs more in hand-offs than it saves; on a busy machine many times more (measured: a 64-text
    batch of the lean text engine took 44 s with OpenBLAS's own threads, 2 s with one)."""
    controller = _blas_controller() if threads else None
    if controller is None:
        yield
        return
    with controller.limit(limits=threads, user_api="blas"):
        yield


def quiet_transformers() -> None:
    """Model loading chatter (progress bars, 'weights not used') is not the user's business."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() not in ("0", "", "false", "no")


def unreachable(url: str, timeout: float = 3.0) -> str | None:
    """Why `url`'s host can't be reached right now, or None. One quick TCP connect: the libraries' own
    retries with back-off would otherwise hang for minutes on a machine without network."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
        return None
    except OSError as e:
        return f"{parts.hostname} can't be reached ({e.strerror or e})"


def hub_unavailable() -> str | None:
    """Why models can't be fetched from the Hugging Face hub now, or None."""
    if hub_offline():
        return "not in the local cache, and HF_HUB_OFFLINE is set"
    reason = unreachable(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    return f"not in the local cache, and {reason}" if reason else None


def hub_model_missing(name: str) -> str | None:
    """Why the hub model or folder `name` could not be loaded, found without loading it (or importing torch):
    None when it is a folder, in the Hugging Face cache, or can be downloaded now."""
    path = os.path.expanduser(name)
    if looks_like_path(name):
        return None if os.path.isdir(path) else "no such folder"
    if os.path.isdir(path):
        return None
    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(name, "config.json"), str):
            return None
    except Exception:  # noqa: BLE001 - not a valid repo id, say: loading it will give the precise reason
        return None
    return hub_unavailable()


def torch_hub_dir() -> str:
    """torch.hub.get_dir(), without importing torch: $TORCH_HOME/hub, else $XDG_CACHE_HOME/torch/hub."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "torch"
    )
    return os.path.join(os.path.expanduser(home), "hub")


def from_pretrained(loader, name: str, kind: str, env_var: str, **kwargs):
    """`loader.from_pretrained(name)`, from the local cache first so a cached model never touches the network.

    Any failure becomes ModelUnavailable naming the model and how to point glimpse at a local copy.
    """
    if looks_like_path(name) and not os.path.isdir(os.path.expanduser(name)):
        raise ModelUnavailable(kind, name, env_var, "no such folder")
    try:
        return loader.from_pretrained(os.path.expanduser(name), local_files_only=True, **kwargs)
    except (OSError, ValueError) as first:
        if os.path.isdir(os.path.expanduser(name)):
            raise ModelUnavailable(kind, name, env_var, _short(first)) from first
        if reason := hub_unavailable():
            raise ModelUnavailable(kind, name, env_var, reason) from first
    try:
        return loader.from_pretrained(name, **kwargs)
    except (OSError, ValueError) as e:
        raise ModelUnavailable(kind, name, env_var, _short(e)) from e


def looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or os.sep in name and os.path.exists(name.split(os.sep)[0])


def _short(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
