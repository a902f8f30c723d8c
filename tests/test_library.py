"""The application layer both front-ends call: one rule for the text model, and a model that embeds differently
from the index's refused before anything is written."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DemoEmbedder


class RenamedDemo(DemoEmbedder):
    """The same vectors under another name: a local copy of the index's model."""

    name = "/models/a-copy-of-demo-embedder"


class OtherDemo(DemoEmbedder):
    """Another model of the same size: same dimension, different vectors."""

    name = "other-embedder"

    def word_vector(self, word: str):
        return super().word_vector(word + "#other")


@pytest.fixture
def text_models(monkeypatch, tiny_models_env):
    """GLIMPSE_TEXT_MODEL / --text-model names the tests' models understand, besides demo-embedder."""
    import glimpse.indexer.models as models

    known = {m.name: m for m in (DemoEmbedder, RenamedDemo, OtherDemo)}
    monkeypatch.setattr(models, "text_embedder", lambda model, *a, **kw: known[model]())


def manifest(index) -> dict:
    return json.loads((index / "manifest.json").read_text())


def test_queries_and_new_photos_use_the_index_text_model(text_models, library, tmp_path, run_cli, monkeypatch):
    index = tmp_path / "index"
    assert run_cli("index", library / "food", "--index", index)[0] == 0
    monkeypatch.delenv("GLIMPSE_TEXT_MODEL")  # from now on no model is named: the index's own is used
    code, out, err = run_cli("index", library / "pets", "--index", index, "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == 1 and manifest(index)["models"]["text"] == DemoEmbedder.name
    code, out, err = run_cli("search", "coffee", "--index", index, "--json")
    assert code == 0, err and json.loads(out)["results"]


def test_another_text_model_is_refused_before_anything_is_written(text_models, library, tmp_path, run_cli):
    index = tmp_path / "index"
    assert run_cli("index", library / "food", "--index", index)[0] == 0
    catalog = (index / "catalog.db").read_bytes()
    for command in (["index", library / "pets"], ["search", "coffee"]):
        code, _, err = run_cli(*command, "--index", index, "--text-model", OtherDemo.name)
        assert code == 1 and "embeds differently" in err and DemoEmbedder.name in err, err
    assert (index / "catalog.db").read_bytes() == catalog and manifest(index)["models"]["text"] == DemoEmbedder.name


def test_a_copy_of_the_index_text_model_under_another_name_is_accepted(text_models, library, tmp_path, run_cli):
    index = tmp_path / "index"
    assert run_cli("index", library / "food", "--index", index)[0] == 0
    code, out, err = run_cli("index", library / "pets", "--index", index, "--text-model", RenamedDemo.name, "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == 1
    assert manifest(index)["models"]["text"] == DemoEmbedder.name  # the index keeps its model's name
    code, out, _ = run_cli("search", "coffee", "--index", index, "--text-model", RenamedDemo.name, "--json")
    assert code == 0 and json.loads(out)["results"]


def test_one_library_serves_both_front_ends(tiny_models, library, tmp_path):
    """What the CLI and the web app do goes through the same object: index, search, browse, similar, stats."""
    from glimpse.ui.library import Library

    with Library(tmp_path / "index", tiny_models) as app:
        summary = app.index(library)
        assert summary.added == 6 and not summary.failed
        hits = app.search("coffee", k=3).hits
        assert hits and hits[0].file is not None and hits[0].file.name == "coffee.jpg"
        assert app.page(1, per_page=4).total == 6 and len(app.page(2, per_page=4).records) == 2
        assert app.stats()["indexed"] == 6 and app.roots() == [library.resolve()]
        look_alikes = app.similar(hits[0].id, k=3)
        assert len(look_alikes) == 3 and hits[0].id not in [h.id for h in look_alikes]
