"""BLIP captioning: `caption(images) -> list[str]`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from .loading import from_pretrained, quiet_transformers, resolve_device, resolve_dtype

log = logging.getLogger(__name__)


class BlipCaptioner:
    """Image captioning with BLIP (`Salesforce/blip-image-captioning-base` by default).

    `model` is a hub id, a local folder, or a loaded `BlipForConditionalGeneration` (then pass `processor`).
    """

    def __init__(
        self,
        model="Salesforce/blip-image-captioning-base",
        processor=None,
        device: str = "auto",
        precision: str = "auto",
        max_new_tokens: int = 30,
        min_new_tokens: int | None = None,
        num_beams: int = 1,
    ):
        self.name = model if isinstance(model, str) else type(model).__name__
        self._model = None if isinstance(model, str) else model
        self._processor = processor
        self._device_pref, self._precision = device, precision
        self.max_new_tokens, self.min_new_tokens, self.num_beams = max_new_tokens, min_new_tokens, num_beams
        self._lock = threading.Lock()

    def load(self) -> BlipCaptioner:
        with self._lock:
            if self._model is not None and self._processor is not None:
                return self
            from transformers import BlipForConditionalGeneration, BlipProcessor

            quiet_transformers()
            self.device = resolve_device(self._device_pref)
            self.dtype = resolve_dtype(self._precision, self.device)
            if self._processor is None:
                self._processor = from_pretrained(BlipProcessor, self.name, "caption", "GLIMPSE_CAPTION_MODEL")
            if self._model is None:
                self._model = from_pretrained(
                    BlipForConditionalGeneration, self.name, "caption", "GLIMPSE_CAPTION_MODEL"
                )
            self._model = self._model.to(self.device, dtype=self.dtype).eval()
        return self

    @property
    def loaded(self) -> bool:
        return self._model is not None and self._processor is not None and hasattr(self, "device")

    def caption(self, images: Sequence) -> list[str]:
        """Captions for a batch of RGB PIL images, in order."""
        if not images:
            return []
        if not self.loaded:
            self.load()
        import torch

        inputs = self._processor(images=list(images), return_tensors="pt")
        pixels = inputs["pixel_values"].to(self.device, dtype=self.dtype)
        kwargs = dict(max_new_tokens=self.max_new_tokens, num_beams=self.num_beams)
        if self.min_new_tokens:
            kwargs["min_new_tokens"] = self.min_new_tokens
        with torch.inference_mode():
            out = self._model.generate(pixel_values=pixels, **kwargs)
        texts = self._processor.batch_decode(out, skip_special_tokens=True)
        return [t.strip() for t in texts]
