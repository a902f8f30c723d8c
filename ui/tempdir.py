"""The web app's own temporary folder: uploads, the files Gradio sends to browsers (gallery tiles, examples),
and thumbnails.

Gradio keeps these in GRADIO_TEMP_DIR, by default `/tmp/gradio`: one folder shared by every Gradio app of every
user on the machine, any file of which its file route serves. glimpse keeps them in a folder of its own per
index, private to the user (mode 0700): `$GLIMPSE_TEMP_DIR/KEY`, by default `$TMPDIR/glimpse-UID/KEY`, KEY
derived from the index folder's path; and it serves nothing else from temp (guard.py).

Gradio reads the location from the environment when each component is built, when the server starts and when
an upload is checked, so `build_app` claims the folder (`for_index`) and sets it (`use`) before it builds
anything; it stays set for the process.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from glimpse.indexer.config import ENV

GRADIO_VARIABLE = "GRADIO_TEMP_DIR"


class UnsafeTempFolder(PermissionError):
    """The temporary folder exists but is not a private folder of this user's."""


def base() -> Path:
    """`$GLIMPSE_TEMP_DIR`, else `glimpse-UID` in the system's temporary folder."""
    if os.environ.get(ENV["temp"]):
        return Path(os.environ[ENV["temp"]]).expanduser()
    return Path(tempfile.gettempdir()) / f"glimpse-{os.getuid()}"


def for_index(index_dir: str | os.PathLike) -> Path:
    """The private temporary folder of the app over the index at `index_dir`, created if need be."""
    key = hashlib.blake2b(str(Path(index_dir).expanduser().resolve()).encode(), digest_size=6).hexdigest()
    root = base()
    if not os.environ.get(ENV["temp"]):
        private(root)  # in a folder everyone can write to: ours, or refused
    return private(root / key)


def private(folder: str | os.PathLike) -> Path:
    """`folder`, created with mode 0700, after checking it is a real folder (not a link) of this user's, and
    making it 0700 if it was not. Raises UnsafeTempFolder when it is not."""
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = folder.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise UnsafeTempFolder(
            f"{folder} is not a folder of yours, so glimpse won't keep uploads and thumbnails there: "
            f"remove it, or set {ENV['temp']} to a folder of your own"
        )
    if stat.S_IMODE(st.st_mode) != 0o700:
        folder.chmod(0o700)
    return folder


def use(folder: str | os.PathLike) -> None:
    """Make `folder` Gradio's temporary folder for this process."""
    os.environ[GRADIO_VARIABLE] = str(folder)
