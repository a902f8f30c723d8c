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


def write_set(root: Path, limit: int | None = None) -> dict[str, str]:
    """Write the set under `root`; returns {relative path: group name}."""
    root.mkdir(parents=True, exist_ok=True)
    truth = {}
    for name, img in base_photos(limit):
        img.save(root / f"{name}.jpg", quality=92)
        truth[f"{name}.jpg"] = name
        for kind in VARIANTS:
            variant(img, kind).save(root / f"{name}-{kind}.jpg", quality=92)
            truth[f"{name}-{kind}.jpg"] = name
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
