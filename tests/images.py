"""Generators for the awkward files real photo libraries contain (used by decode and indexing tests)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

# Pixels that reveal orientation: red band on the top row, blue band on the left column of the *upright* image.
UPRIGHT_W, UPRIGHT_H = 60, 40


def upright() -> Image.Image:
    img = Image.new("RGB", (UPRIGHT_W, UPRIGHT_H), (128, 128, 128))
    img.paste((255, 0, 0), (0, 0, UPRIGHT_W, 6))
    img.paste((0, 0, 255), (0, 6, 6, UPRIGHT_H))
    return img


# How each EXIF orientation stores an upright image (the inverse of what exif_transpose applies).
_STORE = {
    1: [],
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_90],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_270],
}


def oriented_jpeg(path: Path, orientation: int) -> Path:
    img = upright()
    for op in _STORE[orientation]:
        img = img.transpose(op)
    exif = Image.Exif()
    exif[0x0112] = orientation
    img.save(path, quality=95, exif=exif.tobytes())
    return path


def photo_like(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Smooth random colours: compresses like a photo, unlike pure noise."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def bad_library(root: Path) -> dict[str, str]:
    """Write every kind of awkward file into `root`. Returns {relative path: 'ok' or 'fail'} expectations."""
    root.mkdir(parents=True, exist_ok=True)
    expect: dict[str, str] = {}

    def put(name: str, data: bytes, outcome: str) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        expect[name] = outcome

    def encoded(img: Image.Image, fmt: str, **kw) -> bytes:
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        return buf.getvalue()

    jpeg = encoded(photo_like((800, 600)), "JPEG", quality=90)
    # not an image
    put("empty.jpg", b"", "fail")
    put("random.jpg", os.urandom(4096), "fail")
    put("page.png", b"<!doctype html><html><body>not a picture</body></html>", "fail")
    # damaged
    for pct in (10, 50, 90):
        put(f"truncated-{pct}.jpg", jpeg[: len(jpeg) * pct // 100], "fail")
    # oversized: a decompression bomb (20000x20000, one colour, tiny file) is refused
    put("bomb.png", encoded(Image.new("1", (20000, 20000)), "PNG", optimize=True), "fail")
    # multi-frame: first frame used
    frames = [Image.new("RGB", (50, 40), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    put("animated.gif", buf.getvalue(), "ok")
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    put("multipage.tiff", buf.getvalue(), "ok")
    # unusual pixel formats
    put("cmyk.jpg", encoded(photo_like((120, 80)).convert("CMYK"), "JPEG"), "ok")
    arr16 = (np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16)
    put("deep16.png", encoded(Image.fromarray(arr16), "PNG"), "ok")
    pal = Image.new("P", (40, 30), 0)
    pal.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    pal.paste(1, (0, 0, 20, 30))
    put("palette-alpha.png", encoded(pal, "PNG", transparency=0), "ok")
    put("gray.jpg", encoded(photo_like((90, 60)).convert("L"), "JPEG"), "ok")
    put("webp.webp", encoded(photo_like((90, 60)), "WEBP"), "ok")
    put("bitmap.bmp", encoded(photo_like((90, 60)), "BMP"), "ok")
    from pillow_heif import register_heif_opener

    register_heif_opener()  # so PIL can also *write* HEIF here
    put("phone.heic", encoded(photo_like((90, 60)), "HEIF"), "ok")
    # odd sizes
    put("one-pixel.png", encoded(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG"), "ok")
    put("panorama.png", encoded(Image.new("RGB", (30000, 10), (20, 120, 200)), "PNG"), "ok")
    # names
    put("unicode ñandú 写真.jpg", jpeg, "ok")
    put("new\nline.jpg", encoded(photo_like((64, 48), seed=3), "JPEG"), "ok")
    return expect
