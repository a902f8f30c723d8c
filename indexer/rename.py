"""Descriptive file names from captions: `2023-07-14_dog-running-on-the-beach.jpg`.

`plan` suggests a name per photo from a template (fields: {date} the photo's date, {caption}, {label} its first
label, {name} its current name, {id}): lower case, ASCII-folded, leading filler ("a", "there is a", "a picture
of") and a trailing "photo"/"image" dropped, at most ~60 characters, unique within the folder (`-2`, `-3`), the
extension kept. Nothing is renamed by `plan`.

`apply` renames in the photo's own folder only, never over an existing file (a hard link, then the old name
unlinked: the link fails when the new name is taken), takes the photo's sidecars (`photo.jpg.xmp`, `photo.xmp`)
along, and moves the catalog row in place (same id, caption, edits: nothing is captioned again). Each step is
written to a journal in the index folder before it is taken, so an interrupted run leaves a journal that `undo`
can follow (and a re-index recognizes a renamed photo by its content hash anyway). `undo` puts back every name of
the last run.
ASCII folding is Unicode decomposition (stdlib) plus a few letters it leaves alone (ß, æ, ø, ł...): unidecode
would transliterate more scripts, but it is GPL.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .catalog import ImageRecord
from .errors import InvalidArgument
from .names import is_valid
from .store import IndexStore

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "{date}_{caption}"
MAX_STEM = 60
JOURNAL = "rename-journal.jsonl"
FIELDS = ("date", "caption", "label", "name", "id")
LEADING = frozenset(
    "a an the there is are this of picture photo image photograph close up closeup arafed araffe".split()
)
TRAILING = frozenset("photo image picture photograph a an the of in on with and".split())
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe", "Œ": "oe", "ł": "l",
                       "Ł": "l", "đ": "d", "Đ": "d", "þ": "th", "ð": "d", "ı": "i"})  # fmt: skip


def ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return decomposed.encode("ascii", "ignore").decode()


def slug(text: str, trim: bool = False) -> str:
    """Lower-case ASCII words joined by hyphens; with `trim`, leading filler and trailing photo/image dropped."""
    words = re.findall(r"[a-z0-9]+", ascii_fold(text).lower())
    if trim:
        while words and words[0] in LEADING:
            words.pop(0)
        while words and words[-1] in TRAILING:
            words.pop()
    return "-".join(words)


def _shorten(stem: str, limit: int = MAX_STEM) -> str:
    if len(stem) <= limit:
        return stem
    cut = stem[:limit]
    return cut[: max(cut.rfind("-"), cut.rfind("_"))] if max(cut.rfind("-"), cut.rfind("_")) > limit // 2 else cut


def suggest_stem(record: ImageRecord, template: str = DEFAULT_TEMPLATE) -> str:
    """The new file name (without extension) of a photo; empty when nothing in it can be told."""
    values = {
        "date": (record.date or "")[:10], "caption": slug(record.caption or "", trim=True),
        "label": slug(record.labels[0].name) if record.labels else "", "name": slug(Path(record.name).stem),
        "id": str(record.id),
    }  # fmt: skip
    try:
        stem = template.format(**values)
    except (KeyError, IndexError, ValueError) as e:
        raise InvalidArgument(f"bad template {template!r} ({e}); fields: {', '.join(FIELDS)}") from None
    stem = re.sub(r"[^a-z0-9_-]+", "-", ascii_fold(stem).lower())
    stem = re.sub(r"([_-])[_-]+", r"\1", stem).strip("_-")
    return _shorten(stem).strip("_-")


@dataclass
class Rename:
    id: int
    old: Path
    new: Path

    def as_dict(self) -> dict:
        return {"id": self.id, "from": str(self.old), "to": str(self.new)}


def sidecars(photo: Path) -> list[Path]:
    """The sidecars that go with a photo: photo.jpg.xmp, and photo.xmp when no other file shares its stem."""
    found = [photo.with_name(photo.name + ".xmp")]
    plain = photo.with_suffix(".xmp")
    others = [p for p in photo.parent.glob(glob_escape(photo.stem) + ".*") if p != photo and p.suffix != ".xmp"]
    if not others:
        found.append(plain)
    return [p for p in found if p.is_file()]


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def plan(store: IndexStore, template: str = DEFAULT_TEMPLATE) -> tuple[list[Rename], list[tuple[str, str]]]:
    """(renames, skipped (path, reason)) for every indexed photo whose suggested name differs from its own."""
    renames, skipped = [], []
    taken: dict[Path, set[str]] = {}  # folder -> names in it, with those planned
    for record in store.catalog.curated("all"):
        old = record.full_path
        if not is_valid(str(old)):
            skipped.append((str(old), "the file name is not UTF-8"))
            continue
        if record.offline or not old.is_file():
            skipped.append((str(old), "not there now (offline or moved): re-index first"))
            continue
        stem = suggest_stem(record, template)
        if not stem:
            skipped.append((str(old), "nothing to name it after"))
            continue
        if old.stem == stem or re.fullmatch(re.escape(stem) + r"-\d+", old.stem):
            continue  # already so named
        names = taken.setdefault(old.parent, {p.name.lower() for p in old.parent.iterdir()})
        candidate, n = f"{stem}{old.suffix}", 1
        while any(name.lower() in names for name in (candidate, candidate + ".xmp", Path(candidate).stem + ".xmp")):
            n += 1
            candidate = f"{stem}-{n}{old.suffix}"
        names.add(candidate.lower())
        renames.append(Rename(record.id, old, old.with_name(candidate)))
    return renames, skipped


def _link_rename(old: Path, new: Path) -> None:
    """Rename without ever replacing a file: FileExistsError when `new` is taken."""
    try:
        os.link(old, new)
    except OSError as e:
        if e.errno == errno.EEXIST:
            raise FileExistsError(errno.EEXIST, "already exists", str(new)) from None
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        if new.exists():  # no hard links here (FAT, some shares): check, then rename
            raise FileExistsError(errno.EEXIST, "already exists", str(new)) from None
        os.rename(old, new)
        return
    os.unlink(old)


def _moves(item: Rename) -> list[tuple[Path, Path]]:
    """The photo and its sidecars: (from, to) each."""
    out = [(item.old, item.new)]
    for sidecar in sidecars(item.old):
        if sidecar.name == item.old.name + ".xmp":
            out.append((sidecar, item.new.with_name(item.new.name + ".xmp")))
        else:
            out.append((sidecar, item.new.with_suffix(".xmp")))
    return out


def _append(journal, entry: dict) -> None:
    journal.write(json.dumps(entry, ensure_ascii=False) + "\n")
    journal.flush()
    os.fsync(journal.fileno())


def _move_row(store: IndexStore, image_id: int, new: Path) -> None:
    record = store.catalog.get([image_id])[image_id]
    rel = new.relative_to(record.root).as_posix()
    with store.catalog.transaction():
        store.catalog.move(image_id, rel, new.name, record.size, record.mtime_ns)


def apply(store: IndexStore, renames: list[Rename]) -> tuple[list[Rename], list[tuple[str, str]]]:
    """Rename (see module doc). Returns (done, failed (path, reason)). Call under the writer lock."""
    journal_path = store.folder / JOURNAL
    done, failed = [], []
    if not renames:
        return done, failed  # the last run's journal stays, for --undo
    with open(journal_path, "w", encoding="utf-8") as journal:
        _append(journal, {"started": time.time()})
        for item in renames:
            if item.new.parent != item.old.parent or "/" in item.new.name:
                failed.append((str(item.old), "the new name would leave its folder"))
                continue
            moves = _moves(item)
            taken = [str(to) for _, to in moves if to.exists() or to.is_symlink()]
            if taken:
                failed.append((str(item.old), f"{taken[0]} exists: never overwritten"))
                continue
            _append(journal, {**item.as_dict(), "moves": [[str(a), str(b)] for a, b in moves]})
            try:
                for old, new in moves:
                    _link_rename(old, new)
            except OSError as e:
                failed.append((str(item.old), f"cannot rename: {e.strerror or e}"))
                _put_back(moves)
                continue
            _move_row(store, item.id, item.new)
            _append(journal, {"done": item.id})
            done.append(item)
    return done, failed


def _put_back(moves: list[tuple[Path, Path]]) -> None:
    for old, new in reversed(moves):
        if new.exists() and not old.exists():
            _link_rename(new, old)
        elif new.exists() and old.exists() and os.path.samefile(old, new):  # interrupted between link and unlink
            os.unlink(new)


def undo(store: IndexStore) -> tuple[list[Rename], list[tuple[str, str]]]:
    """Put back every name the last `apply` changed (also after an interrupted one). Call under the writer lock."""
    journal_path = store.folder / JOURNAL
    if not journal_path.is_file():
        raise InvalidArgument("there is no rename to undo")
    entries = [json.loads(line) for line in journal_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    steps = [e for e in entries if "moves" in e]
    restored, failed = [], []
    for entry in reversed(steps):
        moves = [(Path(a), Path(b)) for a, b in entry["moves"]]
        try:
            _put_back(moves)
        except OSError as e:
            failed.append((entry["to"], f"cannot rename back: {e.strerror or e}"))
            continue
        old = Path(entry["from"])
        if old.exists():
            record = store.catalog.get([entry["id"]]).get(entry["id"])
            if record is not None and record.full_path != old:
                _move_row(store, entry["id"], old)
            restored.append(Rename(entry["id"], Path(entry["to"]), old))
    if not failed:
        journal_path.replace(journal_path.with_name(JOURNAL + ".undone"))
    return restored, failed
