"""The glimpse web app: `build_app(library) -> gr.Blocks` with five tabs (Search, Describe a photo, Library,
Duplicates, Index) over one shared `Library` (the application layer the CLI uses too). layout.py builds the
tabs, this module wires their events to the functions in handlers.py; nothing is launched here: `glimpse serve`
does that (see server.py).

Every event has an `api_name`, so the app is also an API; the documented ones are `search` (query and k in, a
list of results out), `describe` (an image in, its caption and labels out), `similar` (a photo id or an image in,
results out), `duplicates` (a threshold in, groups of copies out) and `edit` (a photo id, a caption, labels to add
and remove, or undo, in; the photo as it is now out).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from . import layout as parts
from . import tempdir
from .handlers import Handlers
from .i18n import I18N as L
from .i18n import NAMES, english
from .language import CHOICES, SWITCH_JS
from .library import Library
from .thumbs import Thumbnails

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "photos"  # a source checkout's sample photos
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
/* a long caption stops after five lines in its tile (the detail view shows all of it) */
.gl-tiles .caption-label { display: -webkit-box !important; -webkit-box-orient: vertical; -webkit-line-clamp: 5;
  line-clamp: 5; overflow: hidden !important; padding-bottom: 0 !important; margin-bottom: 8px; }
.gl-table td, .gl-table th { overflow-wrap: anywhere; }  /* long paths wrap inside their column */
/* phones (390 px): two tiles a row, the detail view under the gallery, the pager on one line */
@media (max-width: 640px) {
  .gl-tiles .grid-container { grid-template-columns: repeat(2, minmax(0, 1fr)) !important; }
  .gl-detail { border-left: 0; padding-left: 0; }
  .gl-pager { flex-wrap: wrap !important; }
  .gl-pager > button { flex: 1 1 0 !important; min-width: 0 !important; }
  .gl-pager > .form { flex: 0 0 84px !important; min-width: 0 !important; }
  .gl-pager > .form > .block { min-width: 0 !important; flex: 1 1 auto !important; }
  .gl-pager > .block { flex: 1 1 100% !important; }  /* the page count, on a line of its own */
  .tab-container button { padding-left: 10px !important; padding-right: 10px !important; }
}
.gl-top { align-items: flex-start; }
#language { flex-grow: 0; min-width: 220px; }
"""


def theme() -> gr.themes.Base:
    return gr.themes.Soft(primary_hue="indigo", secondary_hue="slate", neutral_hue="zinc", radius_size="md")


@dataclass
class Layout:
    """Every part of the app that events read or update."""

    header: gr.Markdown
    language: gr.Radio  # the visitor's language: English or Español (see language.py)
    tabs: gr.Tabs
    search: parts.SearchTab
    describe: parts.DescribeTab
    library: parts.LibraryTab
    duplicates: parts.DuplicatesTab
    index: parts.IndexTab
    similar_api: parts.SimilarApi
    review: parts.ReviewTab


def build_app(
    library: Library,
    examples: Path | None = EXAMPLES,
    thumbs_dir: str | Path | None = None,
    temp_dir: str | Path | None = None,
    language: str = "auto",
) -> gr.Blocks:
    """The web app over `library` (whose index may not exist yet). Its models load lazily, once, and are shared
    by every request. `examples`: a folder of sample photos for the Describe tab, left out when absent.

    `temp_dir`: the app's private temporary folder (uploads, the files it sends, thumbnails), by default the
    index's own (see tempdir.py); it becomes Gradio's temporary folder for this process, and the app's
    `GRADIO_CACHE`. `thumbs_dir`: thumbnails elsewhere (tests). `language`: "en" or "es" for every visitor who
    has not chosen one in the app, "auto" (default) for each browser's own (see language.py); `launch` reads it
    back from the app (`demo.glimpse_language`)."""
    if language not in CHOICES:
        raise ValueError(f"language must be one of {', '.join(CHOICES)}, not {language!r}")
    temp = tempdir.private(temp_dir) if temp_dir else tempdir.for_index(library.index_dir)
    tempdir.use(temp)  # before any component is built: each reads it once
    thumbs = Thumbnails(thumbs_dir or temp / "thumbs")
    with gr.Blocks(title="glimpse", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        layout = lay_out(library, examples)
        ui = Handlers(library, thumbs, layout, language)
        _wire_language(ui, layout, demo)
        _wire_search(ui, layout)
        _wire_similar(ui, layout)
        _wire_library(ui, layout, demo)
        _wire_tools(ui, layout)
        _wire_review(ui, layout, demo)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=4)
    demo.glimpse_language = language
    api_info = demo.get_api_info  # the API's description names parameters by their labels: in English, as keys
    demo.get_api_info = lambda *args, **kwargs: english(api_info(*args, **kwargs))
    return demo


def lay_out(library: Library, examples: Path | None) -> Layout:
    with gr.Row(elem_classes="gl-top"):
        with gr.Column(elem_classes="gl-header", scale=4):
            gr.Markdown(L("app.title"))
            header = gr.Markdown()
        language = gr.Radio(
            [(name, lang) for lang, name in NAMES.items()], value=None, label=L("app.language"), elem_id="language",
            scale=0, min_width=220,
        )  # fmt: skip
    with gr.Tabs(overflow_behavior="wrap") as tabs:  # every tab in reach on a phone, not behind a "⋯" menu
        with gr.Tab(L("tab.search"), id="search"):
            search = parts.search_tab()
        with gr.Tab(L("tab.describe"), id="describe"):
            describe = parts.describe_tab(examples)
        with gr.Tab(L("tab.library"), id="library"):
            browse = parts.library_tab()
        with gr.Tab(L("tab.review"), id="review") as review_tab:
            review = parts.review_tab()
        review.tab = review_tab
        with gr.Tab(L("tab.duplicates"), id="duplicates"):
            duplicates = parts.duplicates_tab()
        with gr.Tab(L("tab.index"), id="index"):
            index = parts.index_tab()
    return Layout(header, language, tabs, search, describe, browse, duplicates, index, parts.similar_api(), review)


QUICK = dict(concurrency_id="browse", concurrency_limit=4, api_visibility="undocumented")


def _wire_search(ui: Handlers, layout: Layout) -> None:
    search = layout.search
    gr.on(
        [search.query.submit], ui.search_gallery, search.inputs, search.outputs, api_name="search_gallery",
        api_visibility="undocumented", concurrency_id="search", concurrency_limit=4,
        show_progress_on=[search.status, search.results.gallery],
    )  # fmt: skip
    gr.api(ui.search_api, api_name="search", concurrency_id="search", concurrency_limit=4)
    for panel, name in ((search.results, "search_detail"), (layout.library.results, "library_detail")):
        panel.gallery.select(ui.detail_of(panel), [panel.photos], panel.detail_parts, api_name=name, **QUICK)
        panel.save.click(
            ui.save_caption_of(panel), [panel.chosen, panel.caption], [panel.caption, panel.saved],
            api_name=f"{name.removesuffix('_detail')}_save_caption", api_visibility="undocumented",
            concurrency_id="edit", concurrency_limit=1,
        )  # fmt: skip
    gr.api(ui.edit_api, api_name="edit", concurrency_id="edit", concurrency_limit=1)


def _wire_similar(ui: Handlers, layout: Layout) -> None:
    search, api, describe = layout.search, layout.similar_api, layout.describe
    outputs, shown = [*search.outputs, layout.tabs], [search.status, search.results.gallery]
    for panel, name in ((search.results, "similar_to_result"), (layout.library.results, "similar_to_library_photo")):
        panel.similar.click(
            ui.similar_to_photo, [panel.chosen, search.k], outputs, api_name=name, show_progress_on=shown, **QUICK
        )
    describe.similar.click(
        ui.similar_to_upload, [describe.photo, search.k], [*outputs, *describe.upload_outputs],
        api_name="similar_to_upload", api_visibility="undocumented", concurrency_id="describe", concurrency_limit=1,
        show_progress_on=shown,
    )  # fmt: skip
    gr.on(
        [], ui.similar_api, [api.photo_id, api.image, api.k], api.results, api_name="similar",
        concurrency_id="similar", concurrency_limit=2,
    )  # fmt: skip


def _overview_outputs(layout: Layout) -> list:
    lib = layout.library
    return [layout.header, layout.index.intro, layout.search.label, layout.search.folder, lib.label, lib.plot,
            lib.failed_info, lib.failures, layout.index.folder]  # fmt: skip


def _wire_library(ui: Handlers, layout: Layout, demo: gr.Blocks) -> None:
    lib = layout.library
    overview, inputs, outputs = _overview_outputs(layout), lib.inputs, lib.outputs
    demo.load(ui.overview, None, overview, api_name="overview", **QUICK).then(
        ui.browse, inputs, outputs, api_name="browse_first", **QUICK
    )
    index = layout.index
    demo.load(ui.first_folder, None, [index.folder], api_name="first_folder", **QUICK)
    lib.number.submit(ui.browse, inputs, outputs, api_name="browse", **QUICK)
    gr.on(
        [lib.order.change, lib.label.change], ui.browse_step(None), inputs, outputs, api_name="browse_from_start",
        **QUICK,
    )  # fmt: skip
    for button, step, name in ((lib.previous, -1, "browse_previous"), (lib.next, 1, "browse_next")):
        button.click(ui.browse_step(step), inputs, outputs, api_name=name, **QUICK)
    indexing = dict(api_visibility="undocumented", concurrency_id="index", concurrency_limit=1)
    indexed = index.start.click(ui.index_view, [index.folder], [index.result], api_name="index_view", **indexing)
    indexed.then(ui.overview, None, overview, api_name="overview_after_index", **QUICK).then(
        ui.browse, inputs, outputs, api_name="browse_after_index", **QUICK
    )
    index.reembed.click(ui.reembed_view, [index.text_model], [index.result], api_name="reembed_view", **indexing)
    # the API's own endpoints: the same work, but a failure is an error for the caller, not a line on the page
    gr.on([], ui.index, [index.folder], [index.result], api_name="index", concurrency_id="index", concurrency_limit=1)
    gr.on(
        [], ui.reembed, [index.text_model], [index.result], api_name="reembed", concurrency_id="index",
        concurrency_limit=1,
    )  # fmt: skip


def _wire_review(ui: Handlers, layout: Layout, demo: gr.Blocks) -> None:
    tab = layout.review
    inputs, outputs = tab.inputs, tab.outputs
    demo.load(ui.review_page, inputs, outputs, api_name="review_first", **QUICK)
    tab.number.submit(ui.review_page, inputs, outputs, api_name="review_page", **QUICK)
    tab.tab.select(ui.review_page, inputs, outputs, api_name="review_open", **QUICK)  # photos indexed since show up
    tab.show.change(ui.review_step(None), inputs, outputs, api_name="review_show", **QUICK)
    for button, step, name in ((tab.previous, -1, "review_previous"), (tab.next, 1, "review_next")):
        button.click(ui.review_step(step), inputs, outputs, api_name=name, **QUICK)
    tab.gallery.select(ui.review_select, [tab.photos], tab.focus_parts, api_name="review_select", **QUICK)
    tab.alt.change(ui.alt_count, [tab.alt], [tab.count], api_name="alt_count", **QUICK)
    acting = [tab.photos, tab.gallery, *tab.focus_parts, tab.status]
    for button, action in ((tab.approve, "approve"), (tab.edit, "edit"), (tab.skip, "skip")):
        button.click(
            ui.review_action_of(action), [tab.photos, tab.current, tab.alt], acting, api_name=f"review_{action}",
            api_visibility="undocumented", concurrency_id="edit", concurrency_limit=1,
        )  # fmt: skip
    tab.export.click(ui.review_export, None, [tab.export_status], api_name="export_xmp", concurrency_id="edit",
                     concurrency_limit=1)  # fmt: skip
    tab.rename_preview.click(ui.rename_preview, None, [tab.renames, tab.rename_status], api_name="rename_preview",
                             **QUICK)  # fmt: skip
    tab.rename_apply.click(
        ui.rename_apply, [tab.rename_confirm], [tab.renames, tab.rename_confirm, tab.rename_status],
        api_name="rename_apply", api_visibility="undocumented", concurrency_id="edit", concurrency_limit=1,
    )  # fmt: skip


# Keyboard shortcuts of the Review tab (Alt+A approve, Alt+E save the edit, Alt+S skip), loaded with the page.
SHORTCUTS = """
() => {
  const keys = { a: "review-approve", e: "review-edit", s: "review-skip" };
  document.addEventListener("keydown", (event) => {
    const id = event.altKey && !event.ctrlKey && !event.metaKey ? keys[event.key.toLowerCase()] : null;
    const button = id && document.getElementById(id);
    if (button && button.offsetParent !== null) {
      event.preventDefault();
      button.click();
    }
  });
}
"""


def _wire_language(ui: Handlers, layout: Layout, demo: gr.Blocks) -> None:
    """The language selector shows the visitor's language on load; choosing another remembers it (a cookie) and
    loads the page again in it (SWITCH_JS: Gradio's frontend picks its labels' language once, on load)."""
    demo.load(ui.language_of, None, [layout.language], api_name="language", **QUICK)
    layout.language.input(None, [layout.language], None, js=SWITCH_JS, api_visibility="private")


# A file the browser refuses to upload into the Describe tab's photo (not image/*: Gradio would only toast it and
# keep the previous photo on show) is named to the app through a hidden textbox instead, which says so in place.
REFUSED_UPLOADS = """
() => {
  const refuse = (event, files) => {
    const refused = [...(files || [])].filter((file) => !file.type.startsWith("image/"));
    const box = document.querySelector("#photo-refused textarea, #photo-refused input");
    if (!refused.length || !box) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (event.target instanceof HTMLInputElement) event.target.value = "";
    box.value = JSON.stringify({ names: refused.map((file) => file.name), at: Date.now() });  // new each time
    box.dispatchEvent(new Event("input", { bubbles: true }));
  };
  const inPhoto = (event) => event.target instanceof Element && event.target.closest("#photo");
  document.addEventListener("change", (event) => {
    if (inPhoto(event) && event.target.type === "file") refuse(event, event.target.files);
  }, true);
  document.addEventListener("drop", (event) => {
    if (inPhoto(event)) refuse(event, event.dataTransfer && event.dataTransfer.files);
  }, true);
}
"""
SCRIPTS = f"() => {{ ({SHORTCUTS.strip()})(); ({REFUSED_UPLOADS.strip()})(); }}"  # the page's js= (server.py)


def _wire_tools(ui: Handlers, layout: Layout) -> None:
    dup, describe = layout.duplicates, layout.describe
    gr.on(
        [dup.find.click, dup.threshold.release], ui.duplicates_view, [dup.threshold], [dup.status, dup.groups],
        api_name="duplicates_view", api_visibility="undocumented", concurrency_id="duplicates", concurrency_limit=1,
    )  # fmt: skip
    gr.api(ui.duplicates_api, api_name="duplicates", concurrency_id="duplicates", concurrency_limit=1)
    describe.photo.change(
        ui.describe_view, [describe.photo], describe.upload_outputs, api_name="describe_view",
        api_visibility="undocumented", concurrency_id="describe", concurrency_limit=1,
        show_progress_on=[describe.caption, describe.labels],
    )  # fmt: skip
    describe.refused.change(
        ui.refused_upload, [describe.refused], describe.upload_outputs, api_name="refused_upload", **QUICK
    )
    gr.on(
        [], ui.describe, [describe.photo], [describe.caption, describe.labels], api_name="describe",
        concurrency_id="describe", concurrency_limit=1,
    )  # fmt: skip  # the API's: errors are errors for the caller
