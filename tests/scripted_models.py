"""Stand-ins for BLIP and ResNet-18 that know the sample photos in data/photos.

The tiny random models caption a cat as word salad, which is right for testing plumbing but makes browser
screenshots useless as documentation. These return hand-written captions and labels for the six sample
photos instead (and for any other image, those of the most similar sample), through the same batch
interface as the real models, so the whole app runs unchanged. The text model stays the real MiniLM.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from glimpse.indexer.decode import decode
from glimpse.indexer.models import Embedder, Models
from glimpse.indexer.types import Label

SAMPLES: dict[str, tuple[str, list[tuple[str, float]]]] = {
    "pets/chelsea.jpg": (
        "a tabby cat with green eyes looking at the camera",
        [("tabby", 0.58), ("tiger cat", 0.22), ("Egyptian cat", 0.12), ("lynx", 0.03), ("Persian cat", 0.01)],
    ),
    "food/coffee.jpg": (
        "a cup of coffee on a red saucer on a wooden table",
        [("espresso", 0.71), ("cup", 0.14), ("coffee mug", 0.08), ("eggnog", 0.02), ("chocolate sauce", 0.01)],
    ),
    "space/astronaut.jpg": (
        "an astronaut in an orange space suit in front of a space shuttle and an american flag",
        [("military uniform", 0.31), ("space shuttle", 0.18), ("crash helmet", 0.09), ("suit", 0.05), ("pole", 0.03)],
    ),
    "space/rocket.jpg": (
        "a rocket on a launch pad at night",
        [("missile", 0.46), ("projectile", 0.31), ("space shuttle", 0.08), ("drilling platform", 0.04), ("pole", 0.03)],
    ),
    "travel/china.jpg": (
        "a traditional chinese temple on a hill above a lake",
        [("palace", 0.48), ("monastery", 0.19), ("stupa", 0.11), ("bell cote", 0.05), ("lakeside", 0.03)],
    ),
    "travel/flower.jpg": (
        "an orange dahlia flower in a garden",
        [("daisy", 0.41), ("pot", 0.13), ("hip", 0.07), ("vase", 0.04), ("bee", 0.03)],
    ),
}


def _fingerprint(image) -> np.ndarray:
    return np.asarray(image.convert("RGB").resize((12, 12)), dtype=np.float32).ravel()


class _Nearest:
    """Which sample photo an image is (or looks most like), by a 12x12 colour thumbnail."""

    def __init__(self, photos: Path):
        self.keys = list(SAMPLES)
        self.prints = np.stack([_fingerprint(decode(Path(photos) / key).image) for key in self.keys])

    def __call__(self, image) -> str:
        return self.keys[int(np.argmin(((self.prints - _fingerprint(image)) ** 2).sum(axis=1)))]


class ScriptedCaptioner:
    name = "scripted-captions"
    device = "cpu"

    def __init__(self, nearest: _Nearest):
        self.nearest = nearest
        self.delay = 0.0  # seconds per image, to make progress observable

    def load(self) -> ScriptedCaptioner:
        return self

    def preprocess(self, image):
        return image  # `caption` looks at the image itself

    def caption(self, images, interactive: bool = False) -> list[str]:
        time.sleep(self.delay * len(images))
        return [SAMPLES[self.nearest(im)][0] for im in images]


class ScriptedClassifier:
    name = "scripted-labels"

    def __init__(self, nearest: _Nearest):
        self.nearest = nearest

    def load(self) -> ScriptedClassifier:
        return self

    def preprocess(self, image):
        return image

    def classify(self, images) -> list[list[Label]]:
        return [[Label(n, s) for n, s in SAMPLES[self.nearest(im)][1]] for im in images]

    def classify_with_features(self, images) -> tuple[list[list[Label]], np.ndarray]:
        """Labels, and 512-d image features (L2-normalized): a fixed projection of the colour thumbnail."""
        projection = np.random.default_rng(0).standard_normal((12 * 12 * 3, 512)).astype(np.float32)
        features = np.stack([_fingerprint(im) for im in images]) @ projection if images else np.zeros((0, 512))
        features /= np.linalg.norm(features, axis=1, keepdims=True) + 1e-9
        return self.classify(images), features.astype(np.float32)


def scripted_models(photos: Path, embedder: Embedder) -> Models:
    """Models with scripted captions and labels for `photos` (a copy of data/photos) and a real `embedder`."""
    nearest = _Nearest(photos)
    return Models(ScriptedCaptioner(nearest), ScriptedClassifier(nearest), embedder)
