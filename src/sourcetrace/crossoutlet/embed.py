"""Sentence embeddings for claim matching, offline and without torch.

The model is all-MiniLM-L6-v2 (Apache-2.0), exported once to ONNX and
quantized to int8 by ``scripts/export_minilm.py``; the file ships in the
package under ``models/minilm/`` with its tokenizer and license. It runs on
onnxruntime + tokenizers: mean pooling over the last hidden state, then L2
normalisation, as sentence-transformers does, so the dot product of two
vectors is their cosine.

    embedder = get_embedder()          # loaded once per process, on first use
    vectors = embedder.encode(["Kyiv claims ...", "..."])   # float32, (n, 384)

Nothing is downloaded: a missing or broken model file raises ModelError.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "minilm"
DIMENSIONS = 384
MAX_TOKENS = 256          # all-MiniLM-L6-v2's max_seq_length
DEFAULT_BATCH = 1         # see Embedder.encode: batching trades determinism for speed

__all__ = ["Embedder", "get_embedder", "load_onnx", "DIMENSIONS", "MODEL_DIR"]


def load_onnx(model_dir: Path, *, threads: int, what: str, rebuild: str, extra: tuple = ()):
    """The tokenizer and the onnxruntime session of one packaged MiniLM model folder
    (``model.onnx``, ``tokenizer.json`` and any ``extra`` files it needs): ModelError naming
    ``what`` and the script that rebuilds it when a file is missing or does not load."""
    for name in ("model.onnx", "tokenizer.json", *extra):
        if not (model_dir / name).is_file():
            raise ModelError(f"{what} file missing: {model_dir / name}",
                             hint=f"reinstall sourcetrace, or rebuild it with {rebuild}")
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover - both are core dependencies
        raise ModelError(f"cannot import {exc.name}",
                         hint="pip install onnxruntime==1.31.1 tokenizers==0.23.3") from exc
    try:
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # idle threads sleep instead of spinning: spinning burnt 2.5x the CPU of the work
        # itself for the embeddings of an ingest on two shared cores (bench/RESULTS.md), and
        # the vectors are the same bit for bit
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(model_dir / "model.onnx"), options,
                                       providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime and tokenizers raise plain exceptions
        raise ModelError(f"cannot load the {what} from {model_dir}: {exc}",
                         hint=f"rebuild it with {rebuild}") from exc
    return tokenizer, session


class Embedder:
    """The ONNX sentence encoder. ``threads`` = 0 lets onnxruntime choose."""

    def __init__(self, model_dir: Path | str = MODEL_DIR, *, threads: int = 0,
                 max_tokens: int = MAX_TOKENS) -> None:
        self.tokenizer, self.session = load_onnx(
            Path(model_dir), threads=threads, what="embedding model",
            rebuild="scripts/export_minilm.py")
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.no_padding()
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text (empty input -> shape (0, 384)).

        With the default ``batch_size=1`` a text always gets the same vector. The
        int8 model quantizes activations with one scale per input tensor, so in a
        batch the other texts (and the padding) shift a vector slightly (cosine to
        itself about 0.99); larger batches are about 1.5x faster for bulk work.
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of strings, not one string")
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not len(texts):
            return out
        # Sort by length so each batch pads little; put rows back in order at the end.
        encodings = self.tokenizer.encode_batch([t if t else " " for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for b in range(0, len(order), batch_size):
            rows = order[b:b + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            with self._lock:
                hidden = self.session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled / np.clip(norms, 1e-12, None)
        return out


_EMBEDDER: Embedder | None = None
_EMBEDDER_LOCK = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder, loaded on first use (the same for every caller)."""
    global _EMBEDDER
    with _EMBEDDER_LOCK:
        if _EMBEDDER is None:
            _EMBEDDER = Embedder()
        return _EMBEDDER
