"""Shared fixtures. Nothing here touches the network: models are built locally (see model_factory.py)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.model_factory import build_blip, build_resnet18, minilm_path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data" / "photos"
EVAL = REPO / "data" / "eval"  # a copy of shared/eval: the suite runs from a clone alone

# Set before any library is imported by a test: no hub look-ups, no analytics.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
# Tiny models gain nothing from intra-op threads, and on 2 cores OpenMP threads spinning against the decode
# threads made a 12-image run 10x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session", autouse=True)
def _temp_dir(tmp_path_factory):
    """The web app's temporary folders (uploads, thumbnails) go under the session's temp folder, not the
    machine's (module-scoped apps are built before `_isolated` runs, so this is session-wide)."""
    os.environ["GLIMPSE_TEMP_DIR"] = str(tmp_path_factory.mktemp("glimpse-temp"))


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Every test gets its own index location and data home, so none touches a real library."""
    monkeypatch.setenv("GLIMPSE_INDEX", str(tmp_path / "default-index"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for var in ("GLIMPSE_CAPTION_MODEL", "GLIMPSE_CLASSIFIER_WEIGHTS", "GLIMPSE_TEXT_MODEL", "GLIMPSE_DEVICE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GLIMPSE_PRECISION", "fp32")


class DemoEmbedder:
    """A deterministic stand-in for the text model (after llm's `EmbedDemo`), for tests about ranking, filters
    and storage rather than about meaning. Each word (lower-cased, a plural "s" dropped, stop words left out) has
    a fixed pseudo-random direction derived from its hash, and a text is the normalised sum of its words: texts
    sharing words are close, texts sharing none are near 0. The same vectors in every process, no weights."""

    name = "demo-embedder"
    dim = 256
    device = "cpu"
    STOP = frozenset("a an and are as at be by for from in is it of on or the this to with".split())

    def load(self) -> DemoEmbedder:
        return self

    def word_vector(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        return np.random.default_rng(seed).standard_normal(self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_documents(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            words = [w.removesuffix("s") if len(w) > 3 else w for w in re.findall(r"\w+", text.lower())]
            for word in (w for w in words if w not in self.STOP):
                out[row] += self.word_vector(word)
            norm = np.linalg.norm(out[row])
            out[row] /= norm or 1.0
        return out


@pytest.fixture
def demo_embedder() -> DemoEmbedder:
    return DemoEmbedder()


@pytest.fixture(scope="session")
def tiny_blip(tmp_path_factory) -> Path:
    return build_blip(tmp_path_factory.mktemp("blip-tiny"), size="tiny")


@pytest.fixture(scope="session")
def resnet_weights(tmp_path_factory) -> Path:
    return build_resnet18(tmp_path_factory.mktemp("resnet") / "resnet18-random.pth")


@pytest.fixture
def tiny_models_env(monkeypatch, tiny_blip, resnet_weights):
    """Point glimpse at the tiny local models through the same environment variables users set; the text model
    is the DemoEmbedder (GLIMPSE_TEXT_MODEL=demo-embedder, known to the models' factory in these tests only)."""
    import glimpse.indexer.models as models

    real = models.text_embedder

    def text_embedder(model, *args, **kwargs):
        return DemoEmbedder() if model == DemoEmbedder.name else real(model, *args, **kwargs)

    monkeypatch.setattr(models, "text_embedder", text_embedder)
    monkeypatch.setenv("GLIMPSE_CAPTION_MODEL", str(tiny_blip))
    monkeypatch.setenv("GLIMPSE_CLASSIFIER_WEIGHTS", str(resnet_weights))
    monkeypatch.setenv("GLIMPSE_TEXT_MODEL", DemoEmbedder.name)


@pytest.fixture
def minilm_models_env(tiny_models_env, monkeypatch):
    """The tiny BLIP and ResNet with the real all-MiniLM-L6-v2, for tests about meaning (mark them slow)."""
    monkeypatch.setenv("GLIMPSE_TEXT_MODEL", str(minilm_path()))


def _tiny(tiny_blip, resnet_weights, embedder):
    from glimpse.indexer.models import BlipCaptioner, Models, ResNetClassifier

    return Models(
        BlipCaptioner(str(tiny_blip), precision="fp32", max_new_tokens=8),
        ResNetClassifier(str(resnet_weights), precision="fp32"),
        embedder,
    ).load()


@pytest.fixture(scope="session")
def tiny_models(tiny_blip, resnet_weights):
    """Tiny BLIP and ResNet with the DemoEmbedder, loaded once per session, for tests that call the library."""
    return _tiny(tiny_blip, resnet_weights, DemoEmbedder())


@pytest.fixture(scope="session")
def minilm_models(tiny_blip, resnet_weights):
    """Tiny BLIP and ResNet with the real all-MiniLM-L6-v2, for tests about meaning (mark them slow)."""
    from glimpse.indexer.models import TextEmbedder

    return _tiny(tiny_blip, resnet_weights, TextEmbedder())


@pytest.fixture
def library(tmp_path) -> Path:
    """A writable copy of data/photos."""
    dest = tmp_path / "library"
    shutil.copytree(DATA, dest)
    return dest


@pytest.fixture
def run_cli(capsys):
    """Run `glimpse ARGS...` in-process; returns (exit code, stdout, stderr)."""
    from glimpse.ui.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
