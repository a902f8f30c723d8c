"""The Review tab's event functions (alt text a page at a time, approve / edit / skip, export, rename preview):
a mixin of `Handlers` (handlers.py), whose library, layout and tiles they use."""

from __future__ import annotations

from dataclasses import replace

import gradio as gr
from glimpse.indexer import names
from glimpse.indexer.errors import IndexNotFound
from glimpse.search import Hit
from glimpse.search.engine import hit_for

from . import views
from .messages import NO_INDEX, fail, in_place
from .thumbs import PREVIEW

REVIEW_PER_PAGE = 12


class ReviewHandlers:
    # -- review -----------------------------------------------------------------------------------------
    @in_place("review", lambda self, message: {self.layout.review.status: message})
    def review_page(self, number, show) -> dict:
        """A page of photos to review (`show`: unreviewed, approved, edited, skipped), the first one in focus."""
        tab = self.layout.review
        try:
            page = self.library.page(number or 1, REVIEW_PER_PAGE, "path", review=show or "unreviewed")
        except IndexNotFound:
            hits, info, number = [], NO_INDEX, 1
        else:
            hits = [hit_for(r) for r in page.records]
            info, number = views.review_page_markdown(page.number, page.pages, page.total, show), page.number
        gallery = gr.update(value=[self.tile(h, views.library_caption(h)) for h in hits], selected_index=None)
        return {tab.gallery: gallery, tab.photos: hits, tab.info: info, tab.number: number, tab.status: "",
                **self._focus(hits, 0)}  # fmt: skip

    def _focus(self, hits: list[Hit], at: int | None) -> dict:
        """The review panel on photo `at` of the page (cleared when there is none)."""
        tab = self.layout.review
        if not hits or at is None or not 0 <= at < len(hits):
            return {tab.current: None, tab.image: None, tab.where: "", tab.alt: "", tab.count: ""}
        hit = hits[at]
        record = self.library.records([hit.id]).get(hit.id)
        preview = self.thumbs.get(hit.file, side=PREVIEW) if hit.file else None
        caption = record.caption if record else hit.caption
        return {
            tab.current: at,
            tab.image: str(preview) if preview else None,
            tab.where: views.review_where(hit, record and record.review, bool(record and record.human)),
            tab.alt: caption or "",
            tab.count: views.alt_count(caption),
        }

    def review_select(self, hits: list[Hit], evt: gr.SelectData) -> dict:
        return self._focus(hits, evt.index if isinstance(evt.index, int) else None)

    @in_place("review", lambda self, message: {self.layout.review.status: message})
    def review_action(self, action: str, hits: list[Hit], at, alt) -> dict:
        """Approve (saving the text first when it was changed), save an edit, or skip the photo in focus; then
        on to the next one of the page."""
        tab = self.layout.review
        if not hits or at is None or not 0 <= at < len(hits):
            raise fail("Choose a photo first.")
        hit = hits[at]
        record = self.library.records([hit.id]).get(hit.id)
        changed = record is not None and " ".join(str(alt or "").split()) != (record.caption or "")
        if action == "edit" or (action == "approve" and changed):
            record = self.library.edit(hit.id, caption=alt)
        if action != "edit":
            record = self.library.set_review(hit.id, "approved" if action == "approve" else "skipped")
        hits = [*hits[:at], replace(hit, caption=record.caption), *hits[at + 1 :]]
        done = {"approve": "Approved", "edit": "Saved", "skip": "Skipped"}[action]
        gallery = [self.tile(h, views.library_caption(h)) for h in hits]  # the tile shows the new caption
        return {tab.photos: hits, tab.gallery: gr.update(value=gallery, selected_index=None),
                tab.status: f"{done}: {views.md_code(hit.path)}",
                **self._focus(hits, at + 1 if at + 1 < len(hits) else at)}  # fmt: skip

    def alt_count(self, text) -> str:
        return views.alt_count(text)

    @in_place("export", lambda _self, message: message)
    def review_export(self) -> str:
        """XMP sidecars for the photos a person approved or edited."""
        approved = self.library.export_sidecars(only="approved")
        edited = self.library.export_sidecars(only="edited")
        for field in ("created", "updated", "skipped"):
            getattr(approved, field).extend(x for x in getattr(edited, field) if x not in getattr(approved, field))
        return views.export_markdown(approved)

    @in_place("rename", lambda self, message: {self.layout.review.rename_status: message})
    def rename_preview(self) -> dict:
        tab = self.layout.review
        renames, problems = self.library.rename_plan()
        rows = [[names.readable(str(r.old)), r.new.name] for r in renames]
        return {tab.renames: gr.update(value=rows, visible=bool(rows)),
                tab.rename_status: views.rename_markdown(len(rows), problems, applied=False)}  # fmt: skip

    @in_place("rename", lambda self, message: {self.layout.review.rename_status: message})
    def rename_apply(self, confirmed) -> dict:
        tab = self.layout.review
        if not confirmed:
            raise fail("Tick the box to confirm first: the files on disk get new names.")
        done, problems = self.library.rename()
        return {tab.renames: gr.update(value=[], visible=False), tab.rename_confirm: False,
                tab.rename_status: views.rename_markdown(len(done), problems, applied=True)}  # fmt: skip
