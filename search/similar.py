"""Find similar: nearest photos by image embedding (ResNet-18 features), for a library photo or any image file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from glimpse.indexer.decode import decode
from glimpse.indexer.errors import NotInIndex
from glimpse.indexer.models import ResNetClassifier
from glimpse.indexer.store import IndexStore

from .engine import Hit, hit_for


class SimilarFinder:
    def __init__(self, store: IndexStore, classifier: ResNetClassifier | None = None):
        self.store = store
        self.classifier = classifier  # only needed for images that are not in the index

    def find(self, ref: str | Path | int, k: int = 10) -> list[Hit]:
        """Photos most like `ref`: a catalog id, a photo in the library, or any image file."""
        own_id = self.resolve(ref)
        if own_id is not None:
            ids, vectors = self.store.catalog.embeddings([own_id], kind="image")
            if not len(ids):
                raise NotInIndex(f"{ref} has no image embedding yet: re-index its folder")
            query = vectors[0]
        else:
            if self.classifier is None:
                raise NotInIndex(f"{ref} is not in the index")
            _, features = self.classifier.classify_with_features([decode(Path(ref)).image])
            query = features[0]
        return self.nearest(query, k, exclude=own_id)

    def nearest(self, query: np.ndarray, k: int, exclude: int | None = None) -> list[Hit]:
        scores, ids = self.store.vectors("image").search(query[None, :], k + 1)
        pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0 and i != exclude][:k]
        records = self.store.catalog.get(i for i, _ in pairs)
        return [hit_for(records[i], s, s) for i, s in pairs if i in records]

    def resolve(self, ref: str | Path | int) -> int | None:
        """The catalog id `ref` names, or None for a file that is not in the library."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and not Path(ref).exists()):
            if not self.store.catalog.get([int(ref)]):
                raise NotInIndex(f"no photo with id {ref} in the index")
            return int(ref)
        path = Path(ref).expanduser()
        if not path.is_file():
            raise NotInIndex(f"{ref} is neither a file nor a photo id in the index")
        path = path.resolve()
        for root in self.store.catalog.roots():
            if path.is_relative_to(root):
                root_id = self.store.catalog.root_id(root)
                record = self.store.catalog.find(root_id, path.relative_to(root).as_posix())
                if record is not None and record.status == "ok":
                    return record.id
        return None
