"""The three models behind glimpse, each behind a small batch interface:

- `BlipCaptioner.caption(images) -> list[str]`
- `ResNetClassifier.classify(images) -> list[list[Label]]`
- `TextEmbedder.embed(texts) -> np.ndarray` (float32, L2-normalized)

Each accepts a hub id, a local folder/file, or an already-built model object, and loads lazily: torch and
transformers are imported only when a model is first needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import ModelSettings
from .captioner import BlipCaptioner
from .classifier import ResNetClassifier
from .embedder import TextEmbedder

__all__ = ["BlipCaptioner", "ResNetClassifier", "TextEmbedder", "Models"]


@dataclass
class Models:
    captioner: BlipCaptioner
    classifier: ResNetClassifier
    embedder: TextEmbedder

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> Models:
        return cls(
            captioner=BlipCaptioner(settings.caption_model, device=settings.device, precision=settings.precision),
            classifier=ResNetClassifier(
                settings.classifier_weights, device=settings.device, precision=settings.precision
            ),
            embedder=TextEmbedder(settings.text_model, device=settings.device),
        )

    def load(self) -> Models:
        """Load all three now, so a missing model fails before any index is touched."""
        self.embedder.load()
        self.classifier.load()
        self.captioner.load()
        return self

    def ids(self) -> dict[str, str]:
        return {"caption": self.captioner.name, "classifier": self.classifier.name, "text": self.embedder.name}
