"""A person's word on a photo: edited captions and labels (re-embedded at once), their history, and review state.

An edit replaces `caption`/`labels` in place (the photo keeps its id, so its vector is re-read by the vector index,
see `Catalog.reembedded_since`), marks them human-written with the time, and keeps the models' own beside them
(`machine_caption`, `machine_labels`). The text it replaced goes to the `edits` table, so `undo` can bring it
back. Everything here runs under the index's writer lock, one transaction per change.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from .catalog import REVIEW_STATES, ImageRecord
from .errors import InvalidArgument, NotInIndex
from .models import Embedder
from .pipeline import document_text
from .store import IndexStore
from .types import Label

MAX_CAPTION = 2000  # characters: a caption is a sentence or two, alt text ~125 (250 at most)


def clean_text(text: str, what: str = "caption") -> str:
    """One line of text, trimmed; InvalidArgument when empty or too long."""
    text = " ".join(str(text).split())
    if not text:
        raise InvalidArgument(f"the {what} is empty")
    if len(text) > MAX_CAPTION:
        raise InvalidArgument(f"the {what} is {len(text)} characters long; at most {MAX_CAPTION}")
    return text


def _record(store: IndexStore, image_id: int) -> ImageRecord:
    record = store.catalog.get([image_id]).get(image_id)
    if record is None or record.status != "ok":
        raise NotInIndex(f"no indexed photo with id {image_id}")
    return record


def edit(
    store: IndexStore,
    embedder: Embedder,
    image_id: int,
    caption: str | None = None,
    add_labels: Sequence[str] = (),
    remove_labels: Sequence[str] = (),
) -> ImageRecord:
    """Set a photo's caption and add or remove labels (case-insensitive); re-embed it. Returns the new record.
    Nothing changes (and no history is written) when the text is already so."""
    before = _record(store, image_id)
    new_caption = before.caption or "" if caption is None else clean_text(caption)
    drop = {clean_text(name, "label").lower() for name in remove_labels}
    labels = [lb for lb in before.labels if lb.name.lower() not in drop]
    for name in (clean_text(n, "label") for n in add_labels):
        if all(lb.name.lower() != name.lower() for lb in labels):
            labels.append(Label(name, None))  # a person's label: no probability
    if new_caption == before.caption and labels == before.labels:
        return before
    now = time.time()
    machine = (before.machine_caption, before.machine_labels) if before.human else (before.caption, before.labels)
    vector = embedder.embed_documents([document_text(new_caption, labels)])[0]
    with store.catalog.transaction():
        store.catalog.add_edit(image_id, before, new_caption, labels, now)
        store.catalog.set_text(image_id, new_caption, labels, vector, now, machine)
        store.catalog.set_review(image_id, "edited", now)
    store.save_vectors()
    return _record(store, image_id)


def undo(store: IndexStore, embedder: Embedder, image_id: int) -> ImageRecord:
    """Bring back the text the last edit replaced (the models' own, when it was theirs)."""
    record = _record(store, image_id)
    last = store.catalog.last_edit(image_id)
    if last is None:
        raise InvalidArgument(f"photo {image_id} has no edit to undo")
    if last["edited_at_before"] is None:  # back to the models' text (their newest, should a re-index have run)
        caption = record.machine_caption if record.machine_caption is not None else last["caption_before"]
        labels = record.machine_labels if record.machine_labels is not None else last["labels_before"]
        machine = (None, None)
    else:
        caption, labels, machine = last["caption_before"], last["labels_before"], (
            record.machine_caption, record.machine_labels
        )  # fmt: skip
    vector = embedder.embed_documents([document_text(caption or "", labels)])[0]
    with store.catalog.transaction():
        store.catalog.set_text(image_id, caption or "", labels, vector, last["edited_at_before"], machine)
        review = last["review_before"]
        store.catalog.set_review(image_id, review, None if review is None else time.time())
        store.catalog.drop_edit(last["id"])
    store.save_vectors()
    return _record(store, image_id)


def set_review(store: IndexStore, image_id: int, state: str | None) -> ImageRecord:
    """Mark a photo approved, edited or skipped (None: not reviewed)."""
    if state is not None and state not in REVIEW_STATES:
        raise InvalidArgument(f"{state!r} is not a review state: one of {', '.join(REVIEW_STATES)}")
    _record(store, image_id)
    with store.catalog.transaction():
        store.catalog.set_review(image_id, state, None if state is None else time.time())
    return _record(store, image_id)
