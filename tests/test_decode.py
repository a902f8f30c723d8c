"""Decoding: orientation, pixel formats, reduced decoding, and clear refusals."""

from __future__ import annotations

import io

import numpy as np
import pytest
from glimpse.indexer.decode import MODEL_SIDE, decode
from glimpse.indexer.errors import UnreadableImage
from PIL import Image

from tests.images import UPRIGHT_H, UPRIGHT_W, bad_library, oriented_jpeg, photo_like


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_reaches_models_upright(tmp_path, orientation):
    d = decode(oriented_jpeg(tmp_path / f"o{orientation}.jpg", orientation))
    assert d.image.size == (UPRIGHT_W, UPRIGHT_H)
    assert (d.width, d.height) == (UPRIGHT_W, UPRIGHT_H)
    px = np.asarray(d.image).astype(int)
    top, left = px[1, UPRIGHT_W // 2], px[UPRIGHT_H // 2, 1]
    assert top[0] > 200 and top[2] < 60, f"red band not on top: {top}"
    assert left[2] > 200 and left[0] < 60, f"blue band not on the left: {left}"


def test_library_of_awkward_files(tmp_path):
    expect = bad_library(tmp_path)
    for name, outcome in expect.items():
        if outcome == "ok":
            d = decode(tmp_path / name)
            assert d.image.mode == "RGB", name
            assert min(d.image.size) <= MODEL_SIDE, name
        else:
            with pytest.raises(UnreadableImage):
                decode(tmp_path / name)


def test_reasons_are_specific(tmp_path):
    expect = bad_library(tmp_path)
    assert expect
    reasons = {}
    for name in ("empty.jpg", "random.jpg", "page.png", "truncated-50.jpg", "bomb.png"):
        with pytest.raises(UnreadableImage) as info:
            decode(tmp_path / name)
        reasons[name] = str(info.value)
    assert "not an image" in reasons["random.jpg"] and "not an image" in reasons["page.png"]
    assert "truncated" in reasons["truncated-50.jpg"]
    assert "pixels" in reasons["bomb.png"]


def test_first_frame_of_animation(tmp_path):
    bad_library(tmp_path)
    assert tuple(np.asarray(decode(tmp_path / "animated.gif").image)[5, 5]) == (255, 0, 0)
    assert tuple(np.asarray(decode(tmp_path / "multipage.tiff").image)[5, 5]) == (255, 0, 0)


def test_pixel_formats_become_sensible_rgb(tmp_path):
    bad_library(tmp_path)
    deep = np.asarray(decode(tmp_path / "deep16.png").image)
    assert deep[0, 0, 0] < 10 and deep[-1, -1, 0] > 245  # the 16-bit ramp survives as 0..255
    pal = np.asarray(decode(tmp_path / "palette-alpha.png").image)
    assert tuple(pal[5, 5]) == (0, 255, 0)
    assert tuple(pal[5, 35]) == (255, 255, 255)  # the transparent palette entry is flattened onto white


def test_big_jpeg_is_decoded_reduced(tmp_path):
    path = tmp_path / "big.jpg"
    photo_like((12000, 9000)).save(path, quality=80)
    d = decode(path)
    assert (d.width, d.height) == (12000, 9000)
    assert min(d.image.size) == MODEL_SIDE


def test_bomb_is_rejected_fast(tmp_path):
    import resource
    import time

    bad_library(tmp_path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(UnreadableImage):
        decode(tmp_path / "bomb.png")
    assert time.perf_counter() - started < 2.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB: no 400 MB decode


def test_file_objects_and_exif_date():
    buf = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2020:05:17 14:03:09"
    photo_like((50, 40)).save(buf, "JPEG", exif=exif.tobytes())
    buf.seek(0)
    assert decode(buf).taken_at == "2020-05-17T14:03:09"
