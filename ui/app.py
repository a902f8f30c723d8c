"""The glimpse web app: `build_app(index_dir) -> gr.Blocks` with five tabs (Search, Describe a photo, Library,
Duplicates, Index) over one shared `Library`. This module lays the app out and wires events to the functions in
handlers.py; nothing is launched here: `glimpse serve` does that (see server.py).

Every event has an `api_name`, so the app is also an API; the documented ones are `search` (query and k in, a
list of results out), `describe` (an image in, its caption and labels out), `similar` (a photo id or an image in,
results out) and `duplicates` (a threshold in, groups of copies out).
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from glimpse.indexer.config import DEFAULT_BATCH_SIZE
from glimpse.indexer.models import Models
from glimpse.indexer.scan import is_image_name
from glimpse.search.duplicates import NEAR_THRESHOLD

from .handlers import Handlers
from .library import Library, default_models
from .thumbs import Thumbnails
from .upload import ACCEPTED, photo_input

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "photos"
RESULTS = 24  # default number of search results
QUEUE_SIZE = 64  # requests waiting beyond this are turned away ("queue full") instead of piling up

CSS = """
.gl-header { gap: 0 !important; }
.gl-header h1 { margin: 0; }
.gl-header p { margin: 0; opacity: .8; }
.gl-status { min-height: 2.2em; }
#index-result { min-height: 7em; }
.gl-pager { align-items: center; }
.gl-pager button { align-self: center; }
.gl-detail { border-left: 1px solid var(--border-color-primary); padding-left: 14px; }
/* gallery tiles: square photo, then its caption, labels and score as text under it (not over the photo) */
.gl-tiles .grid-wrap.fixed-height { min-height: 0; max-height: none; }
.gl-tiles .thumbnail-item { aspect-ratio: auto !important; height: auto !important; display: flex;
  flex-direction: column; overflow: hidden; }
.gl-tiles .thumbnail-item img { aspect-ratio: 1 / 1; width: 100%; height: auto !important; object-fit: cover; }
.gl-tiles .caption-label { position: static !important; max-width: none !important; white-space: pre-line !important;
  text-align: left; border: 0 !important; border-radius: 0 !important; background: transparent !important;
  opacity: 1 !important; font-size: 13px; line-height: 1.35; padding: 6px 8px 8px !important;
  overflow-wrap: anywhere; }
.gl-group { margin-top: 10px; }
.gl-actions { align-items: center; }
"""


def theme() -> gr.themes.Base:
    return gr.themes.Soft(primary_hue="indigo", secondary_hue="slate", neutral_hue="zinc", radius_size="md")


def example_photos(folder: Path | None, limit: int = 8) -> list[list[str]]:
    if not folder or not Path(folder).is_dir():
        return []
    return [[str(p)] for p in sorted(Path(folder).rglob("*")) if p.is_file() and is_image_name(p.name)][:limit]


def build_app(
    index_dir: str | Path,
    models: Models | None = None,
    examples: Path | None = EXAMPLES,
    thumbs_dir: str | Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> gr.Blocks:
    """The web app over the index at `index_dir` (which may not exist yet). `models` are loaded lazily, once,
    and shared by every request; by default they come from the environment (see `glimpse serve --help`).
    `batch_size` is the number of images per model batch when indexing from the app."""
    models = models or default_models(Path(index_dir))
    library = Library(index_dir, models, batch_size=batch_size)
    thumbs = Thumbnails(thumbs_dir or Path(gr.utils.get_upload_folder()) / "glimpse-thumbs")
    ui = Handlers(library, thumbs)

    with gr.Blocks(title="glimpse", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        with gr.Column(elem_classes="gl-header"):
            gr.Markdown("# glimpse\nFind your photos by describing them.")
            header = gr.Markdown()

        with gr.Tabs() as tabs:
            # -- Search ---------------------------------------------------------------------------------
            with gr.Tab("Search", id="search"):
                query = gr.Textbox(
                    show_label=False, autofocus=True, elem_id="query", submit_btn="Search",
                    placeholder="Describe the photo: a dog running on the beach, coffee on a wooden table… "
                    "(-word leaves a word out)",
                )  # fmt: skip
                with gr.Accordion("Filters and number of results", open=False):
                    with gr.Row():
                        label = gr.Dropdown(
                            label="Label", choices=[("Any label", "")], value="", allow_custom_value=True,
                            elem_id="filter-label",
                        )  # fmt: skip
                        folder = gr.Dropdown(
                            label="Folder", choices=[("Anywhere", "")], value="", allow_custom_value=True,
                            elem_id="filter-folder",
                        )  # fmt: skip
                    with gr.Row():
                        since = gr.DateTime(label="Taken from", include_time=False, type="string", elem_id="since")
                        until = gr.DateTime(label="Taken until", include_time=False, type="string", elem_id="until")
                        k = gr.Slider(1, 100, value=RESULTS, step=1, label="Results", elem_id="k")
                    gr.Markdown("Dates are EXIF capture dates, or the file's date for photos without one.")
                status = gr.Markdown(elem_classes="gl-status", elem_id="search-status")
                found = gr.State([])
                with gr.Row():
                    gallery = gr.Gallery(
                        show_label=False, columns=4, fit_columns=False, object_fit="cover", allow_preview=False,
                        buttons=[], elem_id="results", elem_classes="gl-tiles", scale=3,
                    )  # fmt: skip
                    with gr.Column(visible=False, scale=2, elem_classes="gl-detail") as detail:
                        detail_image = gr.Image(show_label=False, interactive=False, height=420, buttons=["fullscreen"])
                        detail_text = gr.Markdown()
                        chosen = gr.State(None)  # the id of the photo in the detail view
                        similar_button = gr.Button("Find similar", size="sm", elem_id="find-similar", visible=False)
                        detail_labels = gr.Label(num_top_classes=5, label="Labels")

            # -- Describe a photo -----------------------------------------------------------------------
            with gr.Tab("Describe a photo", id="describe"):
                gr.Markdown(
                    f"Drop or paste a photo ({ACCEPTED}) to caption and label it, or to find the photos in your "
                    "library that look like it. Nothing is indexed."
                )
                with gr.Row():
                    with gr.Column():
                        photo = photo_input(label="Photo", sources=["upload", "clipboard"], height=380, elem_id="photo")
                        if samples := example_photos(examples):
                            gr.Examples(samples, inputs=[photo], label="Or try a sample", examples_per_page=8)
                    with gr.Column():
                        caption = gr.Textbox(label="Caption (BLIP)", lines=2, interactive=False, elem_id="caption")
                        labels = gr.Label(num_top_classes=3, label="Labels (ResNet-18)", elem_id="labels")
                        photo_similar = gr.Button("Find similar photos in the library", elem_id="photo-similar")

            # -- Library --------------------------------------------------------------------------------
            with gr.Tab("Library", id="library"):
                with gr.Row():
                    order = gr.Radio(
                        [("Newest first", "date"), ("Folder and name", "path")], value="date", label="Sort"
                    )
                    lib_label = gr.Dropdown(label="Label", choices=[("Any label", "")], value="")
                with gr.Row(elem_classes="gl-pager"):
                    prev_page = gr.Button("← Previous", size="sm", scale=0, min_width=110)
                    page_number = gr.Number(value=1, precision=0, minimum=1, show_label=False, scale=0, min_width=80)
                    next_page = gr.Button("Next →", size="sm", scale=0, min_width=110)
                    page_info = gr.Markdown(elem_id="page-info")
                shown = gr.State([])
                with gr.Row():
                    lib_gallery = gr.Gallery(
                        show_label=False, columns=6, fit_columns=False, object_fit="cover", allow_preview=False,
                        buttons=[], elem_id="library", elem_classes="gl-tiles", scale=3,
                    )  # fmt: skip
                    with gr.Column(visible=False, scale=2, elem_classes="gl-detail") as lib_detail:
                        lib_image = gr.Image(show_label=False, interactive=False, height=420, buttons=["fullscreen"])
                        lib_text = gr.Markdown()
                        lib_chosen = gr.State(None)
                        lib_similar = gr.Button("Find similar", size="sm", elem_id="library-similar", visible=False)
                        lib_labels = gr.Label(num_top_classes=5, label="Labels")
                with gr.Row():
                    plot = gr.BarPlot(
                        x="label", y="photos", title="Most common labels (best guess per photo)", sort="-y",
                        x_label_angle=-35, height=320, scale=3,
                    )  # fmt: skip
                    with gr.Column(scale=2):
                        failed_info = gr.Markdown(elem_id="failed-info")
                        failures = gr.Dataframe(
                            headers=["file", "why it could not be read"], show_label=False, interactive=False,
                            wrap=True, visible=False,
                        )  # fmt: skip

            # -- Duplicates -----------------------------------------------------------------------------
            with gr.Tab("Duplicates", id="duplicates"):
                gr.Markdown(
                    "Photos that are copies of each other: **exact** copies (the same bytes) and **near** copies "
                    "(resized, re-encoded, cropped, burst shots). Click a photo to see it larger."
                )
                with gr.Row(elem_classes="gl-actions"):
                    threshold = gr.Slider(
                        0.0, 1.0, value=NEAR_THRESHOLD, step=0.01, label="Near-copy threshold", elem_id="threshold",
                        info="How alike two photos' image features must be for a crop or a burst shot to count as a "
                        "copy; lower finds more. Resized and re-encoded copies are found at any setting.", scale=3,
                    )  # fmt: skip
                    find_duplicates = gr.Button("Find duplicates", variant="primary", scale=0, min_width=180)
                duplicates_status = gr.Markdown(elem_id="duplicates-status")
                groups = gr.State([])

                @gr.render(inputs=[groups])
                def show_groups(shown_groups):
                    for number, view in enumerate(shown_groups, 1):
                        gr.Markdown(view.title, elem_classes="gl-group", key=f"group-title-{number}")
                        gr.Gallery(
                            view.tiles, show_label=False, columns=6, fit_columns=False, object_fit="cover",
                            allow_preview=True, buttons=[], elem_classes="gl-tiles gl-duplicates",
                            key=f"group-{number}",
                        )  # fmt: skip

            # -- Index ----------------------------------------------------------------------------------
            with gr.Tab("Index", id="index"):
                gr.Markdown(
                    f"Index or re-index a folder on the machine running glimpse, into `{library.index_dir}`. "
                    "Only new and changed photos go through the models; on a CPU that is about one photo a second."
                )
                roots = [str(r) for r in library.roots()]
                index_folder = gr.Dropdown(
                    label="Folder", choices=roots, value=roots[0] if roots else None, allow_custom_value=True,
                    elem_id="index-folder",
                    info="A folder indexed before, or type the path of a new one.",
                )  # fmt: skip
                with gr.Row():
                    index_button = gr.Button("Index this folder", variant="primary", scale=0, min_width=200)
                index_result = gr.Markdown(elem_id="index-result")

        # the inputs and output of the `similar` API (the tabs above reach it through their own events)
        with gr.Column(visible=False):
            api_photo_id = gr.Number(label="photo_id", precision=0)
            api_image = photo_input(label="image")
            api_k = gr.Number(value=10, precision=0, label="k")
            api_results = gr.JSON(label="results")

        # -- events -------------------------------------------------------------------------------------
        overview_outputs = [header, label, folder, lib_label, plot, failed_info, failures, index_folder]
        browse_inputs = [page_number, order, lib_label]
        browse_outputs = [lib_gallery, page_info, page_number, shown, lib_detail]
        quick = dict(concurrency_id="browse", concurrency_limit=4, api_visibility="undocumented")

        gr.on(
            [query.submit], ui.search_gallery, [query, k, label, folder, since, until],
            [gallery, status, found, detail], api_name="search_gallery", api_visibility="undocumented",
            concurrency_id="search", concurrency_limit=4,
        )  # fmt: skip
        gr.api(ui.search_api, api_name="search", concurrency_id="search", concurrency_limit=4)
        gallery.select(
            ui.detail, [found], [detail, detail_image, detail_text, detail_labels, chosen, similar_button],
            api_name="search_detail", **quick,
        )  # fmt: skip

        similar_outputs = [gallery, status, found, detail, tabs]
        similar_button.click(ui.similar_to_photo, [chosen, k], similar_outputs, api_name="similar_to_result", **quick)
        lib_similar.click(
            ui.similar_to_photo, [lib_chosen, k], similar_outputs, api_name="similar_to_library_photo", **quick
        )
        photo_similar.click(
            ui.similar_to_upload, [photo, k], similar_outputs, api_name="similar_to_upload",
            api_visibility="undocumented", concurrency_id="describe", concurrency_limit=1,
        )  # fmt: skip
        gr.on(
            [], ui.similar_api, [api_photo_id, api_image, api_k], api_results, api_name="similar",
            concurrency_id="similar", concurrency_limit=2,
        )  # fmt: skip

        gr.on(
            [find_duplicates.click, threshold.release], ui.duplicates_view, [threshold], [duplicates_status, groups],
            api_name="duplicates_view", api_visibility="undocumented", concurrency_id="duplicates",
            concurrency_limit=1,
        )  # fmt: skip
        gr.api(ui.duplicates_api, api_name="duplicates", concurrency_id="duplicates", concurrency_limit=1)

        photo.change(
            ui.describe, [photo], [caption, labels], api_name="describe",
            concurrency_id="describe", concurrency_limit=1,
        )  # fmt: skip

        demo.load(ui.overview, None, overview_outputs, api_name="overview", **quick).then(
            ui.browse, browse_inputs, browse_outputs, api_name="browse_first", **quick
        )
        page_number.submit(ui.browse, browse_inputs, browse_outputs, api_name="browse", **quick)
        gr.on(
            [order.change, lib_label.change], lambda _n, o, lb: ui.browse(1, o, lb), browse_inputs, browse_outputs,
            api_name="browse_from_start", **quick,
        )  # fmt: skip
        prev_page.click(
            lambda n, o, lb: ui.browse((n or 1) - 1, o, lb), browse_inputs, browse_outputs,
            api_name="browse_previous", **quick,
        )  # fmt: skip
        next_page.click(
            lambda n, o, lb: ui.browse((n or 1) + 1, o, lb), browse_inputs, browse_outputs,
            api_name="browse_next", **quick,
        )  # fmt: skip
        lib_gallery.select(
            ui.detail, [shown], [lib_detail, lib_image, lib_text, lib_labels, lib_chosen, lib_similar],
            api_name="library_detail", **quick,
        )  # fmt: skip

        index_button.click(
            ui.index, [index_folder], [index_result], api_name="index", concurrency_id="index", concurrency_limit=1
        ).then(ui.overview, None, overview_outputs, api_name="overview_after_index", **quick).then(
            ui.browse, browse_inputs, browse_outputs, api_name="browse_after_index", **quick
        )

    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=4)
    demo.glimpse_library = library  # for launch(): the roots to serve, the index to keep off the file route
    return demo
