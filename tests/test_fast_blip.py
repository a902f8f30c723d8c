"""The fast BLIP path (blip_fast.py) against transformers' own `generate`, preprocessing, precision choice."""

from __future__ import annotations

import pytest
import torch
from glimpse.indexer.models.blip_fast import FastBlipCaptioning, plain_greedy


@pytest.fixture(scope="module")
def blip(tiny_blip):
    from transformers import BlipForConditionalGeneration

    return BlipForConditionalGeneration.from_pretrained(tiny_blip).eval()


def _hf_decode(model, image_embeds, max_new_tokens, min_new_tokens=None):
    """transformers' greedy decoding from given image embeddings, as BlipForConditionalGeneration.generate runs it."""
    text = model.config.text_config
    start = torch.full((image_embeds.shape[0], 1), text.bos_token_id)
    mask = torch.ones(image_embeds.shape[:2], dtype=torch.long)
    return model.text_decoder.generate(
        input_ids=start, eos_token_id=text.sep_token_id, pad_token_id=text.pad_token_id,
        encoder_hidden_states=image_embeds, encoder_attention_mask=mask,
        max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens,
    )  # fmt: skip


@pytest.mark.parametrize(("min_new", "max_new"), [(0, 12), (5, 8), (20, 20)])
def test_same_token_ids_as_generate_in_fp32(blip, min_new, max_new):
    size = blip.config.vision_config.image_size
    pixels = torch.randn(3, 3, size, size, generator=torch.Generator().manual_seed(0))
    fast = FastBlipCaptioning(blip)
    with torch.inference_mode():
        expected = blip.generate(pixel_values=pixels, max_new_tokens=max_new, min_new_tokens=min_new or None)
        assert torch.allclose(fast.encode(pixels), blip.vision_model(pixel_values=pixels)[0], atol=1e-5)
        got = fast.generate(pixels, max_new, min_new)
    assert got.shape == expected.shape and torch.equal(got, expected)


def test_rows_that_end_early_leave_the_batch_and_are_padded_as_generate_pads_them(blip):
    """Captions of different lengths in one batch: raise the end token's bias until some rows stop early."""
    hidden = blip.config.text_config.encoder_hidden_size
    embeds = 3 * torch.randn(8, 37, hidden, generator=torch.Generator().manual_seed(1))
    fast = FastBlipCaptioning(blip)
    bias = blip.text_decoder.cls.predictions.decoder.bias
    eos, pad = fast.eos, fast.pad
    original = bias[eos].item()
    seen_mixed = False
    with torch.inference_mode():
        layers = blip.text_decoder.bert.encoder.layer
        saved = [layer.crossattention.self.value.weight.clone() for layer in layers]
        for layer in layers:  # let the image matter more, so rows differ
            layer.crossattention.self.value.weight.mul_(20)
        fast = FastBlipCaptioning(blip)
        try:
            for step in range(41):
                bias[eos] = original + step * 0.025
                expected = _hf_decode(blip, embeds, 12)
                got = fast.decode(embeds, 12, 0)
                assert torch.equal(got, expected)
                lengths = (expected != pad).sum(dim=1)
                seen_mixed |= bool(lengths.min() < lengths.max())
                if seen_mixed and lengths.max() < expected.shape[1]:
                    break
        finally:
            bias[eos] = original
            for layer, weight in zip(layers, saved, strict=True):
                layer.crossattention.self.value.weight.copy_(weight)
    assert seen_mixed, "no bias made rows end at different steps"


def test_bf16_and_fp32_captioners_produce_captions(tiny_blip):
    from glimpse.indexer.models import BlipCaptioner
    from PIL import Image

    images = [Image.new("RGB", (120 + 10 * i, 90), (30 * i, 200, 90)) for i in range(5)]
    for precision in ("bf16", "fp32"):
        captioner = BlipCaptioner(str(tiny_blip), precision=precision, max_new_tokens=6).load()
        assert captioner.dtype == (torch.bfloat16 if precision == "bf16" else torch.float32)
        captions = captioner.caption(images)
        assert len(captions) == 5 and all(isinstance(c, str) and c for c in captions)


def test_fast_path_and_generate_give_the_same_captions_in_fp32(tiny_blip):
    from glimpse.indexer.models import BlipCaptioner
    from PIL import Image

    images = [Image.new("RGB", (64, 64 + 8 * i), (10 * i, 40, 250 - 20 * i)) for i in range(4)]
    fast = BlipCaptioner(str(tiny_blip), precision="fp32", max_new_tokens=10).load()
    slow = BlipCaptioner(str(tiny_blip), precision="fp32", max_new_tokens=10, fast=False).load()
    assert fast._fast is not None and slow._fast is None
    assert fast.caption(images) == slow.caption(images)
    # preprocessed tensors (what the decoding threads hand over) caption like the images themselves
    assert fast.caption([fast.preprocess(im) for im in images]) == fast.caption(images)


def test_only_plain_greedy_search_takes_the_fast_path():
    from transformers import GenerationConfig

    assert plain_greedy(None) and plain_greedy(GenerationConfig())
    assert not plain_greedy(GenerationConfig(), num_beams=3)
    assert not plain_greedy(GenerationConfig(repetition_penalty=1.3))
    assert not plain_greedy(GenerationConfig(do_sample=True))


def test_preprocessing_matches_the_reference_transforms(tiny_blip, resnet_weights):
    from glimpse.indexer.decode import decode
    from glimpse.indexer.models import BlipCaptioner, ResNetClassifier
    from torchvision.models import ResNet18_Weights
    from transformers import BlipProcessor

    from tests.conftest import DATA

    classifier = ResNetClassifier(str(resnet_weights), precision="fp32").load()
    captioner = BlipCaptioner(str(tiny_blip), precision="fp32").load()
    reference = ResNet18_Weights.IMAGENET1K_V1.transforms()
    processor = BlipProcessor.from_pretrained(tiny_blip)
    for path in sorted(DATA.rglob("*.jpg"))[:3]:
        image = decode(path).image
        assert torch.allclose(classifier.preprocess(image), reference(image), atol=1e-5)
        ours = captioner.preprocess(image)
        theirs = processor(images=[image], return_tensors="pt")["pixel_values"][0]
        assert ours.shape == theirs.shape
        # PIL's bicubic rounds to 8 bits where torchvision's keeps floats: at most one level apart
        assert (ours - theirs).abs().max() < 0.02 and (ours - theirs).abs().mean() < 1e-3


def test_auto_precision_is_bf16_only_on_fast_bf16_hardware(monkeypatch):
    from glimpse.indexer.models import loading

    monkeypatch.setattr(loading, "cpu_has_fast_bf16", lambda: True)
    assert loading.resolve_dtype("auto", "cpu") == torch.bfloat16
    monkeypatch.setattr(loading, "cpu_has_fast_bf16", lambda: False)
    assert loading.resolve_dtype("auto", "cpu") == torch.float32
    assert loading.resolve_dtype("fp32", "cpu") == torch.float32
    assert loading.resolve_dtype("bf16", "cpu") == torch.bfloat16
    with pytest.raises(ValueError):
        loading.resolve_dtype("int4", "cpu")


def test_small_work_runs_on_one_thread_and_restores_the_count():
    from glimpse.indexer.models.loading import small_work_threads

    before = torch.get_num_threads()
    with small_work_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with small_work_threads(64):
        assert torch.get_num_threads() == before


def test_int8_weights_approximate_the_bf16_layer():
    from glimpse.indexer.models.blip_fast import _Linear

    gen = torch.Generator().manual_seed(3)
    weight = (0.05 * torch.randn(96, 64, generator=gen)).to(torch.bfloat16)
    bias = torch.randn(96, generator=gen).to(torch.bfloat16)
    linear = _Linear(weight, bias)
    x = torch.randn(2, 64, generator=gen).to(torch.bfloat16)
    exact = linear(x, int8=True).float()  # no int8 copy yet: bf16
    linear.quantize()
    approx = linear(x, int8=True).float()
    assert linear.int8[0].dtype == torch.int8 and not torch.equal(exact, approx)
    assert (approx - exact).norm() / exact.norm() < 0.02
    assert torch.equal(linear(x, int8=False).float(), exact)  # batches keep bf16


def test_auto_precision_captions_uploads_with_int8_weights(tiny_blip, monkeypatch):
    """int8 decoding only when the caller says someone is waiting (`interactive`, an upload) for one or two
    images, under precision auto on a bf16-fast CPU."""
    from glimpse.indexer.models import BlipCaptioner, loading
    from PIL import Image

    monkeypatch.setattr(loading, "cpu_has_fast_bf16", lambda: True)
    image = Image.new("RGB", (80, 60), (200, 30, 30))
    auto = BlipCaptioner(str(tiny_blip), precision="auto", max_new_tokens=6).load()
    assert auto.dtype == torch.bfloat16 and not auto._fast.int8_decoder
    assert auto.caption([image])[0] and not auto._fast.int8_decoder  # not interactive: indexing, bf16
    assert auto.caption([auto.preprocess(image)])[0] and not auto._fast.int8_decoder  # the pipeline's input
    assert auto.caption([image] * 8, interactive=True)[0] and not auto._fast.int8_decoder  # a batch: bf16
    assert auto.caption([image], interactive=True)[0] and auto._fast.int8_decoder
    plain = BlipCaptioner(str(tiny_blip), precision="bf16", max_new_tokens=6).load()
    assert plain.caption([image], interactive=True)[0] and not plain._fast.int8_decoder


def test_describe_asks_for_an_interactive_caption(tmp_path):
    from glimpse.indexer.models import Models
    from glimpse.indexer.pipeline import describe
    from PIL import Image

    from tests.conftest import DemoEmbedder
    from tests.test_lanes import _SizeCaptioner, _SizeClassifier

    Image.new("RGB", (50, 40), (10, 80, 160)).save(tmp_path / "upload.png")
    captioner = _SizeCaptioner()
    caption, labels = describe(tmp_path / "upload.png", Models(captioner, _SizeClassifier(), DemoEmbedder()))
    assert caption == "50x40" and labels[0].name == "w50" and captioner.calls == [(1, True)]


@pytest.mark.slow
def test_the_real_models_have_every_member_of_the_model_protocols(minilm_models):
    from glimpse.indexer.models import BlipCaptioner, Captioner, Classifier, Embedder, ResNetClassifier, TextEmbedder

    from tests.conftest import DemoEmbedder

    models = minilm_models
    assert isinstance(models.captioner, BlipCaptioner) and isinstance(models.captioner, Captioner)
    assert isinstance(models.classifier, ResNetClassifier) and isinstance(models.classifier, Classifier)
    assert isinstance(models.embedder, TextEmbedder) and isinstance(models.embedder, Embedder)
    assert models.captioner.device in ("cpu", "cuda") and models.embedder.dim == 384
    assert isinstance(DemoEmbedder(), Embedder)  # the tests' stand-in keeps to the same interface
