"""Search filters (label, folder, capture date, -word) are applied inside the search: a filtered query still
returns k results when k photos pass the filter. Real MiniLM, tiny random BLIP/ResNet for the photos."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
from glimpse.search import Filters, Searcher
from glimpse.search.filters import split_exclusions

from tests.conftest import DATA
from tests.ui_helpers import make_index

DOGS = [f"a dog {what}" for what in ("sitting on a sofa", "sleeping on a bed", "lying on a rug", "on a chair")]
CATS = [f"a cat {what}" for what in ("sitting on a sofa", "sleeping on a bed", "lying on a rug", "on a chair")]
IMPORTS = [{"id": f"dogs/{i}.jpg", "caption": c, "labels": ["dog"]} for i, c in enumerate(DOGS)] + [
    {"id": f"cats/{i}.jpg", "caption": c, "labels": ["cat"]} for i, c in enumerate(CATS)
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory, tiny_models):
    """(index folder, library folder, searcher) over data/photos and eight imported pet captions."""
    from glimpse.indexer.store import IndexStore

    root = tmp_path_factory.mktemp("filters")
    library = root / "library"
    shutil.copytree(DATA, library)
    index = make_index(root / "index", library, tiny_models, IMPORTS)
    store = IndexStore.open(index)
    yield index, library, Searcher(store, tiny_models.embedder)
    store.close()


def ids(results) -> list[str]:
    return [h.path for h in results.hits]


def test_label_filter_keeps_k_results(setup):
    _, _, searcher = setup
    unfiltered = searcher.search("a cat sitting on a sofa", k=3, min_score=None)
    assert len([p for p in ids(unfiltered) if p.startswith("dogs/")]) < 3  # what cutting the top 3 would leave
    filtered = searcher.search("a cat sitting on a sofa", k=3, min_score=None, filters=Filters(label="DOG"))
    assert len(filtered.hits) == 3 and all(p.startswith("dogs/") for p in ids(filtered))
    # ranking within the filter is the usual one: the closest dog photo first
    assert filtered.hits[0].path == "dogs/0.jpg"
    assert [h.score for h in filtered.hits] == sorted((h.score for h in filtered.hits), reverse=True)


def test_label_filter_with_the_default_threshold(setup):
    _, _, searcher = setup
    results = searcher.search("a dog sleeping", k=10, filters=Filters(label="dog"))
    assert ids(results) and all(p.startswith("dogs/") for p in ids(results))
    assert results.hits[0].path == "dogs/1.jpg"


def test_folder_filter(setup):
    _, library, searcher = setup
    results = searcher.search("a photo", k=10, min_score=None, filters=Filters(folder=str(library / "space")))
    assert sorted(ids(results)) == [str(library / "space" / "astronaut.jpg"), str(library / "space" / "rocket.jpg")]
    partial = searcher.search("a photo", k=10, min_score=None, filters=Filters(folder=str(library / "spa")))
    assert partial.hits == []  # a folder prefix, not a string prefix
    imported = searcher.search("an animal", k=10, min_score=None, filters=Filters(folder="cats"))
    assert len(imported.hits) == 4 and all(p.startswith("cats/") for p in ids(imported))


def test_date_filter_uses_exif_then_file_date(setup):
    _, library, searcher = setup
    in_2021 = searcher.search(
        "a photo", k=10, min_score=None, filters=Filters(since=date(2021, 1, 1), until=date(2021, 12, 31))
    )
    assert ids(in_2021) == [str(library / "pets" / "chelsea.jpg")]
    assert in_2021.hits[0].date_source == "exif" and in_2021.hits[0].date.startswith("2021-06-12")
    old = searcher.search("a photo", k=10, min_score=None, filters=Filters(until=date(2020, 1, 1)))
    assert ids(old) == [str(library / "space" / "rocket.jpg")]
    # no EXIF date: the file's modification date counts (the copies were made today)
    today = searcher.search("a photo", k=10, min_score=None, filters=Filters(since=date.today()))
    names = sorted(h.path.rsplit("/", 1)[1] for h in today.hits)
    assert names == ["astronaut.jpg", "china.jpg", "flower.jpg"]
    assert {h.date_source for h in today.hits} == {"file"}


def test_hits_carry_file_size_and_date(setup):
    _, library, searcher = setup
    results = searcher.search("a photo", k=20, min_score=None)
    chelsea = next(h for h in results.hits if h.path == str(library / "pets" / "chelsea.jpg"))
    assert chelsea.file == library / "pets" / "chelsea.jpg" and chelsea.size and min(chelsea.size) > 0
    assert chelsea.date.startswith("2021-06-12") and chelsea.date_source == "exif"
    imported = next(h for h in results.hits if h.path.startswith("dogs/"))
    assert imported.file is None and imported.size is None and imported.date is None
    data = json.loads(json.dumps(results.as_dict()))  # plain JSON: the file is a string
    row = next(r for r in data["results"] if r["path"] == chelsea.path)
    assert row["file"] == chelsea.path and row["size"] == list(chelsea.size)


def test_excluded_words(setup):
    _, _, searcher = setup
    everything = searcher.search("a pet on a sofa", k=4, min_score=None)
    assert sum("sofa" in h.caption for h in everything.hits) == 2
    results = searcher.search("a pet on a sofa -sofas -Chair", k=4, min_score=None)
    assert results.filters.exclude == ("sofas", "chair")
    assert len(results.hits) == 4  # still k results: the exclusion is part of the search
    for hit in results.hits:  # porter-stemmed like the query words: "-sofas" also leaves out "sofa"
        assert "sofa" not in hit.caption and "chair" not in hit.caption


def test_split_exclusions():
    assert split_exclusions("beach -dog -People") == ("beach", ("dog", "people"))
    assert split_exclusions("black-and-white street photo") == ("black-and-white street photo", ())
    assert split_exclusions("-dog") == ("", ("dog",))


def test_cli_filter_flags(setup, run_cli, tiny_models_env):
    index, library, _ = setup
    code, out, err = run_cli("search", "a dog sitting", "--index", index, "--label", "dog", "-k", "2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["filters"]["label"] == "dog" and len(data["results"]) == 2
    assert all(r["path"].startswith("dogs/") for r in data["results"])

    code, out, _ = run_cli("search", "chelsea", "--index", index, "--folder", library / "pets", "--since", "2021-01-01")
    assert code == 0 and "pets/chelsea.jpg  2021-06-12 (EXIF)" in out
    code, out, _ = run_cli("search", "chelsea", "--index", index, "--folder", library / "food")
    assert code == 0 and "chelsea.jpg" not in out

    code, _, err = run_cli("search", "a photo", "--index", index, "--since", "2022-01-01", "--until", "2021-01-01")
    assert code == 2 and "--since" in err
    code, _, err = run_cli("search", "a photo", "--index", index, "--since", "yesterday")
    assert code == 2
