from __future__ import annotations

from glimpse.indexer.scan import scan


def test_scan_finds_images_and_skips_the_rest(tmp_path):
    for rel in ["a.JPG", "b.png", "sub/c.heic", "sub/deep/d.webp", "notes.txt", ".hidden/e.jpg", ".f.jpg", "idx/g.jpg"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "dangling.jpg").symlink_to(tmp_path / "missing.jpg")
    found = [e.rel for e in scan(tmp_path, exclude=(tmp_path / "idx",))]
    assert found == ["a.JPG", "b.png", "sub/c.heic", "sub/deep/d.webp"]
    entry = next(scan(tmp_path))
    assert entry.size == 1 and entry.mtime_ns > 0 and entry.path.is_absolute()
