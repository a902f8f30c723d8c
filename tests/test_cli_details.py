"""The everyday details a new user meets first: queries starting with `-`, a busy port, missing models named all
at once, files checked before models load, and a re-run with nothing to do that loads no model at all."""

from __future__ import annotations

import json
import socket

import pytest

pytestmark = pytest.mark.usefixtures("tiny_models_env")


def refuse_loads(monkeypatch) -> None:
    """Every real model's `load` fails the test: nothing may load in vain."""
    from glimpse.indexer.models.captioner import BlipCaptioner
    from glimpse.indexer.models.classifier import ResNetClassifier
    from glimpse.indexer.models.embedder import TextEmbedder

    from tests.conftest import DemoEmbedder

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__} was loaded")

    for cls in (BlipCaptioner, ResNetClassifier, TextEmbedder, DemoEmbedder):
        monkeypatch.setattr(cls, "load", refuse)


@pytest.fixture
def no_model_loads(monkeypatch):
    refuse_loads(monkeypatch)


def imported_index(run_cli, tmp_path):
    captions = [
        {"id": "dog.jpg", "caption": "a dog drinking coffee on a porch", "labels": ["dog"]},
        {"id": "cup.jpg", "caption": "a cup of coffee on a table", "labels": ["cup"]},
    ]
    jsonl = tmp_path / "captions.jsonl"
    jsonl.write_text("\n".join(json.dumps(c) for c in captions) + "\n")
    index = tmp_path / "idx"
    code, _, err = run_cli("import", jsonl, "--index", index)
    assert code == 0, err
    return index


@pytest.mark.parametrize(
    "args", [("-dog coffee",), ("-k", "5", "-dog coffee"), ("-dog coffee", "--top=5"), ("--", "-dog coffee")]
)
def test_a_query_may_start_with_a_minus(run_cli, tmp_path, args):
    index = imported_index(run_cli, tmp_path)
    code, out, err = run_cli("search", "--index", index, "--json", *args)
    assert code == 0, err
    paths = [hit["path"] for hit in json.loads(out)["results"]]
    assert "cup.jpg" in paths and "dog.jpg" not in paths


def test_unknown_options_are_still_options_when_they_look_like_one(run_cli, tmp_path):
    index = imported_index(run_cli, tmp_path)
    code, out, _ = run_cli("search", "-k", "1", "coffee", "--index", index, "--json")
    assert code == 0 and len(json.loads(out)["results"]) == 1
    code, _, err = run_cli("search", "coffee", "--top", "x", "--index", index)
    assert code == 2 and "--top" in err


def test_serve_on_a_busy_port_says_so(run_cli, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run_cli("serve", "--port", port, "--index", tmp_path / "idx")
    assert code == 1
    assert f"port {port} is in use: pass --port" in err
    assert "Traceback" not in err and "GRADIO_SERVER_PORT" not in err


def test_every_missing_model_is_named_in_one_message(run_cli, library, tmp_path, monkeypatch, no_model_loads):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # an empty torch cache
    monkeypatch.setenv("GLIMPSE_CAPTION_MODEL", "glimpse-tests/no-such-blip")
    monkeypatch.setenv("GLIMPSE_CLASSIFIER_WEIGHTS", "IMAGENET1K_V1")
    monkeypatch.setenv("GLIMPSE_TEXT_MODEL", str(tmp_path / "no-such-text-model"))
    code, _, err = run_cli("index", library, "--index", tmp_path / "idx")
    assert code == 1
    assert "3 models are missing" in err
    for kind, name, var in [
        ("caption", "glimpse-tests/no-such-blip", "GLIMPSE_CAPTION_MODEL"),
        ("classifier", "IMAGENET1K_V1", "GLIMPSE_CLASSIFIER_WEIGHTS"),
        ("text", str(tmp_path / "no-such-text-model"), "GLIMPSE_TEXT_MODEL"),
    ]:
        assert f"could not load the {kind} model {name!r}" in err and var in err
    assert not (tmp_path / "idx").exists()  # the index was not touched


def test_caption_checks_the_files_before_loading_models(run_cli, tmp_path, no_model_loads):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n")
    code, out, err = run_cli("caption", notes)
    assert code == 1 and out == ""
    assert "notes.txt: cannot read" in err and "was loaded" not in err


def test_a_rerun_with_nothing_to_do_loads_no_model(run_cli, library, tmp_path, monkeypatch):
    index = tmp_path / "idx"
    code, _, err = run_cli("index", library, "--index", index)
    assert code == 0, err
    refuse_loads(monkeypatch)
    from glimpse.indexer.models import Models

    monkeypatch.setattr(Models, "load", lambda self: pytest.fail("models loaded with nothing to do"))
    code, out, err = run_cli("index", library, "--index", index, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["unchanged"] == 6 and summary["added"] == summary["updated"] == 0


def test_new_files_are_hashed_with_progress(library, tmp_path, tiny_models):
    from glimpse.indexer.pipeline import Progress
    from glimpse.ui.library import Library

    class Recorder(Progress):
        def __init__(self):
            self.hashing_calls, self.hashed_bytes, self.started = [], 0, None

        def hashing(self, files, nbytes):
            self.hashing_calls.append((files, nbytes))

        def hashed(self, nbytes):
            assert self.started is None, "hashing reported after indexing started"
            self.hashed_bytes += nbytes

        def start(self, total):
            self.started = total

    sizes = [p.stat().st_size for p in library.rglob("*.jpg")]
    recorder = Recorder()
    with Library(tmp_path / "idx", models=tiny_models) as lib:
        lib.index(library, progress=recorder)
    assert recorder.hashing_calls == [(len(sizes), sum(sizes))]
    assert recorder.hashed_bytes == sum(sizes) and recorder.started == len(sizes)


def test_the_cli_shows_a_hashing_bar_in_bytes(run_cli, library, tmp_path, monkeypatch):
    import tqdm

    bars = []
    real = tqdm.tqdm

    def spy(*args, **kwargs):
        bars.append(kwargs)
        return real(*args, **{**kwargs, "disable": False})

    monkeypatch.setattr(tqdm, "tqdm", spy)
    code, _, err = run_cli("index", library, "--index", tmp_path / "idx")
    assert code == 0, err
    hashing = [b for b in bars if b.get("desc") == "hashing"]
    assert hashing and hashing[0]["unit"] == "B" and hashing[0]["unit_scale"]
    assert "hashing" in err and "files=6/6" in err
