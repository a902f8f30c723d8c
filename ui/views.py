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

from .i18n import count, day, day_and_time, number, t

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
def label_text(labels: Sequence[tuple[str, float | None]], top: int = 2, lang: str = "en") -> str:
    return ", ".join(f"{n} {number(s * 100, lang)}%" if s is not None else n for n, s in labels[:top])


def label_bars(labels: Sequence[tuple[str, float | None]] | Sequence[Label], top: int = 5) -> dict[str, float] | None:
    """Value for `gr.Label`: name -> probability. Imported labels have no probability: they share 1.0 evenly."""
    pairs = [(lb.name, lb.score) if isinstance(lb, Label) else tuple(lb) for lb in labels][:top]
    if not pairs:
        return None
    if all(s is None for _, s in pairs):
        return {n: 1.0 / len(pairs) for n, _ in pairs}
    return {n: float(s or 0.0) for n, s in pairs}


def when(date: str | None, source: str | None, lang: str = "en") -> str:
    if not date:
        return t("date.none", lang)
    text = day_and_time(datetime.fromisoformat(date), lang)
    return t("date.exif" if source == "exif" else "date.file", lang, date=text)


def tile_caption(photo: Hit, lang: str = "en") -> str:
    """The text under a gallery tile: the caption, then its best labels and the score, then the query's words
    found in its caption, labels or file name."""
    details = [label_text(photo.labels, lang=lang)] if photo.labels else []
    if photo.score is not None:
        details.append(t("tile.score", lang, score=number(photo.score, lang, 2)))
    if photo.offline:
        details.append(t("tile.offline", lang))
    lines = [photo.caption or Path(photo.path).name, " · ".join(details)]
    if words := list(dict.fromkeys(w for found in photo.matched.values() for w in found)):
        lines.append(t("tile.words", lang, words=", ".join(words)))
    return "\n".join(lines).strip()


def closest_caption(photo: Hit, lang: str = "en") -> str:
    """A tile's text when nothing matches the query well: marked as only the closest, then as usual."""
    return t("tile.closest", lang) + "\n" + tile_caption(photo, lang)


def library_caption(photo: Hit, lang: str = "en") -> str:
    """The text under a tile when browsing: the caption, then the date and the best label."""
    taken = day(datetime.fromisoformat(photo.date), lang) if photo.date else ""
    details = [taken, label_text(photo.labels, top=1, lang=lang)] if photo.labels else [taken]
    if photo.offline:
        details.append(t("tile.offline", lang))
    return "\n".join([photo.caption or Path(photo.path).name, " · ".join(d for d in details if d)]).strip()


def score_parts(photo: Hit, lang: str = "en") -> str:
    """How a search score adds up, when words added to the meaning: ": 0.612 for the meaning, +0.100 for the words"."""
    if photo.semantic is None or photo.score is None or abs(photo.score - photo.semantic) < 5e-4:
        return ""
    return t("score.parts", lang, meaning=number(photo.semantic, lang, 3),
             words=number(photo.score - photo.semantic, lang, 3))  # fmt: skip


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
def search_status(results: SearchResults, shown: int, lang: str = "en") -> str:
    query = md_escape(results.query)
    if not results.query:
        return t("status.type", lang)
    filters = results.filters
    scope = ""
    if filters.active:
        bits = []
        if filters.label:
            bits.append(t("status.label", lang, label=md_escape(filters.label)))
        if filters.folder:
            bits.append(t("status.folder", lang, folder=md_escape(filters.folder)))
        if filters.since or filters.until:
            since = day(filters.since, lang) if filters.since else "…"
            until = day(filters.until, lang) if filters.until else "…"
            bits.append(t("status.taken", lang, since=since, until=until))
        if filters.exclude:
            bits.append(t("status.without", lang, words=", ".join(f"*{md_escape(w)}*" for w in filters.exclude)))
        scope = " (" + "; ".join(bits) + ")"
    if not shown:
        if filters.active:
            return t("status.nothing_filtered", lang, query=query, scope=scope)
        return t("status.nothing", lang, query=query)
    if results.no_good_match:
        return t("status.no_good_match", lang, query=query, scope=scope, advice=t("status.advice", lang))
    return t("status.found", lang, photos=count(shown, "photos", lang), query=query, scope=scope)


def similar_status(of: str, shown: int, name: str = "", lang: str = "en") -> str:
    """The status over the gallery when it shows the photos that look like `of` (Markdown, see photo_title),
    headed by what the gallery holds now: "Photos like `name`" (its file name, plain text)."""
    if not shown:
        return t("similar.none", lang, of=of)
    heading = t("similar.heading", lang, name=md_escape(name)) + "\n" if name else ""
    key = "similar.found.one" if shown == 1 else "similar.found.other"
    return heading + t(key, lang, n=number(shown, lang), of=of)


def similar_placeholder(name: str, lang: str = "en") -> str:
    """The emptied search box's hint while the gallery shows look-alikes (plain text: a placeholder)."""
    return t("similar.placeholder", lang, name=readable(name))


FIELDS = ("caption", "labels", "name", "kind")  # where a search found the query's words (Hit.matched)


def field_name(field: str, lang: str = "en") -> str:
    return t(f"field.{field}", lang) if field in FIELDS else md_escape(field)


def detail_markdown(photo: Hit, lang: str = "en") -> str:
    lines = [f"### {md_escape(photo.caption) or t('detail.no_caption', lang)}", ""]
    if photo.score is not None:
        lines.append(t("detail.score", lang, score=number(photo.score, lang, 3), parts=score_parts(photo, lang)) + "  ")
        if photo.matched:
            found = {field: ", ".join(map(md_escape, words)) for field, words in photo.matched.items()}
            where = " · ".join(f"{words} ({field_name(field, lang)})" for field, words in found.items())
            lines.append(t("detail.words", lang, where=where) + "  ")
        if photo.kinds:
            lines.append(t("detail.kind", lang, kinds=md_escape("; ".join(photo.kinds))) + "  ")
    if photo.offline:
        lines.append(t("detail.offline", lang) + "  ")
    if photo.file:
        lines.append(t("detail.taken", lang, when=md_escape(when(photo.date, photo.date_source, lang))) + "  ")
        if photo.size:
            lines.append(t("detail.size", lang, width=photo.size[0], height=photo.size[1]) + "  ")
        lines.append(t("detail.file", lang, path=md_code(photo.path)) + "  ")
        link = original_link(photo)
        lines.append(f"[{t('detail.open', lang)}]({link})" if link else t("detail.not_utf8", lang))
    else:
        lines.append(t("detail.imported", lang, id=md_code(photo.path)))
    return "\n".join(lines)


def saved_markdown(record, lang: str = "en") -> str:
    """What Save did: the caption is a person's now, the models' kept beside it."""
    if not record.human:
        return t("saved.machine", lang)
    kept = t("saved.kept", lang, caption=md_escape(record.machine_caption)) if record.machine_caption else ""
    return t("saved.human", lang, kept=kept)


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


def alt_count(text: str | None, lang: str = "en") -> str:
    """The alt text's length, and whether it is fit for a screen reader."""
    n = len(text or "")
    if n > ALT_TEXT_MAX:
        return t("alt.too_long", lang, n=n, max=ALT_TEXT_MAX)
    if n > ALT_TEXT_GOOD:
        return t("alt.long", lang, n=n, good=ALT_TEXT_GOOD)
    return t("alt.count" if n else "alt.empty", lang, n=n)


REVIEW_STATES = ("unreviewed", "approved", "edited", "skipped")


def review_state(review: str | None, lang: str = "en", plural: bool = False) -> str:
    """A review state in words ("not yet reviewed" for none), said of one photo or of several (`plural`: Spanish
    adjectives agree); an unknown one literally (Markdown)."""
    review = review or "unreviewed"
    key = f"review.{'states' if plural else 'state'}.{review}"
    return t(key, lang) if review in REVIEW_STATES else md_escape(review)


def review_where(hit: Hit, review: str | None, human: bool, lang: str = "en") -> str:
    """Above the alt text: the file, its review state, and who wrote the caption."""
    who = t("review.by_person" if human else "review.by_models", lang)
    return f"{md_code(hit.path)}  \n{review_state(review, lang)} · {who}"


def review_page_markdown(number: int, pages: int, total: int, show: str, lang: str = "en") -> str:
    if not total:
        return t("review.none", lang, show=review_state(show, lang, plural=True))
    return page_markdown(number, pages, total, lang)


def _skipped(items, lang: str) -> str:
    return "".join("  \n" + t("skipped.item", lang, path=md_code(p), reason=md_escape(r)) for p, r in items[:20])


def export_markdown(summary, lang: str = "en") -> str:
    text = t("export.summary", lang, created=len(summary.created), updated=len(summary.updated),
             unchanged=summary.unchanged, skipped=len(summary.skipped))  # fmt: skip
    return text + _skipped(summary.skipped, lang)


def rename_markdown(done: int, problems: list[tuple[str, str]], applied: bool, lang: str = "en") -> str:
    text = t("rename.done" if applied else "rename.plan", lang, n=number(done, lang))
    return text + _skipped(problems, lang)


def stats_markdown(stats: dict, lang: str = "en") -> str:
    roots = ", ".join(md_code(r) for r in stats["roots"]) or t("stats.no_roots", lang)
    offline = t("stats.offline", lang, n=number(stats["offline"], lang)) if stats.get("offline") else ""
    return t(
        "stats.line", lang, indexed=number(stats["indexed"], lang), failed=number(stats["failed"], lang),
        offline=offline, size=number(stats["size_bytes"] / 1e6, lang, 1), roots=roots,
    )  # fmt: skip


def no_index_header(index_dir: Path, lang: str = "en") -> str:
    return t("header.no_index", lang, path=md_code(index_dir))


def index_intro(index_dir: Path, lang: str = "en") -> str:
    return t("index.intro", lang, path=md_code(readable(str(index_dir))))


def reembed_summary(summary, lang: str = "en") -> str:
    """What `Library.reembed` did (a ReembedSummary)."""
    return t(
        "reembed.summary", lang, model=md_code(summary.model), n=number(summary.photos, lang), dim=summary.dim,
        seconds=number(summary.seconds, lang, 1), rate=number(summary.rate, lang),
    )  # fmt: skip


def index_summary(summary: Summary, folder: Path, lang: str = "en") -> str:
    def n(value: int) -> str:
        return number(value, lang)

    speed = "summary.speed.one" if summary.processed == 1 else "summary.speed.other"
    lines = [
        t("summary.title", lang, folder=md_code(readable(str(folder)))),
        t("summary.counts", lang, added=n(summary.added), updated=n(summary.updated), moved=n(summary.moved),
          removed=n(summary.removed), unchanged=n(summary.unchanged), failed=n(len(summary.failed)),
          offline=n(summary.offline)),
        t(speed, lang, n=n(summary.processed), seconds=number(summary.seconds, lang, 1),
          rate=number(summary.rate, lang, 2)),
    ]  # fmt: skip
    if summary.failed:
        lines.append(
            t("summary.unreadable", lang)
            + "\n"
            + "\n".join(f"- {md_code(p)}: {md_escape(r)}" for p, r in summary.failed)
        )
    if summary.offline_folders:
        lines.append(
            t("summary.offline", lang)
            + "\n"
            + "\n".join(
                "- " + t("summary.offline_item", lang, n=n(count_), reason=md_escape(reason))
                for reason, count_ in summary.offline_folders
            )
        )
    return "\n\n".join(lines)


def failures_markdown(failed: int, lang: str = "en") -> str:
    if not failed:
        return t("failures.none", lang)
    return t("failures.some", lang, files=count(failed, "files", lang))


def page_markdown(number_: int, pages: int, total: int, lang: str = "en") -> str:
    return t("page.line", lang, number=number(number_, lang), pages=number(pages, lang),
             photos=count(total, "photos", lang))  # fmt: skip


# -- duplicates ---------------------------------------------------------------------------------------------
@dataclass
class DuplicateView:
    """One group of copies as the Duplicates tab shows it: a heading, then its photos as tiles (image, text)."""

    title: str
    tiles: list[tuple[str, str]]


def duplicate_title(
    number_: int, kind: str, total: int, shown: int, exact: Sequence[int] = (), lang: str = "en"
) -> str:
    """A group's heading; `exact`: the sizes of its sets of byte-identical photos (for a near group)."""
    what = t("dup.exact" if kind == "exact" else "dup.near", lang)
    more = t("dup.first_shown", lang, n=number(shown, lang)) if shown < total else ""
    among = ""
    if kind != "exact" and exact:
        among = t("dup.among", lang, sizes=", ".join(count(n, "photos", lang) for n in exact))
    return t("dup.title", lang, number=number_, what=what, photos=count(total, "photos", lang), more=more, among=among)


def duplicate_caption(path: str, size: tuple[int, int] | None, exact: int | None = None, lang: str = "en") -> str:
    """The text under a copy's tile: its file name, size and folder, so you can tell which to keep; in a near
    group, `exact` numbers the set of byte-identical photos it belongs to."""
    name, folder = Path(path).name, str(Path(path).parent)
    lines = [f"{name} · {size[0]} × {size[1]} px" if size else name, folder]
    if exact is not None:
        lines.append(t("dup.exact_copy", lang, n=exact))
    return "\n".join(lines)


def duplicates_status(groups: int, shown: int, photos: int, threshold: float, lang: str = "en") -> str:
    if not groups:
        return t("dup.none", lang, threshold=number(threshold, lang, 2))
    more = t("dup.more", lang, n=number(shown, lang)) if shown < groups else ""
    return t("dup.status", lang, groups=count(groups, "groups", lang), photos=count(photos, "photos", lang),
             threshold=number(threshold, lang, 2), more=more)  # fmt: skip
