"""A lean engine for BERT-type sentence-transformers models (all-MiniLM-L6-v2): numpy, `tokenizers` and
`safetensors`, no torch.

`glimpse search` needs one query embedded. Through sentence-transformers that means importing it, transformers,
torch and scikit-learn: 10 to 17 s from a cold process on a laptop, for a few milliseconds of arithmetic. This
engine reads the same folder (tokenizer.json, model.safetensors, the sentence-transformers module list) and runs
the same computation in numpy: BERT (embeddings, 6 encoder layers, exact GELU), mean pooling, L2 normalization.
It starts in a fraction of a second and needs no export step or cache. sentence-transformers stays the reference
(tests check both give the same vectors, cosine >= 0.999) and the engine for any model this one does not cover.

Matrix products go to numpy's BLAS (OpenBLAS or MKL), which picks its kernels for the CPU at run time (AVX2,
AVX-512, NEON), so one code path is fast on every CPU class.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

WEIGHTS = "model.safetensors"
TOKENIZER = "tokenizer.json"
MAX_TOKENS_PER_CALL = 8192  # rows are embedded in groups of about this many tokens (bounded activation memory)


def _json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def unsupported(folder: Path) -> str | None:
    """Why this engine can't run the sentence-transformers model in `folder` (None when it can)."""
    for name in (WEIGHTS, TOKENIZER, "config.json", "modules.json"):
        if not (folder / name).is_file():
            return f"no {name}"
    config = _json(folder / "config.json") or {}
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
        return "not a BERT model with GELU"
    if config.get("position_embedding_type", "absolute") != "absolute":
        return "not absolute position embeddings"
    modules = [m.get("type", "").rsplit(".", 1)[-1] for m in (_json(folder / "modules.json") or [])]
    if modules[:2] != ["Transformer", "Pooling"] or not set(modules[2:]) <= {"Normalize"}:
        return f"modules {modules}: only Transformer, Pooling (mean) and Normalize are covered"
    prompts = (_json(folder / "config_sentence_transformers.json") or {}).get("prompts") or {}
    if any(prompts.values()):
        return "the model uses prompts (query:/passage:): only models without them are covered"
    pooling_path = next(m.get("path", "") for m in _json(folder / "modules.json") if m["type"].endswith("Pooling"))
    pooling = _json(folder / pooling_path / "config.json") or {}
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if modes != ["pooling_mode_mean_tokens"]:
        return f"pooling {modes}: only mean pooling is covered"
    return None


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), vectorized: numpy has no erf of its own."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))
    ))))  # fmt: skip
    erfc = t * np.exp(poly)
    return np.where(x >= 0, 1.0 - erfc, erfc - 1.0).astype(x.dtype, copy=False)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, -1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def _mapped(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file as read-only views of the file mapped into memory: nothing is read
    until used (a query touches a few rows of the 47 MB word-embedding table), so loading takes milliseconds.
    Tensors not in float32 are converted (copied)."""
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{name}: dtype {info['dtype']} is not covered")
        start, end = info["data_offsets"]
        array = np.asarray(data[start:end]).view(_DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = array if array.dtype == np.float32 else array.astype(np.float32)
    return tensors


class LeanBert:
    """all-MiniLM-L6-v2 (or another model `unsupported` accepts) in numpy: `embed(texts) -> (n, dim)` float32,
    L2-normalized when the model normalizes."""

    def __init__(self, folder: str | Path):
        from tokenizers import Tokenizer

        folder = Path(folder)
        if reason := unsupported(folder):
            raise ValueError(f"{folder}: {reason}")
        config = _json(folder / "config.json")
        st_config = _json(folder / "sentence_bert_config.json") or {}
        self.heads, self.eps = int(config["num_attention_heads"]), float(config.get("layer_norm_eps", 1e-12))
        self.layers, self.dim = int(config["num_hidden_layers"]), int(config["hidden_size"])
        self.max_tokens = int(st_config.get("max_seq_length") or config.get("max_position_embeddings", 512))
        self.normalize = "Normalize" in json.dumps(_json(folder / "modules.json"))
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        raw = _mapped(folder / WEIGHTS)
        prefix = "bert." if any(k.startswith("bert.") for k in raw) else ""
        self.w = {k.removeprefix(prefix): np.ascontiguousarray(v, dtype=np.float32) for k, v in raw.items()}
        for n in range(self.layers):  # one (dim, 3 dim) matrix for query, key and value: one product, not three
            at = f"encoder.layer.{n}.attention.self."
            parts = [at + p for p in ("query", "key", "value")]
            self.w[at + "qkv.weight"] = np.ascontiguousarray(
                np.concatenate([self.w[p + ".weight"].T for p in parts], 1)
            )
            self.w[at + "qkv.bias"] = np.concatenate([self.w[p + ".bias"] for p in parts])
            for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
                key = f"encoder.layer.{n}.{name}.weight"
                self.w[key] = np.ascontiguousarray(self.w[key].T)  # x @ W, stored once the way it is used

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        out = np.empty((len(texts), self.dim), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # similar lengths pad little
        start = 0
        while start < len(order):
            longest = len(encodings[order[start]].ids)
            stop = start + 1
            while stop < len(order):
                longest = max(longest, len(encodings[order[stop]].ids))
                if (stop + 1 - start) * longest > MAX_TOKENS_PER_CALL:
                    break
                stop += 1
            group = order[start:stop]
            out[group] = self._forward([encodings[i] for i in group])
            start = stop
        return out

    def _forward(self, encodings) -> np.ndarray:
        w, rows = self.w, len(encodings)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((rows, length), np.int64)
        types = np.zeros((rows, length), np.int64)
        mask = np.zeros((rows, length), np.float32)
        for r, e in enumerate(encodings):
            ids[r, : len(e.ids)], types[r, : len(e.ids)], mask[r, : len(e.ids)] = e.ids, e.type_ids, 1.0
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        heads, size = self.heads, self.dim // self.heads
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]  # padding gets no attention
        scale = np.float32(1.0 / math.sqrt(size))
        for n in range(self.layers):
            p = f"encoder.layer.{n}."
            qkv = x @ w[p + "attention.self.qkv.weight"] + w[p + "attention.self.qkv.bias"]
            qkv = qkv.reshape(rows, length, 3, heads, size).transpose(2, 0, 3, 1, 4)  # 3, rows, heads, len, size
            # contiguous operands: numpy's matmul hands stacked matrices to BLAS only when they are
            q, k_t, v = (np.ascontiguousarray(a) for a in (qkv[0] * scale, qkv[1].transpose(0, 1, 3, 2), qkv[2]))
            scores = q @ k_t + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(rows, length, self.dim)
            attended = context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                attended + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )  # fmt: skip
            h = x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"]
            h = 0.5 * h * (1.0 + _erf(h * np.float32(1.0 / math.sqrt(2.0))))
            h = h @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(h + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        if self.normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32, copy=False)
