"""BLIP captioning: `caption(images) -> list[str]`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from ..config import ENV
from ..errors import ModelUnavailable
from .blip_fast import SMALL_BATCH
from .loading import (
    from_pretrained,
    hub_model_missing,
    quiet_transformers,
    resolve_device,
    resolve_dtype,
    small_work_threads,
    tune_allocator,
)
from .loading import upload_threads as upload_threads_block
from .policy import upload_int8, upload_threads
from .preprocess import to_pixels

log = logging.getLogger(__name__)


class BlipCaptioner:
    """Image captioning with BLIP (`Salesforce/blip-image-captioning-base` by default).

    `model` is a hub id, a local folder, or a loaded `BlipForConditionalGeneration` (then pass `processor`).
    Greedy captioning (`num_beams=1`, the default) runs through `FastBlipCaptioning` (see blip_fast.py): the
    same model, with fused attention and a leaner decoding loop; `fast=False` uses transformers' `generate`.
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
        fast: bool = True,
    ):
        self.name = model if isinstance(model, str) else type(model).__name__
        self._model = None if isinstance(model, str) else model
        self._processor = processor
        self._device_pref, self._precision = device, precision
        self._device: str | None = None
        self.max_new_tokens, self.min_new_tokens, self.num_beams = max_new_tokens, min_new_tokens, num_beams
        self.fast = fast
        self._fast = None
        self._int8_small = False
        self._lock = threading.Lock()

    def unavailable(self) -> ModelUnavailable | None:
        """Why `load` would fail for want of the model, found without loading it (nor importing torch)."""
        if self._model is not None or (reason := hub_model_missing(self.name)) is None:
            return None
        return ModelUnavailable("caption", self.name, ENV["caption_model"], reason)

    def load(self) -> BlipCaptioner:
        with self._lock:
            if self.loaded:
                return self
            import torch
            from transformers import BlipForConditionalGeneration, BlipProcessor

            from .blip_fast import FastBlipCaptioning, plain_greedy, quantize_linears

            quiet_transformers()
            tune_allocator()
            self._device = resolve_device(self._device_pref)
            self.dtype = resolve_dtype(self._precision, self._device)
            if self._processor is None:
                self._processor = from_pretrained(BlipProcessor, self.name, "caption", ENV["caption_model"])
            if self._model is None:  # loaded straight in the working dtype: no fp32 copy in memory first
                self._model = from_pretrained(
                    BlipForConditionalGeneration, self.name, "caption", ENV["caption_model"], dtype=self.dtype
                )
            self._model = self._model.to(self.device, dtype=self.dtype).eval()
            if self.fast and plain_greedy(getattr(self._model, "generation_config", None), self.num_beams):
                self._fast = FastBlipCaptioning(self._model)
            # uploads (`caption(..., interactive=True)`, one or two images): threads and int8 decoder weights as
            # policy.py chooses for this CPU and precision (int8 weights made on first use); `--precision int8`
            # makes the vision encoder's linear layers int8 now and decodes everything with int8 weights
            dtype_name = "bf16" if self.dtype == torch.bfloat16 else "fp32"
            self.upload_threads = upload_threads(dtype_name) if self.device == "cpu" else None
            self._int8_small = self._fast is not None and upload_int8(self._precision, self.device, dtype_name)[0]
            self._int8_all = self._precision == "int8"
            if self._int8_all:
                if self._fast is not None:
                    self._fast.quantize_vision()
                    self._fast.quantize_decoder()
                else:
                    quantize_linears(self._model.vision_model.encoder)
            ip = self._processor.image_processor
            self._pixel_spec = (
                (int(ip.size["width"]), int(ip.size["height"])),
                int(getattr(ip, "resample", 3)),
                float(getattr(ip, "rescale_factor", 1 / 255)),
                tuple(ip.image_mean),
                tuple(ip.image_std),
            )
        return self

    @property
    def device(self) -> str:
        """Where inference runs: the `device` argument, with `auto` resolved (`cuda` when available)."""
        if self._device is None:
            self._device = resolve_device(self._device_pref)
        return self._device

    @property
    def loaded(self) -> bool:
        return self._model is not None and self._processor is not None and hasattr(self, "_pixel_spec")

    def preprocess(self, image):
        """One RGB PIL image to the model's normalized input (3 x H x W, float32). Thread-safe, torch-free
        maths (PIL resize, numpy), so decoding threads can run it beside inference without competing threads."""
        if not self.loaded:
            self.load()
        size, resample, rescale, mean, std = self._pixel_spec
        return to_pixels(image, size, resample, rescale, mean, std)

    def caption(self, images: Sequence, interactive: bool = False) -> list[str]:
        """Captions for a batch of RGB PIL images (or tensors from `preprocess`), in order.

        `interactive=True` says someone is waiting for these images (an upload: `describe`). Then one or two
        images run with the upload's threads (every core for fp32 work, one for bf16: policy.upload_threads)
        and, under precision `auto` on a CPU where it measured faster (policy.upload_int8), decode with int8
        weights (made on first use): a single image's decoding waits on reading the decoder's weights at every
        token, and int8 reads fewer bytes, but bigger batches are faster in the working precision. Indexing
        passes False: its batches keep the working precision (except under `--precision int8`).
        """
        if not len(images):
            return []
        if not self.loaded:
            self.load()
        import torch

        pixels = torch.stack([im if isinstance(im, torch.Tensor) else self.preprocess(im) for im in images])
        pixels = pixels.to(self.device, dtype=self.dtype)
        upload = interactive and len(images) <= SMALL_BATCH
        int8 = self._fast is not None and (self._int8_all or (self._int8_small and upload))
        if int8 and not self._fast.int8_decoder:
            with self._lock:
                self._fast.quantize_decoder()
        threads = self.upload_threads if upload else None
        with torch.inference_mode(), upload_threads_block(threads), small_work_threads(len(images), self.device):
            if self._fast is not None:
                out = self._fast.generate(pixels, self.max_new_tokens, self.min_new_tokens or 0, int8=int8)
            else:
                kwargs = dict(max_new_tokens=self.max_new_tokens, num_beams=self.num_beams)
                if self.min_new_tokens:
                    kwargs["min_new_tokens"] = self.min_new_tokens
                out = self._model.generate(pixel_values=pixels, **kwargs)
        texts = self._processor.batch_decode(out, skip_special_tokens=True)
        return [t.strip() for t in texts]
