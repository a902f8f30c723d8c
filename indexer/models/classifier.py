"""ResNet-18 ImageNet labels: `classify(images) -> list[list[Label]]`, best first, with probabilities."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from ..config import ENV
from ..errors import ModelUnavailable
from ..types import Label
from .loading import looks_like_path, resolve_device, resolve_dtype, small_work_threads, torch_hub_dir, unreachable
from .preprocess import normalize, resize_center_crop

# torchvision's ResNet18_Weights URLs (`ResNet18_Weights.IMAGENET1K_V1.url`), to check the cache without torch
TORCHVISION_URLS = {
    name: "https://download.pytorch.org/models/resnet18-f37072fd.pth" for name in ("IMAGENET1K_V1", "DEFAULT")
}


class ResNetClassifier:
    """torchvision ResNet-18. `weights` is a torchvision weights name (`IMAGENET1K_V1`, downloaded once into the
    torch cache), a local `.pth` state dict, or an already-built `torch.nn.Module`.

    Class names and preprocessing come from the `IMAGENET1K_V1` weights' metadata, bundled with torchvision.
    """

    def __init__(self, weights="IMAGENET1K_V1", device: str = "auto", precision: str = "auto", top: int = 5):
        self.name = weights if isinstance(weights, str) else type(weights).__name__
        self._model = None if isinstance(weights, str) else weights
        self._device_pref, self._precision, self.top = device, precision, top
        self._lock = threading.Lock()
        self.categories: list[str] = []
        self._transform = None

    def load(self) -> ResNetClassifier:
        with self._lock:
            if self._transform is not None:
                return self
            import torch
            from torchvision.models import ResNet18_Weights, resnet18

            self.device = resolve_device(self._device_pref)
            self.dtype = resolve_dtype(self._precision, self.device)
            meta_weights = ResNet18_Weights.IMAGENET1K_V1
            if self._model is None:
                self._model = self._build(torch, resnet18, ResNet18_Weights)
                if self.name in ResNet18_Weights.__members__:
                    meta_weights = ResNet18_Weights[self.name]
            self.categories = list(meta_weights.meta["categories"])
            self._model = self._model.to(self.device, dtype=self.dtype, memory_format=torch.channels_last).eval()
            self._transform = _recipe(meta_weights.transforms())
        return self

    def _build(self, torch, resnet18, weights_enum):
        path = Path(self.name).expanduser()
        if path.suffix in (".pth", ".pt") or path.exists():
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)
                model = resnet18(weights=None)
                model.load_state_dict(state)
                return model
            except (OSError, RuntimeError, ValueError, KeyError) as e:
                raise self._unavailable(f"cannot read a ResNet-18 state dict: {e}") from e
        if self.name not in weights_enum.__members__:
            valid = ", ".join(weights_enum.__members__)
            raise self._unavailable(f"not a file, nor one of the weights: {valid}")
        weights = weights_enum[self.name]
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlsplit(weights.url).path).name
        if not cached.is_file() and (reason := unreachable(weights.url)):
            raise self._unavailable(f"not in the torch cache ({cached}), and {reason}")
        try:
            return resnet18(weights=weights, progress=False)
        except Exception as e:  # urllib/http/hash errors vary by torch version; all mean "not available"
            reason = f"download failed ({type(e).__name__}: {str(e)[:200]})"
            raise self._unavailable(reason) from e

    def unavailable(self) -> ModelUnavailable | None:
        """Why `load` would fail for want of the weights, found without loading them (nor importing torch)."""
        if self._model is not None:
            return None
        path = Path(self.name).expanduser()
        if path.suffix in (".pth", ".pt") or looks_like_path(self.name):
            return None if path.is_file() else self._unavailable("no such file")
        url = TORCHVISION_URLS.get(self.name)
        if url is None:
            return None  # not a weights name: `load` says which are
        cached = Path(torch_hub_dir()) / "checkpoints" / Path(urlsplit(url).path).name
        if cached.is_file() or not (reason := unreachable(url)):
            return None
        return self._unavailable(f"not in the torch cache ({cached}), and {reason}")

    def _unavailable(self, reason: str) -> ModelUnavailable:
        return ModelUnavailable("classifier", self.name, ENV["classifier_weights"], reason)

    def preprocess(self, image):
        """One PIL image to a normalized 3x224x224 tensor (resize 256, centre crop 224), as the weights' own
        transforms do, with PIL and numpy only, so decoding threads can run it beside inference."""
        if self._transform is None:
            self.load()
        resize, crop, resample, mean, std = self._transform
        return normalize(resize_center_crop(image, resize, crop, resample), 1 / 255, mean, std)

    def classify(self, images: Sequence) -> list[list[Label]]:
        """Top labels for a batch of RGB PIL images (or tensors from `preprocess`), in order."""
        labels, _ = self.classify_with_features(images)
        return labels

    def classify_with_features(self, images: Sequence) -> tuple[list[list[Label]], np.ndarray]:
        """Top labels per image, and the 512-d penultimate features (L2-normalized) from the same pass."""
        if not len(images):
            return [], np.zeros((0, 512), np.float32)
        if self._transform is None:
            self.load()
        import torch

        batch = torch.stack([im if isinstance(im, torch.Tensor) else self.preprocess(im) for im in images])
        batch = batch.to(self.device, dtype=self.dtype, memory_format=torch.channels_last)
        m = self._model
        with torch.inference_mode(), small_work_threads(len(images), self.device):
            x = m.maxpool(m.relu(m.bn1(m.conv1(batch))))
            x = m.layer4(m.layer3(m.layer2(m.layer1(x))))
            features = torch.flatten(m.avgpool(x), 1)
            probs = torch.softmax(m.fc(features).float(), dim=1)
            scores, idx = probs.topk(self.top, dim=1)
            features = torch.nn.functional.normalize(features.float(), dim=1)
        labels = [
            [Label(self.categories[i], float(s)) for s, i in zip(row_s, row_i, strict=True)]
            for row_s, row_i in zip(scores.tolist(), idx.tolist(), strict=True)
        ]
        return labels, features.cpu().numpy()


def _recipe(transform) -> tuple[int, int, int, tuple, tuple]:
    """(resize, crop, PIL resample, mean, std) of a torchvision `ImageClassification` transform."""
    from torchvision.transforms.functional import pil_modes_mapping

    return (
        int(transform.resize_size[0]),
        int(transform.crop_size[0]),
        int(pil_modes_mapping[transform.interpolation]),
        tuple(transform.mean),
        tuple(transform.std),
    )
