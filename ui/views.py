"""Formatting for the web app: turn search hits, catalog records and summaries into what Gradio components
show (gallery captions, label bars, Markdown). Pure functions; nothing here touches an index or a model."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from indexer.catalog import ImageRecord, Label
from indexer.pipeline import Summary
from search import Hit, SearchResults
from search.engine import photo_date

FILE_ROUTE = "gradio_api/file="  # Gradio 6 serves allowed files here (relative to the app's root)


@dataclass
class Photo:
    """One photo (or imported caption) as the app shows it."""

    id: int
    path: str  # full path of a photo, or the id of an imported caption
    file: Path | None  # the image file, None for imported captions
    caption: str
    labels: list[tuple[str, float | None]]
    date: str | None = None
    date_source: str | None = None
    size: tuple[int, int] | None = None
    score: float | None = None
    matched: dict[str, list[str]] = field(default_factory=dict)  # {"caption"|"labels"|"name": query words}

    @classmethod
    def from_record(cls, record: ImageRecord, hit: Hit | None = None) -> Photo:
        date, source = photo_date(record)
        return cls(
            id=record.id,
            path=str(record.full_path) if record.full_path else record.path,
            file=record.full_path,
            caption=record.caption or "",
            labels=[(lb.name, lb.score) for lb in record.labels],
            date=date,
            date_source=source,
            size=(record.width, record.height) if record.width and record.height else None,
            score=hit.score if hit else None,
            matched=dict(hit.matched) if hit else {},
        )


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


def tile_caption(photo: Photo) -> str:
    """The text under a gallery tile: the caption, then its best labels and the score."""
    details = [label_text(photo.labels)] if photo.labels else []
    if photo.score is not None:
        details.append(f"score {photo.score:.2f}")
    return "\n".join([photo.caption or Path(photo.path).name, " · ".join(details)]).strip()


def library_caption(photo: Photo) -> str:
    """The text under a tile when browsing: the caption, then the date and the best label."""
    day = ""
    if photo.date:
        moment = datetime.fromisoformat(photo.date)
        day = f"{moment.day} {moment:%b %Y}"
    details = [day, label_text(photo.labels, top=1)] if photo.labels else [day]
    return "\n".join([photo.caption or Path(photo.path).name, " · ".join(d for d in details if d)]).strip()


def original_link(photo: Photo) -> str:
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


def detail_markdown(photo: Photo) -> str:
    lines = [f"### {md_escape(photo.caption) or '(no caption)'}", ""]
    if photo.score is not None:
        lines.append(f"**Score** {photo.score:.3f}  ")
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
