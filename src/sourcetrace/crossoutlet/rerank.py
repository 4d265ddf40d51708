"""The claim reranker: a cross-encoder that reads two texts together and scores whether they
state the same claim.

The model is all-MiniLM-L6-v2 (Apache-2.0) fine-tuned as a cross-encoder by
``train/train_reranker.py`` (CLEF 2020 CheckThat! Task 2 train tweets and their fact-checks
with hard negatives, and PolNeAR train claims with their sentences, synonym rewrites and
copies with a number, a date, a negation or an actor changed), exported to ONNX and quantized
to int8; it ships under ``models/reranker/`` with its tokenizer, license and
``calibration.json``. It runs on onnxruntime + tokenizers, without torch:

    reranker = get_reranker()                       # loaded once per process
    logits = reranker.score("300 troops refused", ["Some 300 soldiers would not obey", ...])
    reranker.probability(logits, cosines)           # calibrated P(same claim)

``calibration.json`` (written by ``bench/eval_match.py --calibrate``) holds the rank score
(the logit plus a weight times the embedding cosine), its Platt scaling to a probability, and
the thresholds of the `same` verdict, all fitted on held-out pairs (CLEF train tweets never
trained on, and a held-out quarter of the PolNeAR pairs). Nothing is downloaded: a missing model raises ModelError.
"""
from __future__ import annotations

import json
import math
import re
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError
from .embed import load_onnx

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "reranker"
MAX_TOKENS = 128
DEFAULT_BATCH = 16

__all__ = ["Reranker", "get_reranker", "normalise", "MODEL_DIR"]

_URL = re.compile(r"https?://\S+|pic\.twitter\.com/\S+|www\.\S+")


def normalise(text: str) -> str:
    """The text the model reads: links dropped, white space collapsed (as in training)."""
    return " ".join(_URL.sub(" ", text).split())


class Reranker:
    """The ONNX cross-encoder and its calibration. ``threads`` = 0 lets onnxruntime choose."""

    def __init__(self, model_dir: Path | str = MODEL_DIR, *, threads: int = 0) -> None:
        model_dir = Path(model_dir)
        self.tokenizer, self.session = load_onnx(
            model_dir, threads=threads, what="reranker model", extra=("calibration.json",),
            rebuild="train/train_reranker.py and bench/eval_match.py --calibrate")
        try:
            self.calibration = json.loads(
                (model_dir / "calibration.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read the reranker's calibration in {model_dir}: {exc}",
                             hint="rebuild it with bench/eval_match.py --calibrate") from exc
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="longest_first")
        self.tokenizer.no_padding()
        self._lock = threading.Lock()

    def score(self, query: str, texts: Sequence[str], *, batch_size: int = DEFAULT_BATCH
              ) -> np.ndarray:
        """The logit that ``query`` and each of ``texts`` state the same claim (float32)."""
        return self.score_pairs([(query, t) for t in texts], batch_size=batch_size)

    def score_pairs(self, pairs: Sequence[tuple[str, str]], *, batch_size: int = DEFAULT_BATCH
                    ) -> np.ndarray:
        out = np.zeros(len(pairs), dtype=np.float32)
        if not pairs:
            return out
        enc = self.tokenizer.encode_batch([(normalise(a) or " ", normalise(b) or " ")
                                           for a, b in pairs])
        order = sorted(range(len(pairs)), key=lambda i: len(enc[i].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            width = max(len(enc[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for r, i in enumerate(rows):
                n = len(enc[i].ids)
                ids[r, :n] = enc[i].ids
                mask[r, :n] = 1
                types[r, :n] = enc[i].type_ids
            with self._lock:
                logits = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                                 "token_type_ids": types})[0]
            out[rows] = np.asarray(logits, dtype=np.float32).reshape(-1)
        return out

    def rank_score(self, logits: np.ndarray, cosines: np.ndarray) -> np.ndarray:
        """The score hits are ranked by: logit + cosine_weight * cosine (calibration.json)."""
        return np.asarray(logits, np.float64) \
            + float(self.calibration["cosine_weight"]) * np.asarray(cosines, np.float64)

    def probability(self, logits: np.ndarray, cosines: np.ndarray) -> np.ndarray:
        """Calibrated probabilities that each pair states the same claim (Platt scaling of
        the rank score, fitted on held-out pairs)."""
        c = self.calibration
        z = c["slope"] * self.rank_score(logits, cosines) + c["intercept"]
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    @property
    def same_threshold(self) -> float:
        """The probability a `same` hit reaches."""
        return float(self.calibration["same"])

    @property
    def related_threshold(self) -> float:
        return float(self.calibration.get("related", 0.05))

    @property
    def min_logit(self) -> float:
        """The logit a `same` hit reaches (the cross-encoder alone must not disagree)."""
        return float(self.calibration.get("min_logit", -99.0))

    @property
    def same_margin(self) -> float:
        """A `same` hit's rank score is at most this far below the best hit's."""
        return float(self.calibration.get("same_margin", 99.0))


_RERANKER: Reranker | None = None
_RERANKER_LOCK = threading.Lock()


def get_reranker() -> Reranker:
    """The process-wide reranker, loaded on first use."""
    global _RERANKER
    with _RERANKER_LOCK:
        if _RERANKER is None:
            _RERANKER = Reranker()
        return _RERANKER


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, x))))
