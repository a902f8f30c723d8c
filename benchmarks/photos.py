"""Benchmark photos: a deterministic mix of sizes and formats made from the sample photos in data/photos.

Every fourth photo is a 12-megapixel JPEG (4000x3000 or 3000x4000, as phones take them), the rest range from
640x480 to 1920x1080, a few are PNGs, and some carry an EXIF orientation. Upscaled photos get film grain so
their JPEGs are as large as a camera's (a few MB), which keeps decoding honest.
"""

from __future__ import annotations

import random
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "data" / "photos"
VERSION = 1  # bump when the recipe changes, so cached folders are rebuilt

# (width, height, format); 12-megapixel JPEGs every fourth photo
SIZES = [
    (4000, 3000, "JPEG"),
    (1920, 1080, "JPEG"),
    (1024, 768, "JPEG"),
    (640, 480, "PNG"),
    (3000, 4000, "JPEG"),
    (1600, 1200, "JPEG"),
    (800, 600, "JPEG"),
    (1280, 960, "JPEG"),
]


def make_photos(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """Write `count` photos into `folder` (reused when already complete); return their paths, sorted."""
    from PIL import Image, ImageEnhance, ImageOps

    folder = Path(folder)
    done = folder / f".complete-v{VERSION}-{count}-{seed}"
    if done.is_file():
        return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    sources = sorted(SOURCES.rglob("*.jpg"))
    paths = []
    for i in range(count):
        width, height, fmt = SIZES[i % len(SIZES)]
        with Image.open(sources[i % len(sources)]) as src:
            img = ImageOps.exif_transpose(src).convert("RGB")
        img = _crop_to_aspect(img, width / height, rng)
        if rng.random() < 0.5:
            img = ImageOps.mirror(img)
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.8, 1.2))
        img = img.resize((width, height), Image.Resampling.BICUBIC)
        if width * height > 1_000_000:
            img = _grain(img, rng)
        sub = folder / f"set{i % 4}"
        sub.mkdir(exist_ok=True)
        if fmt == "PNG":
            path = sub / f"photo{i:04d}.png"
            img.save(path, optimize=False)
        else:
            path = sub / f"photo{i:04d}.jpg"
            exif = Image.Exif()
            exif[0x0132] = f"2024:0{1 + i % 9}:1{i % 10} 12:00:00"
            if i % 5 == 0:  # stored sideways with an orientation tag, as phones do
                img = img.transpose(Image.Transpose.ROTATE_90)
                exif[0x0112] = 6
            img.save(path, quality=92, exif=exif)
        paths.append(path)
    done.write_text("ok\n")
    return sorted(paths)


def _crop_to_aspect(img, aspect: float, rng: random.Random):
    w, h = img.size
    if w / h > aspect:
        cw, ch = round(h * aspect), h
    else:
        cw, ch = w, round(w / aspect)
    cw, ch = max(1, round(cw * rng.uniform(0.85, 1.0))), max(1, round(ch * rng.uniform(0.85, 1.0)))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return img.crop((x, y, x + cw, y + ch))


def _grain(img, rng: random.Random):
    """Add fine noise, as a camera sensor does, so the JPEG carries realistic detail."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(img, dtype=np.int16)
    noise = np.random.default_rng(rng.randrange(1 << 30)).integers(-6, 7, size=arr.shape, dtype=np.int16)
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))
