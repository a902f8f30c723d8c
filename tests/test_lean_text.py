"""The lean text engine (numpy, no torch) gives the reference's vectors, and a search needs nothing heavier."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO

TEXTS = [
    "coffee",
    "-dog coffee",
    "a dog running on a beach at sunset with a red ball in its mouth",
    "Un perro en la playa",
    "ünïcödé 日本語 photo",
    "a tabby cat asleep. tabby, tiger cat, Egyptian cat",
    "",
    "word " * 400,  # past max_seq_length: truncated alike
]


@pytest.mark.slow
def test_lean_engine_gives_the_reference_vectors():
    from glimpse.indexer.models import TextEmbedder

    lean, reference = TextEmbedder(engine="lean"), TextEmbedder(engine="torch")
    assert lean.lean() is not None, lean.lean_reason
    a, b = lean.embed_documents(TEXTS), reference.embed_documents(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(a * b, axis=1)
    assert cosines.min() >= 0.999, cosines
    single = np.stack([lean.embed_queries([t])[0] for t in TEXTS[:4]])  # one at a time (no padding) is the same too
    assert np.sum(single * b[:4], axis=1).min() >= 0.999


def test_small_work_goes_to_the_lean_engine_batches_to_the_reference(monkeypatch):
    from glimpse.indexer.models import TextEmbedder

    embedder = TextEmbedder()
    monkeypatch.setattr(TextEmbedder, "_load_reference", lambda self: pytest.fail("the reference was loaded"))
    assert embedder.load() is embedder and embedder.dim == 384
    vectors = embedder.embed_queries(["dog on a beach", "coffee"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32


def test_models_the_lean_engine_does_not_cover_use_the_reference(tmp_path):
    from glimpse.indexer.models.embedder import bundled_minilm
    from glimpse.indexer.models.lean_text import unsupported

    assert unsupported(bundled_minilm()) is None
    assert unsupported(tmp_path) == "no model.safetensors"
    folder = tmp_path / "m"
    folder.mkdir()
    for name in ("model.safetensors", "tokenizer.json", "modules.json"):
        (folder / name).write_text("[]")
    (folder / "config.json").write_text(json.dumps({"model_type": "roberta", "hidden_act": "gelu"}))
    assert "not a BERT model" in unsupported(folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_act": "gelu"}))
    modules = [{"type": f"sentence_transformers.models.{kind}"} for kind in ("Transformer", "Pooling")]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {"query": "query: "}}))
    assert "prompts" in unsupported(folder)  # e5-style models: the reference adds their prompts


def test_a_cold_search_imports_no_torch(tmp_path):
    """`glimpse search` in a fresh process: FAISS, SQLite and the lean engine, nothing from the ML stack."""
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text(json.dumps({"id": "a.jpg", "caption": "a cup of coffee", "labels": []}) + "\n")
    index = tmp_path / "idx"
    from glimpse.ui.cli import main

    assert main(["import", str(jsonl), "--index", str(index)]) == 0
    heavy = ("torch", "transformers", "sentence_transformers", "sklearn", "gradio", "torchvision")
    script = (
        "import sys, json; from glimpse.ui.cli import main; code = main(['search', 'coffee', '--index', sys.argv[1]]);"
        f"print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(index)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    code, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0 and "a.jpg" in done.stdout, done.stderr
    assert imported == []


def test_a_query_asked_again_is_answered_from_memory():
    from glimpse.indexer.models import TextEmbedder

    calls = []

    class Counting:  # a stand-in model: counts what it is asked to embed
        device = "none"

        def encode(self, texts, **kwargs):
            calls.append(list(texts))
            return np.random.default_rng(len(calls)).random((len(texts), 4)).astype(np.float32)

    embedder = TextEmbedder(Counting(), engine="torch", query_cache=2)
    first = embedder.embed_queries(["dog"])
    assert np.array_equal(embedder.embed_queries(["dog"]), first) and calls == [["dog"]]
    first[0, 0] = 99.0  # a caller's copy, not the cache's
    assert embedder.embed_queries(["dog"])[0, 0] != 99.0
    embedder.embed_queries(["cat"])
    embedder.embed_queries(["bird"])  # the cache holds 2: "dog" (least recent) goes
    embedder.embed_queries(["dog"])
    assert calls == [["dog"], ["cat"], ["bird"], ["dog"]]
    embedder.embed_queries(["dog", "cat"])  # batches are not cached
    assert calls[-1] == ["dog", "cat"]
    uncached = TextEmbedder(Counting(), engine="torch", query_cache=0)
    uncached.embed_queries(["dog"])
    uncached.embed_queries(["dog"])
    assert calls[-2:] == [["dog"], ["dog"]]
