"""The interfaces the rest of glimpse relies on, one per model kind.

The pipeline (`indexer.pipeline`), the importer, search and the UI use the models only through these, so a
test fake or another engine fits anywhere a real model does, as long as it has every member below. They say
what is used, nothing more: the real classes (`BlipCaptioner`, `ResNetClassifier`, `TextEmbedder`) have more.

Images are upright RGB PIL images (see `indexer.decode`). `preprocess(image)` turns one into whatever the
same model's batch method accepts besides PIL images (the real models: a normalized tensor); the pipeline runs
it in decoding threads, beside inference, so it must be thread-safe. A model without such a step returns the
image itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..types import Label

if TYPE_CHECKING:
    from PIL import Image


@runtime_checkable
class Captioner(Protocol):
    """Image captioning, one batch method: `caption(images) -> list[str]`."""

    name: str  # the model id the index manifest records

    @property
    def device(self) -> str:
        """Where inference runs (`cpu`, `cuda`, `cuda:1`): the pipeline plans its inference lanes for it."""
        ...

    def load(self) -> Captioner:
        """Load now (otherwise the first use does); raises ModelUnavailable. Returns the model itself."""
        ...

    def preprocess(self, image: Image.Image) -> Any:
        """One image to the input `caption` takes for it (thread-safe; see the module's docstring)."""
        ...

    def caption(self, images: Sequence[Any], interactive: bool = False) -> list[str]:
        """Captions for PIL images or `preprocess` outputs, in order.

        `interactive=True` says someone is waiting for these few images (an upload: `describe`), so a model
        may trade a little accuracy for latency; indexing passes False (batches: throughput).
        """
        ...


@runtime_checkable
class Classifier(Protocol):
    """Image labels, and image features from the same pass (for find similar and near-duplicates)."""

    name: str

    def load(self) -> Classifier: ...

    def preprocess(self, image: Image.Image) -> Any:
        """One image to the input `classify` and `classify_with_features` take for it (thread-safe)."""
        ...

    def classify(self, images: Sequence[Any]) -> list[list[Label]]:
        """Top labels per image, best first, for PIL images or `preprocess` outputs, in order."""
        ...

    def classify_with_features(self, images: Sequence[Any]) -> tuple[list[list[Label]], np.ndarray]:
        """Top labels per image, and image features: float32 (len(images), 512), L2-normalized rows."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Text embeddings, of documents (a photo's caption and labels) and of queries: models trained with
    different prompts for the two (e5: `query: ` / `passage: `) get each its own."""

    name: str

    @property
    def dim(self) -> int:
        """Length of the vectors it returns (may load the model)."""
        ...

    def load(self) -> Embedder: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (len(texts), dim), L2-normalized rows, in order."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """The same for search queries."""
        ...
