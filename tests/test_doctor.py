"""`glimpse doctor`: the CPU class from its flags, and what each path chooses on each class, loading no model."""

from __future__ import annotations

import json

import pytest
from glimpse.indexer.config import ModelSettings
from glimpse.indexer.cpu import CpuInfo

CLASSES = {
    "amx": "avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_int8 amx_tile",
    "avx512-bf16": "avx2 fma avx512f avx512_vnni avx512_bf16",
    "avx512-vnni": "avx2 fma avx512f avx512_vnni",
    "avx2": "avx2 fma",
    "baseline": "sse4_2",
}


@pytest.mark.parametrize("kind", CLASSES)
def test_the_cpu_class_comes_from_its_flags(kind):
    info = CpuInfo("a CPU", "x86_64", 4, frozenset(CLASSES[kind].split()))
    assert info.kind == kind
    assert info.fast_bf16 == (kind in ("amx", "avx512-bf16"))
    assert kind in info.describe()


def test_arm_is_arm():
    info = CpuInfo("Neoverse-N1", "aarch64", 4, frozenset("fp asimd asimddp".split()))
    assert info.kind == "arm" and not info.fast_bf16 and info.fast_int8


@pytest.mark.parametrize(
    ("kind", "dtype", "int8"), [("amx", "bf16", True), ("avx2", "fp32", True), ("baseline", "fp32", False)]
)
def test_each_path_chooses_for_the_cpu(monkeypatch, kind, dtype, int8):
    from glimpse.indexer.models import policy

    info = CpuInfo("a CPU", "x86_64", 2, frozenset(CLASSES[kind].split()))
    monkeypatch.setattr(policy, "cpu", lambda: info)
    paths = {c.path: c for c in policy.choices(ModelSettings(device="cpu", precision="auto"))}
    assert paths["search: the query"].runs.startswith("numpy engine")
    index, upload = paths["index: caption + labels"], paths["upload: caption + labels"]
    assert index.runs == upload.runs == f"cpu, {dtype}"
    assert kind in index.why
    assert (upload.int8 != "no") == int8
    explicit = {c.path: c for c in policy.choices(ModelSettings(device="cpu", precision="fp32"))}
    assert (
        explicit["index: caption + labels"].runs == "cpu, fp32"
        and "GLIMPSE_PRECISION" in explicit["index: caption + labels"].why
    )


def test_doctor_prints_the_machine_and_every_path(run_cli, monkeypatch):
    from glimpse.indexer.models.captioner import BlipCaptioner
    from glimpse.indexer.models.classifier import ResNetClassifier
    from glimpse.indexer.models.embedder import TextEmbedder

    for cls in (BlipCaptioner, ResNetClassifier, TextEmbedder):
        monkeypatch.setattr(cls, "load", lambda self: pytest.fail("doctor loaded a model"))
    code, out, err = run_cli("doctor")
    assert code == 0, err
    for part in ("cpu:", "search: the query", "index: caption + labels", "upload: caption + labels", "text model"):
        assert part in out
    code, out, _ = run_cli("doctor", "--json")
    data = json.loads(out)
    assert code == 0 and data["machine"]["kind"] and len(data["paths"]) == 5
    assert data["models"]["text"]["available"]
