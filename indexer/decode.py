"""Stage 2: decode a photo safely into an upright RGB image small enough for the models.

- EXIF orientation is applied before any model sees the pixels.
- JPEGs are decoded at reduced size (`draft`): the models need at most 384 px.
- Every mode (CMYK, 16-bit, palette with alpha, grayscale) becomes RGB; transparency is flattened onto white.
- Images over `max_pixels` (after any reduced decoding) are rejected before their pixels are decoded.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import UnreadableImage

MODEL_SIDE = 384  # the largest input any model needs (BLIP base)
MAX_PIXELS = 120_000_000  # decoded pixels; a 100-megapixel camera still fits

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_DATETIME = 306

_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        try:
            from pillow_heif import register_heif_opener

            register_heif_opener()
        except ImportError:  # pragma: no cover - pillow-heif is a dependency, but stay usable without it
            pass
        _heif_registered = True


@dataclass
class DecodedImage:
    image: Image.Image  # RGB, upright, short side at most MODEL_SIDE
    width: int  # original size, upright
    height: int
    taken_at: str | None  # EXIF DateTimeOriginal as ISO 8601, when present
    layout: np.ndarray | None = None  # 64-d "tiny image" descriptor, for near-copy detection


def layout_descriptor(image: Image.Image, side: int = 8) -> np.ndarray:
    """An 8x8 grayscale thumbnail, zero-mean and unit-length: a weight-free descriptor of the picture's layout.

    Resized and re-encoded copies keep it almost exactly (cosine > 0.9); unrelated photos rarely pass 0.7.
    """
    small = np.asarray(image.convert("L").resize((side, side), Image.Resampling.BOX), dtype=np.float32).ravel()
    small -= small.mean()
    norm = np.linalg.norm(small)
    return small / norm if norm else small


def decode(source: str | Path | IO[bytes], side: int = MODEL_SIDE, max_pixels: int = MAX_PIXELS) -> DecodedImage:
    """Decode `source` (a path or a binary file object). Raises UnreadableImage with the reason."""
    _register_heif()
    try:
        with warnings.catch_warnings():
            # Past PIL's warning level we run our own check, after draft() has shrunk big JPEGs;
            # past twice that level PIL refuses by itself (DecompressionBombError, below).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(source)
            with img:
                return _decode_open(img, side, max_pixels)
    except UnreadableImage:
        raise
    except FileNotFoundError as e:
        raise UnreadableImage("file vanished before it could be read") from e
    except PermissionError as e:
        raise UnreadableImage("permission denied") from e
    except UnidentifiedImageError as e:
        raise UnreadableImage("not an image (unknown or damaged format)") from e
    except Image.DecompressionBombError as e:
        raise UnreadableImage(f"too many pixels: {e}") from e
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, MemoryError) as e:
        reason = str(e) or type(e).__name__
        if "truncated" in reason:
            reason = "file is truncated"
        raise UnreadableImage(f"cannot decode: {reason}") from e


def _decode_open(img: Image.Image, side: int, max_pixels: int) -> DecodedImage:
    width, height = img.size
    if width < 1 or height < 1:
        raise UnreadableImage("image has no pixels")
    exif = img.getexif()
    orientation = exif.get(0x0112, 1)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    taken_at = _taken_at(exif)
    if img.format == "JPEG":
        img.draft("RGB", (side, side))  # decode at 1/2, 1/4 or 1/8 scale when that still covers `side`
    if img.size[0] * img.size[1] > max_pixels:
        raise UnreadableImage(f"too many pixels: {img.size[0]}x{img.size[1]} exceeds the limit of {max_pixels}")
    img.seek(0)  # first frame of a GIF or multi-page TIFF
    img.load()
    img = _reduce(img, side)
    img = _to_rgb(ImageOps.exif_transpose(img) or img)
    return DecodedImage(image=img, width=width, height=height, taken_at=taken_at, layout=layout_descriptor(img))


def _reduce(img: Image.Image, side: int) -> Image.Image:
    """Shrink so the short side is `side` (never enlarge), keeping the aspect ratio."""
    short = min(img.size)
    if short <= side:
        return img
    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = _to_rgb(img)
    scale = side / short
    size = (max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale)))
    return img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        if img.mode == "F":
            top = float(arr.max()) or 1.0
        img = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _taken_at(exif: Image.Exif) -> str | None:
    raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip("\x00 ").strip(), "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None
