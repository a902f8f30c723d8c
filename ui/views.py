"""Formatting for the web app: turn hits (search results, look-alikes, library photos) and summaries into what
Gradio components show (gallery captions, label bars, Markdown). Pure functions: no index, no model here."""

from __future__ import annotations

import html
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from glimpse.indexer.names import is_valid, readable
from glimpse.indexer.pipeline import Summary
from glimpse.indexer.types import Label
from glimpse.search import Hit, SearchResults

FILE_ROUTE = "gradio_api/file="  # Gradio 6 serves allowed files here (relative to the app's root)


# -- untrusted text ------------------------------------------------------------------------------------------
# File, folder and root names, imported ids, captions, labels, failure reasons and queries come from files and
# users. They reach the page only through these functions, so none of it can add an image, a link, a script
# or any structure: it is shown literally. Gallery captions, gr.Label names, dropdown choices and table cells
# need none: Gradio sets them as text (tests/test_ui_markup.py checks all of it in Chromium).
PUNCTUATION = frozenset(string.punctuation)  # every ASCII punctuation character


def md_escape(text: object) -> str:
    """Untrusted text for a Markdown component (gr.Markdown), shown literally on one line. Every ASCII punctuation
    character is backslash-escaped: CommonMark lets any be, and an escaped one is plain text, so nothing can open
    emphasis, code, a link or image, raw HTML or an entity, an autolink (they need `:`, `www.` or `@`), a table,
    a heading, a list, a quote or Gradio's LaTeX (`$$`). Line breaks and other whitespace become one space, so
    the text can start no block of its own; other control characters show as U+FFFD."""
    flat = " ".join(readable(str(text)).split())
    return "".join("\\" + c if c in PUNCTUATION else "\ufffd" if unicodedata.category(c) == "Cc" else c for c in flat)


def md_code(text: object) -> str:
    """Untrusted text in code style (a path, a file name): `md_escape` inside <code>, since a Markdown code span
    cannot hold every string (its backticks, and `$$`, which Gradio's LaTeX looks for before Markdown)."""
    return f"<code>{md_escape(text)}</code>"


def html_text(text: object) -> str:
    """Untrusted text for a component that renders HTML: a toast (Gradio 6 shows a gr.Error's message as
    sanitized HTML, which still keeps images and links)."""
    return html.escape(readable(str(text)), quote=False)


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
    if photo.offline:
        details.append("offline")
    lines = [photo.caption or Path(photo.path).name, " · ".join(details)]
    if words := list(dict.fromkeys(w for found in photo.matched.values() for w in found)):
        lines.append("words found: " + ", ".join(words))
    return "\n".join(lines).strip()


def closest_caption(photo: Hit) -> str:
    """A tile's text when nothing matches the query well: marked as only the closest, then as usual."""
    return "closest, not a good match\n" + tile_caption(photo)


def library_caption(photo: Hit) -> str:
    """The text under a tile when browsing: the caption, then the date and the best label."""
    day = ""
    if photo.date:
        moment = datetime.fromisoformat(photo.date)
        day = f"{moment.day} {moment:%b %Y}"
    details = [day, label_text(photo.labels, top=1)] if photo.labels else [day]
    if photo.offline:
        details.append("offline")
    return "\n".join([photo.caption or Path(photo.path).name, " · ".join(d for d in details if d)]).strip()


def score_parts(photo: Hit) -> str:
    """How a search score adds up, when words added to the meaning: ": 0.612 for the meaning, +0.100 for the words"."""
    if photo.semantic is None or photo.score is None or abs(photo.score - photo.semantic) < 5e-4:
        return ""
    return f": {photo.semantic:.3f} for the meaning, +{photo.score - photo.semantic:.3f} for the words"


def photo_title(photo: Hit) -> str:
    """A photo named in a sentence (Markdown): its caption and file name."""
    name = md_code(Path(photo.path).name)
    caption = " ".join((photo.caption or "").split())
    if len(caption) > 60:
        caption = caption[:57].rstrip() + "…"
    return f"“{md_escape(caption)}” ({name})" if caption else name


def original_link(photo: Hit) -> str:
    """The original file's URL; "" without a file, or when its name is not UTF-8 (no URL reaches it)."""
    return f"{FILE_ROUTE}{quote(str(photo.file))}" if photo.file and is_valid(str(photo.file)) else ""


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
        if filters.active:
            return f"### Nothing for “{query}”{scope}\nNo photo passes these filters: loosen them."
        return f"### No good match for “{query}”\nThere are no photos to search yet."
    if results.no_good_match:
        return (
            f"### No good match for “{query}”{scope}\nNothing matches well. The closest photos are below, marked "
            f"*closest, not a good match*. {advice}"
        )
    return f"**{shown}** {'photo' if shown == 1 else 'photos'} for “{query}”{scope}, best first."


def similar_status(of: str, shown: int, name: str = "") -> str:
    """The status over the gallery when it shows the photos that look like `of` (Markdown, see photo_title),
    headed by what the gallery holds now: "Photos like `name`" (its file name, plain text)."""
    if not shown:
        return f"### Nothing to compare with\nNo other photo in the index has image features to compare with {of}."
    photos = "photo looks" if shown == 1 else "photos look"
    heading = f"### Photos like {md_escape(name)}\n" if name else ""
    return f"{heading}**{shown}** {photos} like {of}, most alike first (score: image similarity, 1 = the same picture)."


def similar_placeholder(name: str) -> str:
    """The emptied search box's hint while the gallery shows look-alikes (plain text: a placeholder)."""
    return f"Showing photos like {readable(name)}. Type words to search again."


def detail_markdown(photo: Hit) -> str:
    lines = [f"### {md_escape(photo.caption) or '(no caption)'}", ""]
    if photo.score is not None:
        lines.append(f"**Score** {photo.score:.3f}{score_parts(photo)}  ")
        if photo.matched:
            found = {field: ", ".join(map(md_escape, words)) for field, words in photo.matched.items()}
            where = " · ".join(f"{words} ({field})" for field, words in found.items())
            lines.append(f"**Words found** {where}  ")
        if photo.kinds:
            lines.append(f"**Kind** {md_escape('; '.join(photo.kinds))}  ")
    if photo.offline:
        lines.append("**Offline**: its folder could not be read at the last index run; the file may not open now.  ")
    if photo.file:
        lines.append(f"**Taken** {md_escape(when(photo.date, photo.date_source))}  ")
        if photo.size:
            lines.append(f"**Size** {photo.size[0]} × {photo.size[1]} px  ")
        lines.append(f"**File** {md_code(photo.path)}  ")
        link = original_link(photo)
        lines.append(f"[Open the original]({link})" if link else "(file name not UTF-8: the preview is the photo)")
    else:
        lines.append(f"**Imported caption** {md_code(photo.path)} (no image file)")
    return "\n".join(lines)


def saved_markdown(record) -> str:
    """What Save did: the caption is a person's now, the models' kept beside it."""
    if not record.human:
        return "The caption is the models' own."
    machine = f" The models' caption, kept: {md_escape(record.machine_caption)}" if record.machine_caption else ""
    return f"**Saved**: searchable now, kept by re-index.{machine}"


def record_api(record) -> dict:
    """A catalog record for API clients (the path is under `file`, as in search results)."""
    return {
        "id": record.id, "file": readable(str(record.full_path or record.path)), "caption": record.caption,
        "labels": [lb.name for lb in record.labels], "human": record.human, "edited_at": record.edited_at,
        "machine_caption": record.machine_caption,
        "machine_labels": None if record.machine_labels is None else [lb.name for lb in record.machine_labels],
        "review": record.review,
    }  # fmt: skip


ALT_TEXT_GOOD, ALT_TEXT_MAX = 125, 250  # characters: alt text should stay under the first, never past the second


def alt_count(text: str | None) -> str:
    """The alt text's length, and whether it is fit for a screen reader."""
    n = len(text or "")
    if n > ALT_TEXT_MAX:
        return f"**{n} characters**: too long for alt text (at most {ALT_TEXT_MAX}); shorten it."
    if n > ALT_TEXT_GOOD:
        return f"**{n} characters**: a little long (aim for under {ALT_TEXT_GOOD})."
    return f"{n} characters" + (" (empty)" if not n else "")


REVIEW_WORDS = {"approved": "approved", "edited": "edited", "skipped": "skipped", None: "not yet reviewed"}


def review_where(hit: Hit, review: str | None, human: bool) -> str:
    """Above the alt text: the file, its review state, and who wrote the caption."""
    who = "written by a person" if human else "written by the models"
    return f"{md_code(hit.path)}  \n{REVIEW_WORDS.get(review, md_escape(review))} · {who}"


def review_page_markdown(number: int, pages: int, total: int, show: str) -> str:
    if not total:
        return f"No photos {md_escape(dict(REVIEW_SHOW).get(show, show))}."
    return page_markdown(number, pages, total)


REVIEW_SHOW = [("unreviewed", "not yet reviewed"), ("approved", "approved"), ("edited", "edited"),
               ("skipped", "skipped")]  # fmt: skip


def export_markdown(summary) -> str:
    text = (f"Sidecars: **{len(summary.created)}** new, **{len(summary.updated)}** updated, {summary.unchanged} "
            f"unchanged, {len(summary.skipped)} skipped.")  # fmt: skip
    return text + "".join(f"  \nskipped {md_code(p)}: {md_escape(r)}" for p, r in summary.skipped[:20])


def rename_markdown(done: int, problems: list[tuple[str, str]], applied: bool) -> str:
    verb = "Renamed" if applied else "Would rename"
    text = f"{verb} **{done}** photos." + ("" if applied else " Tick the box and press Rename to apply.")
    return text + "".join(f"  \nskipped {md_code(p)}: {md_escape(r)}" for p, r in problems[:20])


def stats_markdown(stats: dict) -> str:
    roots = ", ".join(md_code(r) for r in stats["roots"]) or "none yet"
    failed = stats["failed"]
    offline = f"**{stats['offline']}** offline · " if stats.get("offline") else ""
    return (
        f"**{stats['indexed']}** photos indexed · **{failed}** could not be read · {offline}"
        f"{stats['size_bytes'] / 1e6:.1f} MB index  \nFolders: {roots}"
    )


def index_intro(index_dir: Path) -> str:
    return (
        f"Index or re-index a folder on the machine running glimpse, into {md_code(readable(str(index_dir)))}. "
        "Only new and changed photos go through the models; on a CPU that is about one photo a second."
    )


def reembed_summary(summary) -> str:
    """What `Library.reembed` did (a ReembedSummary)."""
    return (
        f"### Switched to {md_code(summary.model)}\n\n**{summary.photos}** captions embedded again "
        f"({summary.dim}-d) in {summary.seconds:.1f} s ({summary.rate:.0f} per second); searches use it from now on."
    )


def index_summary(summary: Summary, folder: Path) -> str:
    lines = [
        f"### Indexed {md_code(readable(str(folder)))}",
        f"**{summary.added}** added · **{summary.updated}** updated · **{summary.moved}** moved · "
        f"**{summary.removed}** removed · **{summary.unchanged}** unchanged · **{len(summary.failed)}** failed · "
        f"**{summary.offline}** offline",
        f"{summary.processed} {'image' if summary.processed == 1 else 'images'} went through the models in "
        f"{summary.seconds:.1f} s ({summary.rate:.2f} images/s); unchanged, moved and duplicate files are not "
        "processed again.",
    ]
    if summary.failed:
        lines.append("Could not be read:\n" + "\n".join(f"- {md_code(p)}: {md_escape(r)}" for p, r in summary.failed))
    if summary.offline_folders:
        lines.append(
            "Kept, marked offline (not removed):\n"
            + "\n".join(f"- {n} offline: {md_escape(reason)}" for reason, n in summary.offline_folders)
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


def duplicate_title(number: int, kind: str, total: int, shown: int, exact: Sequence[int] = ()) -> str:
    """A group's heading; `exact`: the sizes of its sets of byte-identical photos (for a near group)."""
    what = "Exact copies (the same bytes)" if kind == "exact" else "Near copies (resized, re-encoded, cropped, bursts)"
    more = f", the first {shown} shown" if shown < total else ""
    among = ""
    if kind != "exact" and exact:
        among = " · among them exact copies (the same bytes): " + ", ".join(f"{n} photos" for n in exact)
    return f"**Group {number}** · {what} · {total} photos{more}{among}"


def duplicate_caption(path: str, size: tuple[int, int] | None, exact: int | None = None) -> str:
    """The text under a copy's tile: its file name, size and folder, so you can tell which to keep; in a near
    group, `exact` numbers the set of byte-identical photos it belongs to."""
    name, folder = Path(path).name, str(Path(path).parent)
    lines = [f"{name} · {size[0]} × {size[1]} px" if size else name, folder]
    if exact is not None:
        lines.append(f"exact copy {exact} (the same bytes as the other exact copy {exact})")
    return "\n".join(lines)


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
