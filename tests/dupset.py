"""A generated near-duplicate set: real photos, each with resized, re-encoded, cropped and burst-like copies."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

REPO = Path(__file__).resolve().parent.parent
VARIANTS = ("resized", "reencoded", "cropped", "burst")


def base_photos(limit: int | None = None) -> list[tuple[str, Image.Image]]:
    """The repo's sample photos plus scikit-image's bundled ones (all real, mutually unrelated)."""
    out = [(p.stem, Image.open(p).convert("RGB")) for p in sorted((REPO / "data" / "photos").rglob("*.jpg"))]
    try:
        import skimage.data as sk

        for name in ("camera", "coins", "moon", "page", "text", "horse", "brick", "grass", "gravel", "clock",
                     "hubble_deep_field", "immunohistochemistry", "retina", "logo", "colorwheel", "cell"):  # fmt: skip
            try:
                arr = getattr(sk, name)()
            except Exception:  # noqa: BLE001 - some need a download: skip those
                continue
            img = Image.fromarray(np.asarray(arr if arr.dtype == np.uint8 else (arr * 255).astype(np.uint8)))
            out.append((name, img.convert("RGB")))
    except ImportError:
        pass
    return out[:limit] if limit else out


def variant(img: Image.Image, kind: str) -> Image.Image:
    w, h = img.size
    if kind == "resized":
        return img.resize((w // 2, h // 2), Image.Resampling.LANCZOS)
    if kind == "reencoded":
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=35)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    if kind == "cropped":
        return img.crop((w // 12, h // 12, w - w // 12, h - h // 12))
    if kind == "burst":  # the next frame of a burst: a small shift and a change of light
        shifted = img.crop((w // 40, 0, w, h - h // 40)).resize((w, h))
        return ImageEnhance.Brightness(shifted).enhance(1.08)
    raise ValueError(kind)


def _write(root: Path, limit: int | None, kinds, make, quality: int) -> dict[str, str]:
    """Each base photo and its copies of `kinds` (made by `make(img, kind)`) under `root`: {relative path: group}."""
    root.mkdir(parents=True, exist_ok=True)
    truth = {}
    for name, img in base_photos(limit):
        img.save(root / f"{name}.jpg", quality=quality)
        truth[f"{name}.jpg"] = name
        for kind in kinds:
            make(img, kind).save(root / f"{name}-{kind}.jpg", quality=quality)
            truth[f"{name}-{kind}.jpg"] = name
    return truth


def write_set(root: Path, limit: int | None = None) -> dict[str, str]:
    """Write the set under `root`; returns {relative path: group name}."""
    return _write(root, limit, VARIANTS, variant, quality=92)


# A second, separate set for the thresholds chosen on the one above: copies made in other ways, and a real pair
# of photos of one scene (scikit-image's stereo motorcycle: the left and right views).
HOLDOUT_VARIANTS = ("small", "webp", "corner", "tilted", "dimmer")


def holdout_variant(img: Image.Image, kind: str) -> Image.Image:
    w, h = img.size
    if kind == "small":  # a thumbnail, saved harder
        buf = io.BytesIO()
        img.resize((max(8, w * 3 // 10), max(8, h * 3 // 10)), Image.Resampling.BILINEAR).save(buf, "JPEG", quality=60)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    if kind == "webp":
        buf = io.BytesIO()
        img.save(buf, "WEBP", quality=25)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    if kind == "corner":  # cropped from one corner, not evenly
        return img.crop((w // 7, h // 7, w, h))
    if kind == "tilted":  # straightened by 3 degrees, the borders cut
        return img.rotate(3, resample=Image.Resampling.BICUBIC).crop((w // 25, h // 25, w - w // 25, h - h // 25))
    if kind == "dimmer":  # another exposure
        return ImageEnhance.Contrast(ImageEnhance.Brightness(img).enhance(0.85)).enhance(1.15)
    raise ValueError(kind)


def write_holdout_set(root: Path, limit: int | None = None) -> dict[str, str]:
    """The held-out set under `root`; returns {relative path: group name}."""
    truth = _write(root, limit, HOLDOUT_VARIANTS, holdout_variant, quality=90)
    try:
        import skimage.data as sk

        left, right, _ = sk.stereo_motorcycle()
        for side, arr in (("left", left), ("right", right)):
            Image.fromarray(arr).convert("RGB").save(root / f"motorcycle-{side}.jpg", quality=90)
            truth[f"motorcycle-{side}.jpg"] = "motorcycle"
    except Exception:  # noqa: BLE001 - no scikit-image, or its sample needs a download
        pass
    return truth


def pair_scores(groups: list[list[str]], truth: dict[str, str]) -> dict:
    """Pairwise precision and recall of predicted groups (lists of relative paths) against `truth`."""
    predicted = {frozenset((a, b)) for g in groups for i, a in enumerate(g) for b in g[i + 1 :]}
    names = sorted(truth)
    actual = {frozenset((a, b)) for i, a in enumerate(names) for b in names[i + 1 :] if truth[a] == truth[b]}
    tp = len(predicted & actual)
    return {
        "precision": tp / len(predicted) if predicted else 1.0,
        "recall": tp / len(actual) if actual else 1.0,
        "pairs_predicted": len(predicted),
        "pairs_actual": len(actual),
    }
