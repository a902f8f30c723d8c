"""The web app's event functions: each takes what the components hold, calls the Library, and returns what the
components show. Library errors arrive as typed exceptions and leave as readable messages: raised (`gr.Error`) by
the API endpoints, shown in the tab itself by the tabs' own events (see messages.py)."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr
import pandas as pd
from glimpse.indexer import names
from glimpse.indexer.errors import IndexNotFound, UnreadableImage
from glimpse.search import Filters, Hit
from glimpse.search.duplicates import NEAR_THRESHOLD
from glimpse.search.engine import hit_for

from . import i18n, language, views
from .i18n import t
from .layout import ResultsPanel
from .library import Library
from .messages import Failure, fail, failure_markdown, in_place, no_index, readable
from .progress import GradioProgress
from .review_handlers import ReviewHandlers
from .thumbs import PREVIEW, Thumbnails
from .upload import ACCEPTED, check_upload
from .views import DuplicateView

if TYPE_CHECKING:
    from .app import Layout

log = logging.getLogger(__name__)

PER_PAGE = 24  # library page size
PLOT_LABELS = 15
KIND_CHOICES = 12  # kinds of labels (dog, bird, vehicle) offered first in the label filters
DUPLICATE_GROUPS = 30  # groups shown in the Duplicates tab (the API returns all)
DUPLICATE_TILES = 12  # photos shown per group


def _date(value: str | None, name: str, lang: str = "en") -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise fail(t("error.not_a_date", lang, name=name, value=repr(value))) from None


def _whole(value, name: str) -> int:
    """A count or a number from an API caller, as an int; a readable error when it isn't one (NaN, infinity)."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise fail(t("error.whole", name=name, value=repr(value))) from None


def _filters(label: str | None, folder: str | None, since: str | None, until: str | None, lang: str = "en") -> Filters:
    since_, until_ = _date(since, t("error.date_from", lang), lang), _date(until, t("error.date_to", lang), lang)
    filters = Filters(label=label or None, folder=folder or None, since=since_, until=until_)
    if filters.since and filters.until and filters.since > filters.until:
        raise fail(t("error.dates_reversed", lang))
    return filters


class Handlers(ReviewHandlers):
    """The app's event functions, over one Library, one thumbnail cache and the app's layout. Functions that
    update several components return them as a dict keyed by component, so nothing depends on output order.

    The web app's events take the `gr.Request` too, and answer in the visitor's language (`lang`); the API's
    (`*_api`) don't: their answers are plain data and their errors English."""

    def __init__(self, library: Library, thumbs: Thumbnails, layout: Layout, server_language: str = "auto"):
        self.library = library
        self.thumbs = thumbs
        self.layout = layout
        self.server_language = server_language

    def lang(self, request: gr.Request | None) -> str:
        """The language of the visitor who made `request` (language.py); English without one (a direct call)."""
        return language.of_request(request, self.server_language) if request is not None else "en"

    def language_of(self, request: gr.Request | None = None) -> str:
        """The language selector's value on load: the visitor's language."""
        return self.lang(request)

    # -- tiles and details ------------------------------------------------------------------------------
    def tile(self, hit: Hit, caption: str) -> tuple[str, str]:
        """A gallery tile: the photo's thumbnail (a placeholder picture without a file) and its text."""
        image = self.thumbs.get(hit.file) if hit.file else None
        return str(image or self.thumbs.placeholder("no image" if hit.file else "imported caption")), caption

    def detail_of(self, panel: ResultsPanel):
        """The Select event of `panel`'s gallery: the detail view of the chosen tile, its photo's id, and its Find
        similar button (photos only: an imported caption has no image to compare)."""

        def detail(hits: list[Hit], evt: gr.SelectData, request: gr.Request | None = None) -> dict:
            if not hits or not isinstance(evt.index, int) or not 0 <= evt.index < len(hits):
                return {panel.detail: gr.update(visible=False), panel.chosen: None, panel.similar: gr.update()}
            hit = hits[evt.index]
            preview = self.thumbs.get(hit.file, side=PREVIEW) if hit.file else None
            return {
                panel.detail: gr.update(visible=True),
                panel.image: str(preview) if preview else None,
                panel.text: views.detail_markdown(hit, self.lang(request)),
                panel.labels: views.label_bars(hit.labels),
                panel.chosen: hit.id,
                panel.similar: gr.update(visible=hit.file is not None),
                panel.caption: hit.caption or "",
                panel.saved: "",
            }

        return detail

    def save_caption_of(self, panel: ResultsPanel):
        """The Save button of `panel`'s detail view: the caption becomes the photo's own, searchable at once."""

        @in_place("save", lambda _handlers, message, _lang: {panel.saved: message})
        def save(_handlers, photo_id, caption, request: gr.Request | None = None) -> dict:
            if photo_id is None:
                raise fail(t("error.choose_photo", self.lang(request)))
            record = self.library.edit(photo_id, caption=caption)
            return {panel.caption: record.caption, panel.saved: views.saved_markdown(record, self.lang(request))}

        def save_caption(photo_id, caption, request: gr.Request | None = None) -> dict:
            return save(self, photo_id, caption, request)  # in_place passes the handlers first

        return save_caption

    @readable
    def edit_api(
        self, photo_id: int, caption: str | None = None, add_labels: list[str] | None = None,
        remove_labels: list[str] | None = None, undo: bool = False,
    ) -> dict:  # fmt: skip
        """Edit a photo's caption and labels (or undo its last edit); returns the photo as it is now."""
        if undo:
            record = self.library.undo_edit(photo_id)
        else:
            record = self.library.edit(photo_id, caption or None, add_labels or (), remove_labels or ())
        return views.record_api(record)

    def _results(self, hits: list[Hit], status: str, lang: str = "en", caption=views.tile_caption, query=None) -> dict:
        """A new set of results in the Search tab: gallery (hidden when empty), status and photos, with the detail
        view closed; `query`: the search box's update (by default, its usual placeholder back)."""
        panel = self.layout.search.results
        tiles = [self.tile(h, caption(h, lang)) for h in hits]
        return {
            panel.gallery: gr.update(value=tiles, selected_index=None, visible=bool(tiles)),
            self.layout.search.status: status,
            panel.photos: hits,
            panel.detail: gr.update(visible=False),
            self.layout.search.query: query or gr.update(placeholder=t("search.placeholder", lang)),
        }

    def _failed_search(self, message: str, lang: str = "en") -> dict:
        """The Search tab after a search or a Find similar failed: the message, and no stale results."""
        return self._results([], message, lang)

    # -- search -----------------------------------------------------------------------------------------
    @in_place("search", _failed_search)
    def search_gallery(self, query, k, label, folder, since, until, request: gr.Request | None = None) -> dict:
        lang = self.lang(request)
        try:
            filters = _filters(label, folder, since, until, lang)
            results = self.library.search(query or "", k=int(k), filters=filters)
        except IndexNotFound:
            return self._results([], no_index(lang), lang)
        caption = views.closest_caption if results.no_good_match else views.tile_caption
        return self._results(results.hits, views.search_status(results, len(results.hits), lang), lang, caption)

    @readable
    def search_api(
        self, query: str, k: int = 10, label: str = "", folder: str = "", since: str = "", until: str = ""
    ) -> list[dict]:
        """Photos matching a plain-language query, best first. Each result has `id` (for /similar), `file` (the
        photo's full path, or the id of an imported caption), `caption`, `labels` (name and probability),
        `score`, `date` and `date_source` ("exif", or "file" for the file's date), `matched` (the query words
        found in its caption, labels, file name or the kinds of its labels), `kinds` (why a kind matched: "dog:
        golden retriever is a dog"), `offline` (true when its folder could not be read at the last index run: the
        photo is kept, but its file may not open now) and `no_good_match` (true on every result when nothing
        matches the query well: they are only the closest photos). Optional filters: a label or a kind of label
        ("dog" for every breed), a folder, a capture-date range (YYYY-MM-DD); `-word` in the query leaves a word
        out."""
        filters = _filters(label, folder, since, until)
        results = self.library.search(query or "", k=max(1, min(_whole(k, "k"), 1000)), filters=filters)
        return [api_result(hit, results.no_good_match) for hit in results.hits]

    # -- find similar -----------------------------------------------------------------------------------
    def _similar(self, hits: list[Hit], of: str, name: str, lang: str) -> dict:
        """Look-alikes shown like search results, in the Search tab (which opens), under a heading that says what
        the gallery holds now ("Photos like coffee.jpg"); the search box is emptied and says so too. `of`: the
        photo in a sentence (Markdown), `name`: its file name (plain text)."""
        query = gr.update(value="", placeholder=views.similar_placeholder(name, lang))
        return {
            **self._results(hits, views.similar_status(of, len(hits), name, lang), lang, query=query),
            self.layout.tabs: gr.Tabs(selected="search"),
        }

    def _failed_similar(self, message: str, lang: str = "en") -> dict:
        return {**self._failed_search(message, lang), self.layout.tabs: gr.Tabs(selected="search")}

    @in_place("similar", _failed_similar)
    def similar_to_photo(self, photo_id, k, request: gr.Request | None = None) -> dict:
        """Search-tab gallery of the photos that look like indexed photo `photo_id` (a tile's Find similar)."""
        lang = self.lang(request)
        if photo_id is None:
            raise fail(t("error.choose_photo", lang))
        photo_id = int(photo_id)
        hits = self.library.similar(photo_id, k=int(k))
        record = self.library.records([photo_id]).get(photo_id)
        if record is None:
            return self._similar(hits, t("similar.it", lang), t("similar.chosen", lang), lang)
        return self._similar(hits, views.photo_title(hit_for(record)), Path(record.path).name, lang)

    def _failed_upload(self, message: str, photo: bool = True) -> dict:
        """The Describe tab after its photo could not be described: the message, no caption or labels left from
        before, and, when the photo itself is refused (`photo`), no photo either (its preview would stay)."""
        describe = self.layout.describe
        return {describe.status: message, describe.caption: "", describe.labels: None,
                **({describe.photo: None} if photo else {})}  # fmt: skip

    @in_place("similar", lambda self, message, _lang: {self.layout.describe.status: message})
    def similar_to_upload(self, path, k, request: gr.Request | None = None) -> dict:
        """Search-tab gallery of the indexed photos that look like the photo in the Describe tab."""
        lang = self.lang(request)
        if not path:
            raise fail(t("error.drop_photo", lang))
        path = check_upload(path, lang)
        hits = self._like_upload(path, int(k), lang)
        of = t("similar.upload", lang, name=views.md_code(path.name))
        return {**self._similar(hits, of, path.name, lang), self.layout.describe.status: ""}

    def _like_upload(self, path: Path, k: int, lang: str = "en") -> list[Hit]:
        try:
            return self.library.similar(path, k=k)
        except UnreadableImage as e:
            raise fail(t("error.unreadable_upload", lang, name=path.name, reason=e)) from e

    @readable
    def similar_api(self, photo_id=None, image=None, k=10) -> list[dict]:
        """Photos that look like an indexed photo (`photo_id`: the `id` of a /search result) or like an uploaded
        `image`, most alike first: ResNet-18 image features, not captions. Results are shaped as /search's, with
        `score` the image similarity (1 = the same picture). An indexed photo is left out of its own results; an
        uploaded copy of one finds it first."""
        k = max(1, min(_whole(k or 10, "k"), 1000))
        has_id = photo_id is not None and str(photo_id).strip() != ""
        if image and has_id:
            raise fail("Give a photo id or an image, not both.")  # the API speaks English
        if image:
            hits = self._like_upload(check_upload(image), k)
        elif has_id:
            hits = self.library.similar(photo_id, k=k)
        else:
            raise fail("Give a photo id (the `id` of a search result) or an image.")
        return [api_result(hit) for hit in hits]

    # -- duplicates -------------------------------------------------------------------------------------
    @in_place("duplicates", lambda _self, message, _lang: (message, []))
    def duplicates_view(self, threshold, request: gr.Request | None = None):
        """The Duplicates tab: a status line, and the first groups of copies with their tiles."""
        lang = self.lang(request)
        threshold = float(NEAR_THRESHOLD if threshold is None else threshold)
        try:
            groups = self.library.duplicates(threshold)
        except IndexNotFound:
            return no_index(lang), []
        shown = groups[:DUPLICATE_GROUPS]
        records = self.library.records([i for g in shown for i in g.ids[:DUPLICATE_TILES]])
        out = []
        for number, group in enumerate(shown, 1):
            hits = [hit_for(records[i]) for i in group.ids[:DUPLICATE_TILES] if i in records]
            same = {} if group.kind == "exact" else {i: n for n, ids in enumerate(group.exact, 1) for i in ids}
            tiles = [self.tile(h, views.duplicate_caption(h.path, h.size, same.get(h.id), lang)) for h in hits]
            sizes = [len(e) for e in group.exact]
            title = views.duplicate_title(number, group.kind, len(group.ids), len(tiles), sizes, lang)
            out.append(DuplicateView(title, tiles))
        status = views.duplicates_status(len(groups), len(shown), sum(len(g.ids) for g in groups), threshold, lang)
        return status, out

    @readable
    def duplicates_api(self, threshold: float = NEAR_THRESHOLD) -> list[dict]:
        """Groups of copies in the index, exact copies first: `kind` ("exact": the same bytes; "near": resized,
        re-encoded, cropped, burst shots), the `ids` and `paths` of the photos in the group, and `exact`: which of
        them are byte-identical (a list of {"ids", "paths"} sets; in a "near" group, the exact copies among the
        near ones). Bytes are compared as they are now, not as they were when indexed. `threshold`
        (0 to 1, default 0.85) is the image-feature similarity from which crops and bursts count as near copies:
        lower finds more."""
        if not 0.0 <= float(threshold) <= 1.0:
            raise fail(t("error.threshold", value=threshold))
        groups = self.library.duplicates(float(threshold))
        return [g.as_dict() for g in groups]

    # -- describe ---------------------------------------------------------------------------------------
    def describe(self, path):
        """The `describe` API: an uploaded photo's caption and labels (its messages in English)."""
        return self._describe(path, lang="en")

    @readable
    def _describe(self, path, lang: str = "en"):
        if not path:
            return "", None
        path = check_upload(path, lang)
        try:
            caption, labels = self.library.describe(path)
        except UnreadableImage as e:
            raise fail(t("error.unreadable_upload", lang, name=path.name, reason=e)) from e
        return caption, views.label_bars(labels, top=3)

    def describe_view(self, path, request: gr.Request | None = None) -> dict:
        """The Describe tab's photo changed: its caption and labels, or why not, in place. No photo (cleared, or
        refused just before) clears them and leaves the status line as it is."""
        describe, lang = self.layout.describe, self.lang(request)
        try:
            caption, labels = self._describe(path, lang=lang)
        except Failure as e:
            refused = isinstance(e.__cause__, UnreadableImage)  # the file, not the app: out of the preview too
            return self._failed_upload(failure_markdown("describe", e.text, lang), photo=refused)
        return {describe.caption: caption, describe.labels: labels, **({describe.status: ""} if path else {})}

    def refused_upload(self, refused, request: gr.Request | None = None) -> dict:
        """Files the browser refused to upload (not image/*), as the page names them (`{"names": [...], "at": ...}`,
        see app.REFUSED_UPLOADS): said in place, and the photo from before cleared, so that its caption is not
        taken for theirs."""
        try:
            names = [str(n) for n in json.loads(refused)["names"]]
        except (TypeError, ValueError, KeyError):
            names = [str(refused or "")]
        name = names[0].strip() if names else ""  # the Describe tab takes one photo
        lang = self.lang(request)
        try:
            check_upload(name or "file", lang)
        except UnreadableImage as e:
            message = str(e)
        else:
            message = t("describe.refused", lang, name=name, accepted=ACCEPTED)
        return self._failed_upload(failure_markdown("describe", message, lang))

    # -- library ----------------------------------------------------------------------------------------
    def _failed_browse(self, message: str, _lang: str = "en") -> dict:
        tab = self.layout.library
        return {tab.results.gallery: gr.update(value=[], visible=False), tab.info: message, tab.results.photos: [],
                tab.results.detail: gr.update(visible=False)}  # fmt: skip

    @in_place("browse", _failed_browse)
    def browse(self, number, order, label, request: gr.Request | None = None) -> dict:
        tab = self.layout.library
        lang = self.lang(request)
        try:
            page = self.library.page(number or 1, PER_PAGE, order or "date", label or None)
        except IndexNotFound:
            hits, info, number = [], t("page.no_photos", lang), 1
        else:
            hits = [hit_for(r) for r in page.records]
            info, number = views.page_markdown(page.number, page.pages, page.total, lang), page.number
        return {
            tab.results.gallery: gr.update(
                value=[self.tile(h, views.library_caption(h, lang)) for h in hits],
                selected_index=None,
                visible=bool(hits),
            ),
            tab.info: info,
            tab.number: number,
            tab.results.photos: hits,
            tab.results.detail: gr.update(visible=False),
        }

    def browse_step(self, step: int | None):
        """The Library's page `step` pages away (Previous, Next), or its first page (`step` None: a new order or
        label)."""

        def browse(number, order, label, request: gr.Request | None = None) -> dict:
            return self.browse(1 if step is None else (number or 1) + step, order, label, request)

        return browse

    @in_place("overview", lambda self, message, _lang: {self.layout.header: message})
    def overview(self, request: gr.Request | None = None) -> dict:
        """Everything that changes when the index does: counts, label choices, folders, plot, failures; and what
        names the library (the Index tab's text and folder choices), which the page leaves out until a visitor
        signs in."""
        layout, lang = self.layout, self.lang(request)
        roots = [str(r) for r in self.library.roots()]
        counts = self.library.label_counts()
        kinds = self.library.kind_counts(KIND_CHOICES)
        label_choices = [(t("search.any_label", lang), "")]
        label_choices += [(t("choice.kind", lang, name=n, count=i18n.number(c, lang)), n) for n, c in kinds]
        taken = {n.lower() for n, _ in kinds}
        label_choices += [(f"{n} ({i18n.number(c, lang)})", n) for n, c in counts if n.lower() not in taken]
        top = counts[:PLOT_LABELS]
        if self.library.exists:
            stats = self.library.stats()
            header = views.stats_markdown(stats, lang)
            failed = [[f["path"], f["reason"]] for f in stats["failures"]]
        else:
            header = views.no_index_header(self.library.index_dir, lang)
            failed = []
        plot = pd.DataFrame({"label": [n for n, _ in top], "photos": [c for _, c in top]})
        return {
            layout.header: header,
            layout.search.label: gr.update(choices=label_choices),
            layout.search.folder: gr.update(
                choices=[(t("search.anywhere", lang), "")] + [(str(f), str(f)) for f in self.library.folders()]
            ),
            layout.library.label: gr.update(choices=label_choices),
            layout.library.plot: gr.BarPlot(
                plot,
                y_lim=[0, max([c for _, c in top], default=1)],
                x_title=t("plot.label", lang),
                y_title=t("plot.photos", lang),
            ),  # fmt: skip
            layout.library.failed_info: views.failures_markdown(len(failed), lang),
            layout.library.failures: gr.update(
                value=pd.DataFrame(failed, columns=[t("table.file", lang), t("table.why", lang)]), visible=bool(failed)
            ),
            layout.index.intro: views.index_intro(self.library.index_dir, lang),
            layout.index.folder: gr.update(choices=[r for r in roots if names.is_valid(r)]),
        }

    def first_folder(self):
        """The Index tab's folder when the page loads: the first library folder."""
        roots = [str(r) for r in self.library.roots() if names.is_valid(str(r))]
        return roots[0] if roots else ""

    # -- index ------------------------------------------------------------------------------------------
    @readable
    def index(self, folder, progress=gr.Progress()):  # noqa: B008 - Gradio injects the tracker this way
        """The `index` API: index a folder; a Markdown summary (in English)."""
        return self._index(folder, lang="en", progress=progress)

    @readable
    def _index(self, folder, lang: str = "en", progress=None):
        if not folder or not str(folder).strip():
            raise fail(t("error.choose_folder", lang))
        folder = Path(str(folder).strip()).expanduser()
        if not folder.is_dir() and folder.resolve() not in self.library.roots():  # a known one may be offline
            raise fail(t("error.not_a_folder", lang, folder=names.readable(str(folder))))
        progress(0, desc=t("progress.loading_models", lang))
        summary = self.library.index(folder, progress=GradioProgress(progress, lang=lang))
        return views.index_summary(summary, folder.resolve(), lang)

    @in_place("index", lambda _self, message, _lang: message)
    def index_view(self, folder, request: gr.Request | None = None, progress=gr.Progress()):  # noqa: B008 - Gradio injects the tracker this way
        """The Index tab's button: the summary, or why the folder could not be indexed, in place."""
        return self._index(folder, lang=self.lang(request), progress=progress)

    @readable
    def reembed(self, text_model, progress=gr.Progress()):  # noqa: B008 - Gradio injects the tracker this way
        """The `reembed` API: switch the index to another text model without captioning again (see
        Library.reembed); a Markdown summary (in English)."""
        return self._reembed(text_model, lang="en", progress=progress)

    @readable
    def _reembed(self, text_model, lang: str = "en", progress=None):
        if not text_model or not str(text_model).strip():
            raise fail(t("error.type_model", lang))
        progress(0, desc=t("progress.loading_text_model", lang))
        reporter = GradioProgress(progress, done="progress.embedded", unit="progress.captions", lang=lang)
        summary = self.library.reembed(str(text_model).strip(), progress=reporter)
        return views.reembed_summary(summary, lang)

    @in_place("reembed", lambda _self, message, _lang: message)
    def reembed_view(self, text_model, request: gr.Request | None = None, progress=gr.Progress()):  # noqa: B008 - Gradio injects the tracker this way
        """The Index tab's Re-embed button: the summary, or why the model could not be switched, in place."""
        return self._reembed(text_model, lang=self.lang(request), progress=progress)


def api_result(hit: Hit, no_good_match: bool = False) -> dict:
    """A hit for API clients. The path is under `file`: gradio_client takes any dict with a "path" for a file
    to download, and these are results, not downloads. `no_good_match`: the search it answers has none (always
    false for look-alikes), so /search and /similar results have the same keys."""
    d = hit.as_dict()
    d["file"] = d.pop("path")
    keys = ("id", "file", "caption", "labels", "score", "date", "date_source", "matched", "kinds", "offline")
    return {**{key: d[key] for key in keys}, "no_good_match": no_good_match}
