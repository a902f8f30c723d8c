"""Formatting for the web app: turn hits (search results, look-alikes, library photos) and summaries into what
Gradio components show (gallery captions, label bars, Markdown). Pure functions: no index, no model here."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from glimpse.indexer.pipeline import Summary
from glimpse.indexer.types import Label
from glimpse.search import Hit, SearchResults

FILE_ROUTE = "gradio_api/file="  # Gradio 6 serves allowed files here (relative to the app's root)


# -- small pieces -------------------------------------------------------------------------------------------
def label_text(labels: Sequence[tuple[str, float | None]], top: int = 2) -> str:
    return ", ".join(f"{n} {s:.0%}" if s is not None else n for n, s in labels[:top])


def label_bars(labels: Sequence[tuple[str, float | None]] | Sequence[Label], top: int = 5) -> dict[str, float] | None:
    """Value for `gr.Label`: name -> probability. Imported labels have no probability: they share 1.0 evenly."""
    pairs = [(lb.name, lb.score) if isinstance(lb, Label) else tuple(lb) for lb in labels][:top]
    if not pairs:
        return None
    if all(s is None for _, s in pairs):
        return {n: 1.0 / len(pairs) for n, _ in pairs}
    return {n: float(s or 0.0) for n, s in pairs}


def when(date: str | None, source: str | None) -> str:
    if not date:
        return "no date"
    moment = datetime.fromisoformat(date)
    text = f"{moment.day} {moment:%b %Y, %H:%M}"
    return f"{text} (EXIF)" if source == "exif" else f"{text} (file date: no EXIF date)"


def tile_caption(photo: Hit) -> str:
    """The text under a gallery tile: the caption, then its best labels and the score, then the query's words
    found in its caption, labels or file name."""
    details = [label_text(photo.labels)] if photo.labels else []
    if photo.score is not None:
        details.append(f"score {photo.score:.2f}")
    lines = [photo.caption or Path(photo.path).name, " · ".join(details)]
    if words := list(dict.fromkeys(w for found in photo.matched.values() for w in found)):
        lines.append("words found: " + ", ".join(words))
    return "\n".join(lines).strip()


def library_caption(photo: Hit) -> str:
    """The text under a tile when browsing: the caption, then the date and the best label."""
    day = ""
    if photo.date:
        moment = datetime.fromisoformat(photo.date)
        day = f"{moment.day} {moment:%b %Y}"
    details = [day, label_text(photo.labels, top=1)] if photo.labels else [day]
    return "\n".join([photo.caption or Path(photo.path).name, " · ".join(d for d in details if d)]).strip()


def score_parts(photo: Hit) -> str:
    """How a search score adds up, when words added to the meaning: ": 0.612 for the meaning, +0.100 for the words"."""
    if photo.semantic is None or photo.score is None or abs(photo.score - photo.semantic) < 5e-4:
        return ""
    return f": {photo.semantic:.3f} for the meaning, +{photo.score - photo.semantic:.3f} for the words"


def photo_title(photo: Hit) -> str:
    """A photo named in a sentence (Markdown): its caption and file name."""
    name = Path(photo.path).name.replace("`", "")
    caption = (photo.caption or "").strip()
    if len(caption) > 60:
        caption = caption[:57].rstrip() + "…"
    return f"“{md_escape(caption)}” (`{name}`)" if caption else f"`{name}`"


def original_link(photo: Hit) -> str:
    return f"{FILE_ROUTE}{quote(str(photo.file))}" if photo.file else ""


def md_escape(text: str) -> str:
    """Escape text for Markdown (captions and paths come from files and users)."""
    text = html.escape(text, quote=False)
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>" else c for c in text)


# -- whole views --------------------------------------------------------------------------------------------
def search_status(results: SearchResults, shown: int) -> str:
    query = md_escape(results.query)
    if not results.query:
        return "Type what you are looking for, then press **Enter**."
    filters = results.filters
    scope = ""
    if filters.active:
        bits = []
        if filters.label:
            bits.append(f"label *{md_escape(filters.label)}*")
        if filters.folder:
            bits.append(f"in *{md_escape(filters.folder)}*")
        if filters.since or filters.until:
            bits.append(f"taken {filters.since or '…'} to {filters.until or '…'}")
        if filters.exclude:
            bits.append("without " + ", ".join(f"*{md_escape(w)}*" for w in filters.exclude))
        scope = " (" + "; ".join(bits) + ")"
    advice = "Try other words, describe what is *in* the photo (“two people on a bench”), or loosen the filters."
    if not shown:
        return f"### No good match for “{query}”{scope}\nNone of your photos is close enough. {advice}"
    if results.no_good_match:
        return f"### No good match for “{query}”{scope}\nThe closest photos are below, but none stands out. {advice}"
    return f"**{shown}** {'photo' if shown == 1 else 'photos'} for “{query}”{scope}, best first."


def similar_status(of: str, shown: int) -> str:
    """The status over the gallery when it shows the photos that look like `of` (Markdown, see photo_title)."""
    if not shown:
        return f"### Nothing to compare with\nNo other photo in the index has image features to compare with {of}."
    photos = "photo looks" if shown == 1 else "photos look"
    return f"**{shown}** {photos} like {of}, most alike first (score: image similarity, 1 = the same picture)."


def detail_markdown(photo: Hit) -> str:
    lines = [f"### {md_escape(photo.caption) or '(no caption)'}", ""]
    if photo.score is not None:
        lines.append(f"**Score** {photo.score:.3f}{score_parts(photo)}  ")
        if photo.matched:
            where = " · ".join(f"{md_escape(', '.join(words))} ({field})" for field, words in photo.matched.items())
            lines.append(f"**Words found** {where}  ")
    if photo.file:
        lines.append(f"**Taken** {md_escape(when(photo.date, photo.date_source))}  ")
        if photo.size:
            lines.append(f"**Size** {photo.size[0]} × {photo.size[1]} px  ")
        lines.append(f"**File** `{photo.path.replace('`', '')}`  ")
        lines.append(f"[Open the original]({original_link(photo)})")
    else:
        lines.append(f"**Imported caption** `{photo.path.replace('`', '')}` (no image file)")
    return "\n".join(lines)


def stats_markdown(stats: dict) -> str:
    roots = ", ".join(f"`{r.replace('`', '')}`" for r in stats["roots"]) or "none yet"
    failed = stats["failed"]
    return (
        f"**{stats['indexed']}** photos indexed · **{failed}** could not be read · "
        f"{stats['size_bytes'] / 1e6:.1f} MB index  \nFolders: {roots}"
    )


def index_intro(index_dir: Path) -> str:
    return (
        f"Index or re-index a folder on the machine running glimpse, into `{str(index_dir).replace('`', '')}`. "
        "Only new and changed photos go through the models; on a CPU that is about one photo a second."
    )


def index_summary(summary: Summary, folder: Path) -> str:
    lines = [
        f"### Indexed `{str(folder).replace('`', '')}`",
        f"**{summary.added}** added · **{summary.updated}** updated · **{summary.moved}** moved · "
        f"**{summary.removed}** removed · **{summary.unchanged}** unchanged · **{len(summary.failed)}** failed",
        f"{summary.processed} {'image' if summary.processed == 1 else 'images'} went through the models in "
        f"{summary.seconds:.1f} s ({summary.rate:.2f} images/s); unchanged, moved and duplicate files are not "
        "processed again.",
    ]
    if summary.failed:
        lines.append(
            "Could not be read:\n" + "\n".join(f"- `{p.replace('`', '')}`: {md_escape(r)}" for p, r in summary.failed)
        )
    return "\n\n".join(lines)


def failures_markdown(count: int) -> str:
    if not count:
        return "**Could not be read:** none, every file was indexed."
    return f"**Could not be read:** {count} {'file' if count == 1 else 'files'} (retried when they change)"


def page_markdown(number: int, pages: int, total: int) -> str:
    return f"Page **{number}** of **{pages}** · {total} {'photo' if total == 1 else 'photos'}"


# -- duplicates ---------------------------------------------------------------------------------------------
@dataclass
class DuplicateView:
    """One group of copies as the Duplicates tab shows it: a heading, then its photos as tiles (image, text)."""

    title: str
    tiles: list[tuple[str, str]]


def duplicate_title(number: int, kind: str, total: int, shown: int) -> str:
    what = "Exact copies (the same bytes)" if kind == "exact" else "Near copies (resized, re-encoded, cropped, bursts)"
    more = f", the first {shown} shown" if shown < total else ""
    return f"**Group {number}** · {what} · {total} photos{more}"


def duplicate_caption(path: str, size: tuple[int, int] | None) -> str:
    """The text under a copy's tile: its file name, size and folder, so you can tell which to keep."""
    name, folder = Path(path).name, str(Path(path).parent)
    return "\n".join([f"{name} · {size[0]} × {size[1]} px" if size else name, folder])


def duplicates_status(groups: int, shown: int, photos: int, threshold: float) -> str:
    if not groups:
        return (
            f"### No duplicates\nNo two photos are copies of each other at threshold {threshold:.2f}. "
            "A lower threshold also groups looser crops and burst shots."
        )
    also = ""
    if shown < groups:
        also = f" The first {shown} are shown; `glimpse duplicates` and the `duplicates` API list all."
    return (
        f"**{groups}** {'group' if groups == 1 else 'groups'} of copies, {photos} photos in all "
        f"(threshold {threshold:.2f}); exact copies first, then the largest groups.{also}"
    )
