"""The web app's event functions: each takes what the components hold, calls the Library, and returns what the
components show. Library errors arrive as typed exceptions and leave as readable messages (`gr.Error`)."""

from __future__ import annotations

import functools
import logging
from datetime import date
from pathlib import Path

import gradio as gr
import pandas as pd

from indexer.errors import GlimpseError, IndexNotFound, UnreadableImage
from search import Filters, Hit

from . import views
from .library import Library
from .progress import GradioProgress
from .thumbs import PREVIEW, Thumbnails
from .upload import check_upload
from .views import Photo

log = logging.getLogger(__name__)

PER_PAGE = 24  # library page size
PLOT_LABELS = 15


def readable(fn):
    """Turn glimpse's typed errors (and unexpected OS errors) into a message for the user."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except GlimpseError as e:
            raise gr.Error(str(e), print_exception=False) from e
        except OSError as e:
            log.exception("request failed")
            raise gr.Error(f"{e.strerror or e}: {e.filename or ''}".rstrip(": "), print_exception=False) from e

    return wrapper


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise gr.Error(f"{name}: {value!r} is not a date (use YYYY-MM-DD)", print_exception=False) from None


def _filters(label: str | None, folder: str | None, since: str | None, until: str | None) -> Filters:
    filters = Filters(label=label or None, folder=folder or None, since=_date(since, "from"), until=_date(until, "to"))
    if filters.since and filters.until and filters.since > filters.until:
        raise gr.Error("The start date is after the end date.", print_exception=False)
    return filters


class Handlers:
    """The app's event functions, over one Library and one thumbnail cache."""

    def __init__(self, library: Library, thumbs: Thumbnails):
        self.library = library
        self.thumbs = thumbs

    # -- tiles and details ------------------------------------------------------------------------------
    def tile(self, photo: Photo, caption: str) -> tuple[str, str]:
        image = self.thumbs.get(photo.file) if photo.file else None
        return str(image or self.thumbs.placeholder("no image" if photo.file else "imported caption")), caption

    def detail(self, photos: list[Photo], evt: gr.SelectData):
        if not photos or not isinstance(evt.index, int) or not 0 <= evt.index < len(photos):
            return gr.update(visible=False), None, "", None
        photo = photos[evt.index]
        preview = self.thumbs.get(photo.file, side=PREVIEW) if photo.file else None
        image = str(preview) if preview else None
        return gr.update(visible=True), image, views.detail_markdown(photo), views.label_bars(photo.labels)

    # -- search -----------------------------------------------------------------------------------------
    def _photos(self, query: str, k: int, filters: Filters):
        results = self.library.search(query or "", k=int(k), filters=filters)
        records = self.library.records([h.id for h in results.hits]) if results.hits else {}
        return results, [Photo.from_record(records[h.id], h) for h in results.hits if h.id in records]

    @readable
    def search_gallery(self, query, k, label, folder, since, until):
        hidden = gr.update(visible=False)
        try:
            results, photos = self._photos(query, k, _filters(label, folder, since, until))
        except IndexNotFound as e:
            return [], f"### No index yet\n{views.md_escape(str(e))}", [], hidden
        gallery = gr.update(value=[self.tile(p, views.tile_caption(p)) for p in photos], selected_index=None)
        return gallery, views.search_status(results, len(photos)), photos, hidden

    @readable
    def search_api(
        self, query: str, k: int = 10, label: str = "", folder: str = "", since: str = "", until: str = ""
    ) -> list[dict]:
        """Photos matching a plain-language query, best first. Each result has `file` (the photo's full path, or
        the id of an imported caption), `caption`, `labels` (name and probability), `score`, `date` and
        `date_source` ("exif", or "file" for the file's date), and `matched` (the query words found in its
        caption, labels or file name). Optional filters: a label, a folder, a capture-date range (YYYY-MM-DD);
        `-word` in the query leaves a word out."""
        filters = _filters(label, folder, since, until)
        results = self.library.search(query or "", k=max(1, min(int(k), 1000)), filters=filters)
        return [api_result(hit) for hit in results.hits]

    # -- describe ---------------------------------------------------------------------------------------
    @readable
    def describe(self, path):
        if not path:
            return "", None
        path = check_upload(path)
        try:
            caption, labels = self.library.describe(path)
        except UnreadableImage as e:
            raise gr.Error(f"{path.name} can't be read as a photo: {e}", print_exception=False) from e
        return caption, views.label_bars(labels, top=3)

    # -- library ----------------------------------------------------------------------------------------
    @readable
    def browse(self, number, order, label):
        try:
            page = self.library.page(number or 1, PER_PAGE, order or "date", label or None)
        except IndexNotFound:
            return [], "No photos yet: index a folder in the **Index** tab.", 1, [], gr.update(visible=False)
        photos = [Photo.from_record(r) for r in page.records]
        gallery = gr.update(value=[self.tile(p, views.library_caption(p)) for p in photos], selected_index=None)
        info = views.page_markdown(page.number, page.pages, page.total)
        return gallery, info, page.number, photos, gr.update(visible=False)

    @readable
    def overview(self):
        """Everything that changes when the index does: counts, label choices, folders, plot, failures."""
        counts = self.library.label_counts()
        label_choices = [("Any label", "")] + [(f"{n} ({c})", n) for n, c in counts]
        folders = [("Anywhere", "")] + [(str(f), str(f)) for f in self.library.folders()]
        roots = [str(r) for r in self.library.roots()]
        top = counts[:PLOT_LABELS]
        plot = gr.BarPlot(
            pd.DataFrame({"label": [n for n, _ in top], "photos": [c for _, c in top]}),
            y_lim=[0, max([c for _, c in top], default=1)],
        )
        if self.library.exists:
            stats = self.library.stats()
            header = views.stats_markdown(stats)
            failed = [[f["path"], f["reason"]] for f in stats["failures"]]
        else:
            header = f"No index at `{self.library.index_dir}` yet: index a folder in the **Index** tab."
            failed = []
        return (
            header,
            gr.update(choices=label_choices),
            gr.update(choices=folders),
            gr.update(choices=label_choices),
            plot,
            views.failures_markdown(len(failed)),
            gr.update(value=failed, visible=bool(failed)),
            gr.update(choices=roots),
        )

    # -- index ------------------------------------------------------------------------------------------
    @readable
    def index(self, folder, progress=gr.Progress()):  # noqa: B008 - Gradio injects the tracker this way
        if not folder or not str(folder).strip():
            raise gr.Error("Choose or type a folder to index.", print_exception=False)
        folder = Path(str(folder).strip()).expanduser()
        if not folder.is_dir():
            raise gr.Error(f"{folder} is not a folder on the machine running glimpse.", print_exception=False)
        progress(0, desc="loading models")
        summary = self.library.index(folder, progress=GradioProgress(progress))
        return views.index_summary(summary, folder.resolve())


def api_result(hit: Hit) -> dict:
    """A hit for API clients. The path is under `file`: gradio_client takes any dict with a "path" for a file
    to download, and these are results, not downloads."""
    d = hit.as_dict()
    d["file"] = d.pop("path")
    return {key: d[key] for key in ("file", "caption", "labels", "score", "date", "date_source", "matched")}
