"""Greedy BLIP captioning with much less overhead than `BlipForConditionalGeneration.generate`: same weights,
same maths, reordered.

transformers' BLIP computes attention eagerly (the full score matrix is written out) and runs `generate`
through a dynamic cache and generic hooks at every token. On a CPU with few cores, once the matrix work runs
in bf16, what remains is memory traffic. This module reuses the loaded model's weights and changes only how
they are applied:

- Vision attention goes through `scaled_dot_product_attention` (fused, no score matrix in memory).
- The decoder's self-attention keeps one preallocated key/value cache; its q, k and v projections are one
  matrix product.
- Cross-attention is folded: instead of caching keys and values for the 577 image tokens in each of the 12
  layers (21 MB per image in bf16, read again at every token, so the decoder becomes bound by memory
  bandwidth), each layer multiplies its query into the key projection, `(q Wk) E^T`, and applies the value
  projection after pooling, `(p E) Wv^T + bv`. Both read only the image embeddings `E`, which are shared by
  all layers and small enough to stay in cache. The key bias adds the same amount to every score, so it
  cancels in the softmax; the value bias passes through because the attention weights sum to one.
- Rows whose caption has ended leave the batch, so a short caption stops costing work.
- Logits are computed for the last position only.
- Optionally (`quantize_decoder`), decoding uses int8 copies of the decoder's weights when the caller asks
  (`int8=True`: an upload, or `--precision int8`): decoding a single image is bound by reading those weights at
  every token. `quantize_vision` (fp32 models, `--precision int8` only) makes the vision encoder's linear layers
  int8 too.

It implements greedy search, as `generate(num_beams=1, do_sample=False)` does with `min_new_tokens` and
`max_new_tokens`: the end token ([SEP], as BLIP's `generate` uses) is forbidden until `min_new_tokens` tokens
exist, and rows that ended are padded. In fp32 it returns the same token ids as `generate` (tested); in bf16
the reordered sums round differently, as any bf16 kernel change does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .loading import ALLOCATION_REUSE_BYTES

SMALL_BATCH = 2  # rows: at most this many count as an upload's batch (int8 decoding under `auto`)


class _Linear:
    """A linear layer's weights, plus (once `quantize` ran) an int8 copy for the calls that ask for it.

    - bf16 weights: weight-only int8, one scale per output channel, activations stay bf16, and
      `torch._weight_int8pack_mm` reads half the bytes of bf16. Decoding one image is bound by reading the
      decoder's weights once per token (about 270 MB in bf16), so that halves its cost; at 16 rows and more the
      int8 kernel is slower than bf16 (AMX), so batches keep bf16.
    - fp32 weights: dynamic quantization (`quantize_dynamic`'s int8 linear: per-channel int8 weights, each call's
      activations quantized on the fly, int8 products in FBGEMM): a quarter of fp32's bytes, and int8 dot products
      on AVX2 (`_weight_int8pack_mm` has no fast fp32 kernel).
    """

    def __init__(self, weight, bias):
        self.weight, self.bias = weight, bias
        self.int8 = None

    def quantize(self) -> None:
        import torch

        if self.weight.dtype == torch.float32:
            self.int8 = dynamic_int8(self.weight, self.bias)
            return
        scale = self.weight.detach().abs().amax(dim=1).float().clamp(min=1e-12) / 127.0
        q = torch.round(self.weight.detach().float().div_(scale[:, None])).clamp_(-127, 127).to(torch.int8)
        self.int8 = (q.contiguous(), scale.to(self.weight.dtype))

    def __call__(self, x, int8: bool = False):
        import torch
        import torch.nn.functional as F

        if int8 and self.int8 is not None:
            if not isinstance(self.int8, tuple):
                return self.int8(x)
            y = torch._weight_int8pack_mm(x, *self.int8)
            return y if self.bias is None else y + self.bias
        return F.linear(x, self.weight, self.bias)


def dynamic_int8(weight, bias):
    """An fp32 linear layer as torch's dynamically quantized int8 linear module (per-channel weights)."""
    import torch

    linear = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    with torch.no_grad():
        linear.weight.copy_(weight)
        if bias is not None:
            linear.bias.copy_(bias)
    return quantize_linears(torch.nn.Sequential(linear))[0]


def quantize_linears(module):
    """`module` with every `nn.Linear` replaced, in place, by a dynamically quantized int8 one (per-channel
    weights). The CPU's quantized engine runs them (FBGEMM's AVX2/AVX-512 kernels, oneDNN where chosen)."""
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch.ao.quantization's deprecation notice: the kernels are what we use
        warnings.simplefilter("ignore")
        return quantize_dynamic(module, {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=True)


@dataclass
class _Layer:
    """One decoder layer's weights, regrouped for the folded computation."""

    qkv: _Linear  # self-attention q, k and v in one product
    self_out: _Linear
    self_norm: object
    cross_query: _Linear
    key_by_head: object  # (heads, head_dim, encoder_hidden): cross-attention key weight, split by head
    value_by_head: object  # (heads, encoder_hidden, head_dim): cross-attention value weight, transposed
    value_bias: object  # (hidden,)
    cross_out: _Linear
    cross_norm: object
    ffn_in: _Linear
    act: object
    ffn_out: _Linear
    ffn_norm: object

    def linears(self) -> list[_Linear]:
        return [self.qkv, self.self_out, self.cross_query, self.cross_out, self.ffn_in, self.ffn_out]


def plain_greedy(generation_config, num_beams: int = 1) -> bool:
    """Whether `generate` would run plain greedy search, the only search this module implements."""
    if num_beams != 1:
        return False
    c = generation_config
    if c is None:
        return True
    return (
        not getattr(c, "do_sample", False)
        and (getattr(c, "num_beams", 1) or 1) == 1
        and (getattr(c, "repetition_penalty", None) or 1.0) == 1.0
        and not getattr(c, "no_repeat_ngram_size", 0)
        and not getattr(c, "bad_words_ids", None)
        and not getattr(c, "forced_bos_token_id", None)
        and not getattr(c, "forced_eos_token_id", None)
        and not getattr(c, "suppress_tokens", None)
        and not getattr(c, "begin_suppress_tokens", None)
    )


class FastBlipCaptioning:
    """Wraps a loaded `BlipForConditionalGeneration` (any dtype, any device). Build it after moving the model."""

    def __init__(self, model):
        import torch

        self.model = model
        text = model.config.text_config
        self.bos, self.eos, self.pad = int(text.bos_token_id), int(text.sep_token_id), int(text.pad_token_id)
        self.heads = int(text.num_attention_heads)
        self.vision_heads = int(model.config.vision_config.num_attention_heads)
        self.max_positions = int(text.max_position_embeddings)
        bert = model.text_decoder.bert
        self.hidden = bert.embeddings.word_embeddings.weight.shape[1]
        self.head_dim = self.hidden // self.heads
        self.dtype = bert.embeddings.word_embeddings.weight.dtype
        self.layers = []
        with torch.no_grad():
            for layer in bert.encoder.layer:
                sa, ca = layer.attention.self, layer.crossattention.self
                so, co = layer.attention.output, layer.crossattention.output
                self.layers.append(
                    _Layer(
                        qkv=_Linear(
                            torch.cat([sa.query.weight, sa.key.weight, sa.value.weight]),
                            torch.cat([sa.query.bias, sa.key.bias, sa.value.bias]),
                        ),
                        self_out=_Linear(so.dense.weight, so.dense.bias),
                        self_norm=so.LayerNorm,
                        cross_query=_Linear(ca.query.weight, ca.query.bias),
                        key_by_head=ca.key.weight.reshape(self.heads, self.head_dim, -1),
                        value_by_head=ca.value.weight.reshape(self.heads, self.head_dim, -1).transpose(1, 2),
                        value_bias=ca.value.bias,
                        cross_out=_Linear(co.dense.weight, co.dense.bias),
                        cross_norm=co.LayerNorm,
                        ffn_in=_Linear(layer.intermediate.dense.weight, layer.intermediate.dense.bias),
                        act=layer.intermediate.intermediate_act_fn,
                        ffn_out=_Linear(layer.output.dense.weight, layer.output.dense.bias),
                        ffn_norm=layer.output.LayerNorm,
                    )
                )
            head = model.text_decoder.cls.predictions
            self.head_in = _Linear(head.transform.dense.weight, head.transform.dense.bias)
            self.head_act, self.head_norm = head.transform.transform_act_fn, head.transform.LayerNorm
            self.head_out = _Linear(head.decoder.weight, head.decoder.bias)
        self.int8_decoder = self.int8_vision = False

    def quantize_decoder(self) -> None:
        """Make int8 copies of the decoder's linear weights (lossy, like bf16), used by `decode(int8=True)` on
        the CPU: weight-only int8 for bf16/fp16 models (about 140 MB more memory), dynamically quantized int8 for
        fp32 ones (see `_Linear`; about 125 MB more)."""
        import torch

        if self.int8_decoder:
            return
        with torch.no_grad():
            for linear in [lin for layer in self.layers for lin in layer.linears()] + [self.head_in, self.head_out]:
                linear.quantize()
        self.int8_decoder = True

    def quantize_vision(self) -> None:
        """Replace the vision encoder's linear layers (attention and MLP: nearly all of its work) by dynamically
        quantized int8 ones, in place: fp32 models on the CPU only (`--precision int8`). Lossy: see the README."""
        import torch

        if self.int8_vision:
            return
        if self.dtype != torch.float32:
            raise ValueError("an int8 vision encoder needs an fp32 model")
        quantize_linears(self.model.vision_model.encoder)
        self.int8_vision = True

    def generate(self, pixels, max_new_tokens: int = 30, min_new_tokens: int = 0, int8: bool = False):
        """Token ids (batch, 1 + generated), starting with BOS; rows that ended early are padded. `int8=True`
        decodes with the int8 weights, once `quantize_decoder` made them."""
        return self.decode(self.encode(pixels), max_new_tokens, min_new_tokens, int8=int8)

    # -- vision -----------------------------------------------------------------------------------------
    def encode(self, pixels):
        """Image embeddings (batch, patches + 1, hidden), equal to `model.vision_model(pixels)[0]`.

        Images go through in chunks small enough that the largest activation (the MLP's) stays under
        `ALLOCATION_REUSE_BYTES`, so its buffer is reused rather than mapped afresh at every layer; the
        matrix products stay large (thousands of rows per chunk).
        """
        import torch

        vc = self.model.config.vision_config
        tokens = (vc.image_size // vc.patch_size) ** 2 + 1
        per_image = tokens * vc.intermediate_size * torch.finfo(self.dtype).bits // 8
        chunk = max(1, ALLOCATION_REUSE_BYTES // per_image)
        if pixels.shape[0] <= chunk:
            return self._encode(pixels)
        return torch.cat([self._encode(pixels[i : i + chunk]) for i in range(0, pixels.shape[0], chunk)])

    def _encode(self, pixels):
        import torch
        import torch.nn.functional as F

        vm = self.model.vision_model
        emb = vm.embeddings
        x = emb.patch_embedding(pixels.to(emb.patch_embedding.weight.dtype)).flatten(2).transpose(1, 2)
        x = torch.cat([emb.class_embedding.expand(x.shape[0], 1, -1).to(x.dtype), x], dim=1)
        x = x + emb.position_embedding[:, : x.shape[1]].to(x.dtype)
        heads = self.vision_heads
        for layer in vm.encoder.layers:
            attn = layer.self_attn
            b, n, d = x.shape
            qkv = attn.qkv(layer.layer_norm1(x)).view(b, n, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
            x = x + attn.projection(a.transpose(1, 2).reshape(b, n, d))
            x = x + layer.mlp(layer.layer_norm2(x))
        return vm.post_layernorm(x)

    # -- text -------------------------------------------------------------------------------------------
    def decode(self, image_embeds, max_new_tokens: int = 30, min_new_tokens: int = 0, int8: bool = False):
        """Greedy caption ids for image embeddings (batch, tokens, encoder_hidden)."""
        import torch
        import torch.nn.functional as F

        bert = self.model.text_decoder.bert
        words, positions, embed_norm = (
            bert.embeddings.word_embeddings, bert.embeddings.position_embeddings.weight, bert.embeddings.LayerNorm
        )  # fmt: skip
        heads, head_dim, hidden = self.heads, self.head_dim, self.hidden
        scale = 1.0 / math.sqrt(head_dim)
        steps = max(1, min(max_new_tokens, self.max_positions - 1))
        int8 = int8 and self.int8_decoder and image_embeds.device.type == "cpu"

        images = image_embeds.to(self.dtype).contiguous()  # (b, n, e), read by every layer
        batch, device = images.shape[0], images.device
        cache = torch.empty(len(self.layers), 2, batch, heads, steps, head_dim, dtype=self.dtype, device=device)
        out = torch.full((batch, steps + 1), self.pad, dtype=torch.long, device=device)
        out[:, 0] = self.bos
        rows = torch.arange(batch, device=device)  # the rows of `out` still being generated
        token = out[:, 0].clone()
        for step in range(steps):
            x = embed_norm(words(token) + positions[step])  # (b, hidden)
            b = x.shape[0]
            for i, layer in enumerate(self.layers):
                # self-attention over the cached tokens
                q, k, v = layer.qkv(x, int8).view(b, 3, heads, head_dim).unbind(1)
                cache[i, 0, :, :, step] = k
                cache[i, 1, :, :, step] = v
                a = F.scaled_dot_product_attention(
                    q.unsqueeze(2), cache[i, 0, :, :, : step + 1], cache[i, 1, :, :, : step + 1], scale=scale
                )
                x = layer.self_norm(layer.self_out(a.reshape(b, hidden), int8) + x)
                # cross-attention to the image, folded (see the module docstring)
                q = layer.cross_query(x, int8).view(b, heads, head_dim).transpose(0, 1)  # (h, b, d)
                q = torch.bmm(q, layer.key_by_head).transpose(0, 1)  # (b, h, e)
                p = torch.softmax(torch.bmm(q, images.transpose(1, 2)) * scale, dim=-1)  # (b, h, n)
                pooled = torch.bmm(p, images).transpose(0, 1)  # (h, b, e)
                a = torch.bmm(pooled, layer.value_by_head).transpose(0, 1).reshape(b, hidden) + layer.value_bias
                x = layer.cross_norm(layer.cross_out(a, int8) + x)
                x = layer.ffn_norm(layer.ffn_out(layer.act(layer.ffn_in(x, int8)), int8) + x)
            logits = self.head_out(self.head_norm(self.head_act(self.head_in(x, int8))), int8).float()
            if step < min_new_tokens:
                logits[:, self.eos] = -math.inf
            token = logits.argmax(dim=-1)
            out[rows, step + 1] = token
            ended = token == self.eos
            if bool(ended.any()):
                keep = (~ended).nonzero()[:, 0]
                if len(keep) == 0:
                    return out[:, : step + 2]
                rows, token, images, cache = rows[keep], token[keep], images[keep], cache[:, :, keep]
        return out
