"""Inference lanes: a batch split across threads keeps its order, each lane runs on its own torch threads."""

from __future__ import annotations

import threading

import numpy as np
import torch
from glimpse.indexer.lanes import MIN_PER_LANE, Lanes, plan, split
from glimpse.indexer.types import Label

from tests.conftest import DemoEmbedder


def test_split_gives_contiguous_near_equal_shares():
    items = list(range(19))
    shares = split(items, 2)
    assert [len(s) for s in shares] == [10, 9] and [x for s in shares for x in s] == items
    assert split(list(range(MIN_PER_LANE * 2 - 1)), 2) == [list(range(MIN_PER_LANE * 2 - 1))]
    assert split([], 2) == [[]]


def test_plan_uses_two_lanes_on_a_multicore_cpu_and_one_on_a_gpu():
    assert plan("cpu", cores=2) == (2, 1)
    assert plan("cpu", cores=16) == (2, 8)
    assert plan("cpu", cores=1) == (1, 1)
    assert plan("cuda")[0] == 1
    assert plan("cpu", cores=2, lanes=1) == (1, 2)


def test_lanes_run_in_parallel_on_one_thread_each_and_restore_the_thread_count():
    before = torch.get_num_threads()
    seen = []
    together = threading.Barrier(2, timeout=10)  # passes only if both shares run at the same time

    def work(share):
        together.wait()
        seen.append((threading.current_thread().name, torch.get_num_threads()))
        return [x * 2 for x in share]

    with Lanes(2, 1) as lanes:
        results = lanes.map(work, list(range(12)))
    assert [x for r in results for x in r] == [x * 2 for x in range(12)]
    assert len({name for name, _ in seen}) == 2 and all(n == 1 for _, n in seen)
    assert torch.get_num_threads() == before


class _SizeCaptioner:
    """Captions each image with its own size, so a mix-up between images shows."""

    name = "size-captions"
    device = "cpu"

    def __init__(self):
        self.calls: list[tuple[int, bool]] = []  # (images, interactive) per call

    def load(self):
        return self

    def preprocess(self, image):
        return image

    def caption(self, images, interactive=False):
        self.calls.append((len(images), interactive))
        return [f"{im.width}x{im.height}" for im in images]


class _SizeClassifier:
    name = "size-labels"

    def load(self):
        return self

    def preprocess(self, image):
        return image

    def classify(self, images):
        return self.classify_with_features(images)[0]

    def classify_with_features(self, images):
        labels = [[Label(f"w{im.width}", 0.9)] for im in images]
        return labels, np.stack([np.full(512, im.width, np.float32) for im in images]).reshape(len(images), 512)


def test_index_folder_in_two_lanes_keeps_every_result_with_its_photo(tmp_path):
    from glimpse.indexer.models import Models
    from glimpse.indexer.pipeline import index_folder
    from glimpse.indexer.store import IndexStore
    from PIL import Image

    library = tmp_path / "library"
    library.mkdir()
    for i in range(13):
        Image.new("RGB", (40 + i, 30 + 2 * i), (10 * i, 80, 160)).save(library / f"p{i:02d}.png")
    models = Models(_SizeCaptioner(), _SizeClassifier(), DemoEmbedder())
    with IndexStore.open_or_create(tmp_path / "index", models.ids(), models.embedder.dim) as store:
        summary = index_folder(library, store, models, batch_size=12, lanes=2)
        assert summary.added == 13 and summary.failed == []
        records = store.catalog.records()
    assert len(records) == 13
    for record in records:
        i = int(record.name[1:3])
        assert record.caption == f"{40 + i}x{30 + 2 * i}" and record.labels[0].name == f"w{40 + i}"


def test_the_fakes_have_every_member_of_the_model_protocols():
    from glimpse.indexer.models import Captioner, Classifier, Embedder

    from tests.conftest import DATA
    from tests.scripted_models import scripted_models

    scripted = scripted_models(DATA, DemoEmbedder())
    for captioner, classifier in [(_SizeCaptioner(), _SizeClassifier()), (scripted.captioner, scripted.classifier)]:
        assert isinstance(captioner, Captioner) and isinstance(classifier, Classifier)
        assert not isinstance(classifier, Captioner)  # no device, no caption
    assert isinstance(DemoEmbedder(), Embedder) and not isinstance(DemoEmbedder(), Classifier)
