"""Export to the tools people already use, read back with exiftool (an independent reader): XMP sidecars merged
into, never clobbered; a CSV exiftool applies; JSON; metadata written into the images with their pixels untouched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")

CAPTION = 'Niño comiendo piñata en "La Coruña" <3 & más 🎉'
EXISTING = """<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/'>
<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
 <rdf:Description rdf:about='' xmlns:xmp='http://ns.adobe.com/xap/1.0/' xmlns:dc='http://purl.org/dc/elements/1.1/'
  xmlns:darktable='http://darktable.sf.net/'>
  <xmp:Rating>4</xmp:Rating>
  <darktable:history_end>3</darktable:history_end>
  <dc:subject><rdf:Bag><rdf:li>holiday</rdf:li><rdf:li>Fiesta</rdf:li></rdf:Bag></dc:subject>
  <dc:description><rdf:Alt><rdf:li xml:lang='x-default'>old words</rdf:li>
   <rdf:li xml:lang='es'>una fiesta</rdf:li></rdf:Alt></dc:description>
 </rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>
"""


def exif(*args) -> list[dict]:
    out = subprocess.run(["exiftool", "-j", "-G1", "-a", *map(str, args)], capture_output=True, check=True)
    return json.loads(out.stdout)


def listed(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


@pytest.fixture
def curated(tiny_models_env, library, tmp_path, run_cli):
    """An index of data/photos plus a photo with a non-ASCII name; that photo's caption and labels edited."""
    shutil.copy(library / "food" / "coffee.jpg", library / "food" / "café niño.jpg")
    index = tmp_path / "index"
    assert run_cli("index", library, "--index", index)[0] == 0
    photo = library / "food" / "café niño.jpg"
    args = ["edit", photo, "--index", index, "--caption", CAPTION, "--add-label", "Fiesta", "--add-label", "piñata"]
    code, _, err = run_cli(*args)
    assert code == 0, err
    return index, photo


@pytest.mark.parametrize("name", ["jpg.xmp", "xmp"])
def test_sidecars_round_trip_and_a_second_export_changes_nothing(curated, run_cli, name):
    index, photo = curated
    code, out, err = run_cli("export", "--xmp", "--sidecar-name", name, "--only", "edited", "--index", index)
    assert code == 0, err
    sidecar = photo.with_name(photo.name + ".xmp") if name == "jpg.xmp" else photo.with_suffix(".xmp")
    assert "1 new" in out and str(sidecar) in out
    (got,) = exif(sidecar)
    assert got["XMP-dc:Description"] == CAPTION and got["XMP-iptcCore:AltTextAccessibility"] == CAPTION
    assert listed(got["XMP-dc:Subject"]) == ["Fiesta", "piñata"]
    assert listed(got["XMP-lr:HierarchicalSubject"]) == ["Fiesta", "piñata"]
    assert got["XMP-photoshop:CaptionWriter"] == "glimpse (edited by a person)"
    assert not any("DigitalSourceType" in key for key in got)
    assert not list(photo.parent.glob(".*"))  # no temp file left behind
    before = (sidecar.read_bytes(), sidecar.stat().st_mtime_ns)
    code, out, err = run_cli("export", "--xmp", "--sidecar-name", name, "--only", "edited", "--index", index)
    assert code == 0 and "0 new, 0 updated, 1 unchanged" in out, out + err
    assert (sidecar.read_bytes(), sidecar.stat().st_mtime_ns) == before


def test_an_existing_sidecar_is_merged_into_never_clobbered(curated, run_cli):
    index, photo = curated
    sidecar = photo.with_name(photo.name + ".xmp")
    sidecar.write_text(EXISTING)
    code, out, err = run_cli("export", "--xmp", "--index", index, "--only", "edited")
    assert code == 0 and "1 updated" in out, out + err
    (got,) = exif(sidecar)
    assert got["XMP-xmp:Rating"] == 4 and got["XMP-darktable:History_end"] == 3
    assert got["XMP-dc:Description"] == CAPTION and got["XMP-dc:Description-es"] == "una fiesta"
    assert listed(got["XMP-dc:Subject"]) == ["holiday", "Fiesta", "piñata"]  # the user's first, no duplicate
    # a label glimpse wrote and no longer has goes; the user's keywords stay, even one glimpse had too
    assert run_cli("edit", photo, "--index", index, "--remove-label", "piñata", "--remove-label", "fiesta")[0] == 0
    assert run_cli("export", "--xmp", "--index", index, "--only", "edited")[0] == 0
    (got,) = exif(sidecar)
    assert listed(got["XMP-dc:Subject"]) == ["holiday", "Fiesta"] and got["XMP-xmp:Rating"] == 4
    assert "XMP-lr:HierarchicalSubject" not in got


def test_malformed_sidecars_and_read_only_folders_are_skipped(curated, library, run_cli):
    index, photo = curated
    bad = photo.with_name(photo.name + ".xmp")
    bad.write_bytes(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF><broken")
    locked = library / "space"
    locked.chmod(0o555)
    try:
        code, out, err = run_cli("export", "--xmp", "--index", index)
    finally:
        locked.chmod(0o755)
    assert code == 1, out + err
    assert f"skipped {bad}: it is not valid XMP" in err and "read-only" in err and str(locked) in err
    assert bad.read_bytes() == b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF><broken"
    assert not list(locked.glob("*.xmp")) and (library / "pets" / "chelsea.jpg.xmp").is_file()
    code, out, _ = run_cli("export", "--xmp", "--index", index, "--dry-run")  # the folder is writable again
    assert "would write 2 new" in out and str(locked / "rocket.jpg.xmp") in out and not list(locked.glob("*.xmp"))


def test_the_csv_is_applied_by_exiftool_and_the_json_has_every_field(curated, library, tmp_path, run_cli):
    index, photo = curated
    table, data = tmp_path / "out.csv", tmp_path / "out.json"
    code, out, err = run_cli("export", "--csv", table, "--json", data, "--index", index, "--only", "edited")
    assert code == 0, err
    subprocess.run(["exiftool", f"-csv={table}", "-sep", ", ", "-overwrite_original", str(photo)], check=True,
                   capture_output=True)  # fmt: skip
    (got,) = exif(photo)
    assert got["XMP-dc:Description"] == CAPTION and got["XMP-iptcCore:AltTextAccessibility"] == CAPTION
    assert listed(got["XMP-dc:Subject"]) == ["Fiesta", "piñata"]
    (row,) = json.loads(data.read_text())
    assert row["caption"] == CAPTION and row["human"] and row["machine_caption"] and row["file"] == str(photo)
    assert row["keywords"] == ["Fiesta", "piñata"] and row["caption_writer"] == "glimpse (edited by a person)"


def test_embed_writes_into_the_image_and_keeps_its_pixels(curated, run_cli):
    index, photo = curated
    original = photo.read_bytes()
    with Image.open(photo) as im:
        pixels = np.asarray(im).copy()
    code, out, err = run_cli("export", "--embed", "--index", index, "--only", "edited")
    assert code == 0 and "rewrites the metadata inside your image files" in err, out + err
    (got,) = exif(photo)
    assert got["XMP-dc:Description"] == CAPTION and listed(got["XMP-dc:Subject"]) == ["Fiesta", "piñata"]
    with Image.open(photo) as im:
        assert np.array_equal(np.asarray(im), pixels)
    assert photo.with_name(photo.name + "_original").read_bytes() == original


def test_export_without_exiftool_says_so(curated, run_cli, monkeypatch):
    index, _ = curated
    monkeypatch.setenv("PATH", os.defpath.replace("/usr/bin", "/nonexistent").replace("/bin", "/nonexistent"))
    code, _, err = run_cli("export", "--xmp", "--index", index)
    assert code == 1 and "exiftool is not installed" in err
