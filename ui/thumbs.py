"""Small JPEG renditions of library photos for the web app: gallery tiles and the detail view's preview.

Browsers get these instead of the originals: a page of 24 thumbnails stays light even for 50-megapixel
files, HEIC photos (which browsers can't show) display, and the EXIF orientation is already applied. They are
made with the indexer's own decoder (reduced-size JPEG decoding, pixel limits), cached on disk under a name
derived from the file's path, size, mtime and the rendition size, and written atomically.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from glimpse.indexer.decode import decode
from glimpse.indexer.errors import UnreadableImage
from PIL import Image, ImageDraw

log = logging.getLogger(__name__)

TILE = 384  # short side of a gallery tile
PREVIEW = 1200  # short side of the detail view's image


class Thumbnails:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # renditions of private photos

    def get(self, source: str | os.PathLike, side: int = TILE) -> Path | None:
        """A JPEG of `source` whose short side is at most `side`; None when the file can't be read."""
        source = Path(source)
        try:
            st = source.stat()
        except OSError:
            return None
        stamp = f"\0{st.st_size}\0{st.st_mtime_ns}\0{side}".encode()
        key = hashlib.blake2b(os.fsencode(source) + stamp, digest_size=16)  # bytes: a name may not be UTF-8
        target = self.folder / f"{key.hexdigest()}.jpg"
        if target.is_file():
            return target
        try:
            image = decode(source, side=side).image
        except UnreadableImage as e:
            log.info("no thumbnail for %s: %s", source, e)
            return None
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".thumb-", suffix=".jpg")
        try:
            with os.fdopen(fd, "wb") as f:
                image.save(f, "JPEG", quality=85, optimize=True)
            os.replace(tmp, target)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def placeholder(self, text: str = "no image") -> Path:
        """A neutral tile for results that have no image (imported captions, files gone since indexing)."""
        target = self.folder / f"placeholder-{hashlib.blake2b(text.encode(), digest_size=8).hexdigest()}.png"
        if not target.is_file():
            tile = Image.new("RGB", (TILE, TILE), (236, 236, 240))
            draw = ImageDraw.Draw(tile)
            box = draw.textbbox((0, 0), text)
            draw.text(((TILE - box[2]) / 2, (TILE - box[3]) / 2), text, fill=(120, 120, 130))
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".placeholder-", suffix=".png")
            with os.fdopen(fd, "wb") as f:
                tile.save(f, "PNG")
            os.replace(tmp, target)
        return target
