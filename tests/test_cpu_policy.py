"""What an upload and `--precision int8` run with on each CPU class (models/policy.py), and that the models do it:
threads for an upload, int8 decoder weights, the int8 vision encoder, and what `glimpse doctor` says."""

from __future__ import annotations

import json

import pytest
import torch
from glimpse.indexer.cpu import CLASS_FLAGS, CpuInfo

from tests.test_doctor import CLASSES


def _info(kind: str, cores: int = 3) -> CpuInfo:
    flags = CLASS_FLAGS[kind]
    return CpuInfo("a CPU", "aarch64" if kind == "arm" else "x86_64", cores, frozenset(flags.split()))


@pytest.fixture
def as_cpu(monkeypatch):
    """Make glimpse see a CPU of the given class, with 3 cores (more than this machine may have: the count is
    only asked of torch, not checked against the hardware)."""
    from glimpse.indexer.models import loading, policy

    monkeypatch.delenv(policy.UPLOAD_THREADS_ENV, raising=False)

    def use(kind: str) -> CpuInfo:
        info = _info(kind)
        monkeypatch.setattr(policy, "cpu", lambda: info)
        monkeypatch.setattr(loading, "cpu_has_fast_bf16", lambda: info.fast_bf16)
        return info

    return use


def test_the_class_flag_sets_are_the_doctor_tests_classes():
    for kind, flags in CLASSES.items():
        assert _info(kind).kind == kind and set(flags.split()) <= set(CLASS_FLAGS[kind].split())
    assert _info("arm").kind == "arm"


@pytest.mark.parametrize("kind", ["amx", "avx512-bf16", "avx512-vnni", "avx2", "arm", "baseline"])
def test_an_upload_uses_every_core_whatever_the_precision(kind, as_cpu):
    from glimpse.indexer.models import policy

    info = as_cpu(kind)
    assert info.cores == 3
    assert policy.upload_threads("bf16" if info.fast_bf16 else "fp32") == 3
    assert policy.upload_threads("fp32") == 3  # --precision fp32 or int8 on any CPU


def test_upload_threads_can_be_set(as_cpu, monkeypatch):
    from glimpse.indexer.models import policy

    as_cpu("avx2")
    monkeypatch.setenv(policy.UPLOAD_THREADS_ENV, "1")
    assert policy.upload_threads("fp32") == 1
    monkeypatch.setenv(policy.UPLOAD_THREADS_ENV, "zero")  # not a count: ignored
    assert policy.upload_threads("fp32") == 3


@pytest.mark.parametrize(
    ("kind", "precision", "device", "int8"),
    [
        ("amx", "auto", "cpu", True),  # weight-only int8 beside bf16, as before
        ("avx512-bf16", "auto", "cpu", True),
        ("avx512-vnni", "auto", "cpu", True),  # dynamic int8 beside fp32 (FBGEMM, VNNI)
        ("avx2", "auto", "cpu", True),  # dynamic int8 beside fp32 (FBGEMM, AVX2): measured faster
        ("arm", "auto", "cpu", False),  # not measured there
        ("baseline", "auto", "cpu", False),  # no AVX2: no FBGEMM kernels
        ("avx2", "fp32", "cpu", False),  # an explicit precision means exactly that
        ("amx", "bf16", "cpu", False),
        ("avx2", "int8", "cpu", True),
        ("arm", "int8", "cpu", True),  # asked for
        ("amx", "auto", "cuda", False),
    ],
)
def test_int8_decoder_weights_per_cpu_class_and_precision(kind, precision, device, int8, as_cpu):
    from glimpse.indexer.models import policy

    info = as_cpu(kind)
    dtype = "bf16" if precision == "bf16" or (precision == "auto" and info.fast_bf16) else "fp32"
    chosen, why = policy.upload_int8(precision, device, dtype)
    assert chosen == int8 and why


def test_the_cpu_class_can_be_forced_from_the_environment(monkeypatch):
    from glimpse.indexer import cpu as cpu_module

    try:
        for kind in CLASS_FLAGS:
            monkeypatch.setenv(cpu_module.OVERRIDE_ENV, kind)
            cpu_module.cpu.cache_clear()
            info = cpu_module.cpu()
            assert info.kind == kind and cpu_module.OVERRIDE_ENV in info.model
        monkeypatch.setenv(cpu_module.OVERRIDE_ENV, "not-a-class")  # ignored: the real CPU
        cpu_module.cpu.cache_clear()
        assert cpu_module.OVERRIDE_ENV not in cpu_module.cpu().model
    finally:
        monkeypatch.delenv(cpu_module.OVERRIDE_ENV)
        cpu_module.cpu.cache_clear()


def _thread_probe(captioner, classifier) -> dict[str, list[int]]:
    """Record torch's thread count when the vision encoder and the classifier's last layer run."""
    seen = {"vision": [], "classifier": []}
    patch = captioner._model.vision_model.embeddings.patch_embedding
    patch.register_forward_pre_hook(lambda *_: seen["vision"].append(torch.get_num_threads()))
    classifier._model.fc.register_forward_pre_hook(lambda *_: seen["classifier"].append(torch.get_num_threads()))
    return seen


@pytest.mark.parametrize("kind", ["avx2", "amx"])
def test_an_upload_runs_on_the_chosen_threads_and_restores_the_lanes_setting(kind, as_cpu, tiny_blip,
                                                                             resnet_weights, tmp_path):  # fmt: skip
    from glimpse.indexer.models import BlipCaptioner, Models, ResNetClassifier
    from glimpse.indexer.pipeline import describe
    from PIL import Image

    from tests.conftest import DemoEmbedder

    as_cpu(kind)
    models = Models(
        BlipCaptioner(str(tiny_blip), max_new_tokens=5), ResNetClassifier(str(resnet_weights)), DemoEmbedder()
    )
    models.captioner.load(), models.classifier.load()
    assert models.captioner.dtype == (torch.float32 if kind == "avx2" else torch.bfloat16)
    seen = _thread_probe(models.captioner, models.classifier)
    Image.new("RGB", (70, 50), (10, 200, 60)).save(tmp_path / "upload.png")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # what a lane may have left behind
        left = torch.get_num_threads()
        caption, labels = describe(tmp_path / "upload.png", models)
        assert caption and len(labels) == 3
        assert seen == {"vision": [3], "classifier": [3]}  # every core (3 here), whatever the precision
        assert torch.get_num_threads() == left
        # indexing's batches keep the threads they are given
        models.captioner.caption([Image.new("RGB", (70, 50))] * 6)
        assert seen["vision"][-1] == left
    finally:
        torch.set_num_threads(before)
    assert models.captioner._fast.int8_decoder  # the upload decoded with int8 weights on both classes


def test_auto_on_avx2_decodes_uploads_with_dynamic_int8_and_batches_in_fp32(as_cpu, tiny_blip):
    from glimpse.indexer.models import BlipCaptioner
    from PIL import Image

    as_cpu("avx2")
    image = Image.new("RGB", (80, 60), (200, 30, 30))
    auto = BlipCaptioner(str(tiny_blip), max_new_tokens=6).load()
    assert auto.dtype == torch.float32
    assert auto.caption([image] * 6, interactive=True)[0] and not auto._fast.int8_decoder  # a batch: fp32
    assert auto.caption([image], interactive=True)[0] and auto._fast.int8_decoder
    assert isinstance(auto._fast.head_out.int8, torch.ao.nn.quantized.dynamic.Linear)
    plain = BlipCaptioner(str(tiny_blip), precision="fp32", max_new_tokens=6).load()
    assert plain.caption([image], interactive=True)[0] and not plain._fast.int8_decoder


def test_dynamic_int8_approximates_the_fp32_layer():
    from glimpse.indexer.models.blip_fast import _Linear

    gen = torch.Generator().manual_seed(5)
    linear = _Linear(0.05 * torch.randn(96, 64, generator=gen), torch.randn(96, generator=gen))
    x = torch.randn(2, 64, generator=gen)
    exact = linear(x, int8=True)  # no int8 copy yet: fp32
    linear.quantize()
    approx = linear(x, int8=True)
    assert not torch.equal(exact, approx) and (approx - exact).norm() / exact.norm() < 0.03
    assert torch.equal(linear(x, int8=False), exact)


def test_precision_int8_makes_the_vision_encoder_int8_and_still_captions(tiny_blip):
    from glimpse.indexer.models import BlipCaptioner
    from PIL import Image

    dynamic = torch.ao.nn.quantized.dynamic.Linear
    captioner = BlipCaptioner(str(tiny_blip), precision="int8", device="cpu", max_new_tokens=6).load()
    assert captioner.dtype == torch.float32 and captioner._fast.int8_vision and captioner._fast.int8_decoder
    for layer in captioner._model.vision_model.encoder.layers:
        modules = (layer.self_attn.qkv, layer.self_attn.projection, layer.mlp.fc1, layer.mlp.fc2)
        assert all(isinstance(m, dynamic) for m in modules)
    images = [Image.new("RGB", (60 + 10 * i, 60), (40 * i, 90, 200)) for i in range(5)]
    captions = captioner.caption(images)
    assert len(captions) == 5 and all(isinstance(c, str) and c for c in captions)
    fp32 = BlipCaptioner(str(tiny_blip), precision="fp32", device="cpu", max_new_tokens=6).load()
    assert not isinstance(fp32._model.vision_model.encoder.layers[0].mlp.fc1, dynamic)
    with pytest.raises(ValueError, match="CPU"):
        BlipCaptioner(str(tiny_blip), precision="int8", device="cuda").load()


def test_the_caption_command_takes_precision_int8(run_cli, tiny_models_env):
    from tests.conftest import DATA

    image = sorted(DATA.rglob("*.jpg"))[0]
    code, out, err = run_cli("caption", "--precision", "int8", "--json", image)
    assert code == 0, err
    (result,) = json.loads(out)
    assert result["caption"] and len(result["labels"]) == 3


def test_doctor_prints_the_upload_and_int8_choices(run_cli, as_cpu):
    as_cpu("avx2")
    code, out, err = run_cli("doctor", "--device", "cpu", "--precision", "auto", "--json")
    assert code == 0, err
    paths = {p["path"]: p for p in json.loads(out)["paths"]}
    upload, vision = paths["upload: caption + labels"], paths["vision encoder"]
    assert upload["runs"] == "cpu, fp32" and upload["threads"].startswith("3 torch threads")
    assert upload["int8"] == "decoder weights int8" and "FBGEMM" in upload["why"]
    assert vision["int8"] == "no" and "--precision int8" in vision["why"]
    code, out, _ = run_cli("doctor", "--device", "cpu", "--precision", "int8")
    assert code == 0
    assert "vision encoder:\n    cpu, int8 linear layers (dynamic)" in out and "int8: yes" in out
    as_cpu("amx")
    code, out, _ = run_cli("doctor", "--device", "cpu", "--precision", "auto")
    assert "upload: caption + labels:\n    cpu, bf16; 3 torch threads" in out
