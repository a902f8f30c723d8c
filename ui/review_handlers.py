"""The Review tab's event functions (alt text a page at a time, approve / edit / skip, export, rename preview):
a mixin of `Handlers` (handlers.py), whose library, layout and tiles they use."""

from __future__ import annotations

from dataclasses import replace

import gradio as gr
import pandas as pd
from glimpse.indexer import names
from glimpse.indexer.errors import IndexNotFound
from glimpse.search import Hit
from glimpse.search.engine import hit_for

from . import views
from .i18n import t
from .messages import fail, in_place
from .thumbs import PREVIEW

REVIEW_PER_PAGE = 12


class ReviewHandlers:
    # -- review -----------------------------------------------------------------------------------------
    @in_place("review", lambda self, message, _lang: {self.layout.review.status: message})
    def review_page(self, number, show, request: gr.Request | None = None) -> dict:
        """A page of photos to review (`show`: unreviewed, approved, edited, skipped), the first one in focus."""
        tab, lang = self.layout.review, self.lang(request)
        try:
            page = self.library.page(number or 1, REVIEW_PER_PAGE, "path", review=show or "unreviewed")
        except IndexNotFound:
            hits, info, number = [], t("page.no_photos", lang), 1
        else:
            hits = [hit_for(r) for r in page.records]
            info, number = views.review_page_markdown(page.number, page.pages, page.total, show, lang), page.number
        gallery = gr.update(value=[self.tile(h, views.library_caption(h, lang)) for h in hits], selected_index=None)
        return {tab.gallery: gallery, tab.photos: hits, tab.info: info, tab.number: number, tab.status: "",
                **self._focus(hits, 0, lang)}  # fmt: skip

    def review_step(self, step: int | None):
        """The review page `step` pages away (Previous, Next), or the first page (`step` None: another Show)."""

        def review_page(number, show, request: gr.Request | None = None) -> dict:
            return self.review_page(1 if step is None else (number or 1) + step, show, request)

        return review_page

    def _focus(self, hits: list[Hit], at: int | None, lang: str = "en") -> dict:
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
            tab.where: views.review_where(hit, record and record.review, bool(record and record.human), lang),
            tab.alt: caption or "",
            tab.count: views.alt_count(caption, lang),
        }

    def review_select(self, hits: list[Hit], evt: gr.SelectData, request: gr.Request | None = None) -> dict:
        return self._focus(hits, evt.index if isinstance(evt.index, int) else None, self.lang(request))

    def review_action_of(self, action: str):
        """The event of the Approve, Save edit or Skip button (`action`: approve, edit, skip)."""

        def act(hits: list[Hit], at, alt, request: gr.Request | None = None) -> dict:
            return self.review_action(action, hits, at, alt, request)

        return act

    @in_place("review", lambda self, message, _lang: {self.layout.review.status: message})
    def review_action(self, action: str, hits: list[Hit], at, alt, request: gr.Request | None = None) -> dict:
        """Approve (saving the text first when it was changed), save an edit, or skip the photo in focus; then
        on to the next one of the page."""
        tab, lang = self.layout.review, self.lang(request)
        if not hits or at is None or not 0 <= at < len(hits):
            raise fail(t("error.choose_photo", lang))
        hit = hits[at]
        record = self.library.records([hit.id]).get(hit.id)
        changed = record is not None and " ".join(str(alt or "").split()) != (record.caption or "")
        if action == "edit" or (action == "approve" and changed):
            record = self.library.edit(hit.id, caption=alt)
        if action != "edit":
            record = self.library.set_review(hit.id, "approved" if action == "approve" else "skipped")
        hits = [*hits[:at], replace(hit, caption=record.caption), *hits[at + 1 :]]
        gallery = [self.tile(h, views.library_caption(h, lang)) for h in hits]  # the tile shows the new caption
        return {tab.photos: hits, tab.gallery: gr.update(value=gallery, selected_index=None),
                tab.status: t(f"review.done.{action}", lang, path=views.md_code(hit.path)),
                **self._focus(hits, at + 1 if at + 1 < len(hits) else at, lang)}  # fmt: skip

    def alt_count(self, text, request: gr.Request | None = None) -> str:
        return views.alt_count(text, self.lang(request))

    @in_place("export", lambda _self, message, _lang: message)
    def review_export(self, request: gr.Request | None = None) -> str:
        """XMP sidecars for the photos a person approved or edited."""
        approved = self.library.export_sidecars(only="approved")
        edited = self.library.export_sidecars(only="edited")
        for field in ("created", "updated", "skipped"):
            getattr(approved, field).extend(x for x in getattr(edited, field) if x not in getattr(approved, field))
        return views.export_markdown(approved, self.lang(request))

    @in_place("rename", lambda self, message, _lang: {self.layout.review.rename_status: message})
    def rename_preview(self, request: gr.Request | None = None) -> dict:
        tab, lang = self.layout.review, self.lang(request)
        renames, problems = self.library.rename_plan()
        rows = [[names.readable(str(r.old)), r.new.name] for r in renames]
        table = pd.DataFrame(rows, columns=[t("table.file", lang), t("table.new_name", lang)])
        return {tab.renames: gr.update(value=table, visible=bool(rows)),
                tab.rename_status: views.rename_markdown(len(rows), problems, applied=False, lang=lang)}  # fmt: skip

    @in_place("rename", lambda self, message, _lang: {self.layout.review.rename_status: message})
    def rename_apply(self, confirmed, request: gr.Request | None = None) -> dict:
        tab, lang = self.layout.review, self.lang(request)
        if not confirmed:
            raise fail(t("error.confirm_rename", lang))
        done, problems = self.library.rename()
        return {tab.renames: gr.update(value=[], visible=False), tab.rename_confirm: False,
                tab.rename_status: views.rename_markdown(len(done), problems, applied=True, lang=lang)}  # fmt: skip
