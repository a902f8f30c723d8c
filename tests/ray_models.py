"""Models for the Ray tests, built on each worker the way `Models.from_settings` is in production: a picklable
recipe the driver sends to every actor (see indexer/distributed.py). Each build appends the worker's pid to
`load_log`, so a test can count model loads per actor. A solid magenta photo is a "poison" image: the worker
that prepares it dies at once (os._exit), as a crash in a native decoder or model would kill it."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

POISON = (255, 0, 255)


@dataclass(frozen=True)
class TinyModels:
    blip: str
    resnet: str
    load_log: str | None = None

    def __call__(self):
        from glimpse.indexer.models import BlipCaptioner, Models, ResNetClassifier

        from tests.conftest import DemoEmbedder

        if self.load_log:
            with open(self.load_log, "a") as f:
                f.write(f"{os.getpid()}\n")
        captioner = BlipCaptioner(self.blip, precision="fp32", max_new_tokens=8)
        return Models(PoisonAware(captioner), ResNetClassifier(self.resnet, precision="fp32"), DemoEmbedder())


class PoisonAware:
    """The captioner, except that preparing a poison photo kills the process."""

    def __init__(self, captioner):
        self._captioner = captioner

    def __getattr__(self, name):
        return getattr(self._captioner, name)

    def load(self):
        self._captioner.load()
        return self

    def preprocess(self, image):
        pixels = np.asarray(image.convert("RGB").resize((8, 8)))
        if (np.abs(pixels.astype(int) - POISON) < 8).all():
            os._exit(3)
        return self._captioner.preprocess(image)
