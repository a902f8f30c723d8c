"""Model inputs from PIL images, with PIL and numpy only.

PIL's resize and numpy release the GIL and start no thread pools, so the decoding threads can prepare the
next batch while torch uses every core for the current one (a torch op in a worker thread would start its own
OpenMP team and oversubscribe the cores).
"""

from __future__ import annotations

import numpy as np


def normalize(image, rescale: float, mean, std):
    """HWC uint8 image to a CHW float32 tensor: `(pixel * rescale - mean) / std` per channel."""
    import torch

    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    arr = arr[:, :, :3] * np.float32(rescale)
    arr -= np.asarray(mean, dtype=np.float32)
    arr /= np.asarray(std, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def to_pixels(image, size: tuple[int, int], resample: int, rescale: float, mean, std):
    """Resize to exactly `size` (width, height), as BLIP's processor does, then normalize."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    if image.size != tuple(size):
        image = image.resize(tuple(size), resample)
    return normalize(image, rescale, mean, std)


def resize_center_crop(image, resize: int, crop: int, resample: int):
    """Short side to `resize`, then the central `crop` x `crop` square (torchvision's ImageNet recipe)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    w, h = image.size
    if w <= h:
        size = (resize, int(resize * h / w))
    else:
        size = (int(resize * w / h), resize)
    if image.size != size:
        image = image.resize(size, resample)
    w, h = size
    left, top = int(round((w - crop) / 2.0)), int(round((h - crop) / 2.0))
    return image.crop((left, top, left + crop, top + crop))
