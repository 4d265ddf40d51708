"""The transformer role tagger (the accurate setting): MiniLM fine-tuned for BIO role tags.

A fine-tuned all-MiniLM-L6-v2 with a token-classification head (labels O, B/I-SRC,
B/I-CUE, B/I-CON), exported to ONNX int8 and run by onnxruntime: no torch at run time.
Trained by train/transformer_tagger.py (``sourcetrace train --setting accurate``).

    windows(n, size, stride)        overlapping wordpiece windows over a long article
    char_roles(text, attributions)  per-character gold roles (what training labels read)
    wordpiece_labels(...)           BIO label ids of wordpieces from character roles
    TransformerTagger(folder)       onnxruntime session: text -> per-wordpiece label
                                    probabilities (windows merged) -> per spaCy token

The windowing and labelling helpers import only numpy at module level, so that the
training script (in a venv with torch, without sourcetrace installed) loads this file
directly and both sides cut windows the same way.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy

LABELS = ("O", "B-SRC", "I-SRC", "B-CUE", "I-CUE", "B-CON", "I-CON")
ROLE_KEYS = (("SRC", "source"), ("CUE", "cue"), ("CON", "content"))
_ROLE_ID = {"SRC": 1, "CUE": 2, "CON": 3}
CLS_ID, SEP_ID, PAD_ID = 101, 102, 0
MODEL_FOLDER = "roles-transformer"      # under sourcetrace/models/
CONFIG_NAME = "roles-transformer.json"  # the training config, beside it


def windows(n: int, size: int, stride: int) -> list[tuple[int, int]]:
    """[start, end) wordpiece ranges of at most ``size`` covering ``0..n``, each starting
    ``stride`` after the previous one (so consecutive windows overlap by size - stride);
    the last window ends at ``n``."""
    if size <= 0 or stride <= 0 or stride > size:
        raise ValueError(f"bad window size/stride: {size}/{stride}")
    if n <= size:
        return [(0, n)] if n else []
    out = []
    start = 0
    while True:
        end = min(start + size, n)
        out.append((start, end))
        if end == n:
            break
        start += stride
    last_start, _ = out[-1]
    if out[-1][1] - last_start < size and len(out) > 1:   # full-size last window
        out[-1] = (n - size, n)
    return out


def window_weights(length: int, start: int, end: int, n: int) -> numpy.ndarray:
    """Weights of a window's positions when overlapping windows are averaged: positions
    near a window's inner edges (little context on one side) count less."""
    pos = numpy.arange(start, end)
    left = pos - start + 1 if start > 0 else numpy.full(length, length)
    right = end - pos if end < n else numpy.full(length, length)
    return numpy.minimum(left, right).astype(numpy.float32)


def char_roles(text: str, attributions: Sequence[dict]) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Per-character role codes (0 none, 1 SRC, 2 CUE, 3 CON) and span ids (-1 none).

    As in learned.gold_tags, the first attribution (and within it source, cue,
    content) that claims a character keeps it.
    """
    roles = numpy.zeros(len(text), dtype=numpy.int8)
    span_id = numpy.full(len(text), -1, dtype=numpy.int32)
    k = 0
    for att in attributions:
        for role, key in ROLE_KEYS:
            for s, e in att.get(key) or []:
                s, e = max(0, int(s)), min(len(text), int(e))
                if e <= s:
                    continue
                free = roles[s:e] == 0
                roles[s:e][free] = _ROLE_ID[role]
                span_id[s:e][free] = k
                k += 1
    return roles, span_id


def wordpiece_labels(offsets: Sequence[tuple[int, int]], text: str, roles: numpy.ndarray,
                     span_id: numpy.ndarray) -> numpy.ndarray:
    """Label ids (index into LABELS) of wordpieces with character ``offsets``: the role
    of the wordpiece's first character; B- where it starts a gold span, I- after."""
    out = numpy.zeros(len(offsets), dtype=numpy.int64)
    prev_span = -1
    for i, (s, e) in enumerate(offsets):
        if e <= s or s >= len(roles):
            prev_span = -1
            continue
        r = int(roles[s])
        if r == 0:
            prev_span = -1
            continue
        sid = int(span_id[s])
        out[i] = 2 * r - 1 if sid != prev_span else 2 * r
        prev_span = sid
    return out


def encode(tokenizer, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Wordpiece ids and character offsets of a whole text (no special tokens)."""
    enc = tokenizer.encode(text, add_special_tokens=False)
    return list(enc.ids), [tuple(o) for o in enc.offsets]


def window_batch(ids: Sequence[int], spans: Sequence[tuple[int, int]]) -> dict[str, numpy.ndarray]:
    """ONNX/torch feeds for windows of ``ids``: [CLS] piece [SEP], padded."""
    width = max(e - s for s, e in spans) + 2
    input_ids = numpy.full((len(spans), width), PAD_ID, dtype=numpy.int64)
    mask = numpy.zeros((len(spans), width), dtype=numpy.int64)
    for row, (s, e) in enumerate(spans):
        piece = [CLS_ID, *ids[s:e], SEP_ID]
        input_ids[row, :len(piece)] = piece
        mask[row, :len(piece)] = 1
    return {"input_ids": input_ids, "attention_mask": mask,
            "token_type_ids": numpy.zeros_like(input_ids)}


def _softmax(x: numpy.ndarray) -> numpy.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    e = numpy.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def load_config(folder: Path | None = None) -> dict[str, Any]:
    """The training config shipped in the package (or ``folder/config.json``)."""
    if folder is not None and (Path(folder) / "config.json").is_file():
        return json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    from importlib import resources

    return json.loads(resources.files("sourcetrace").joinpath("models", CONFIG_NAME)
                      .read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- run time

def _token_pieces(doc, starts: numpy.ndarray, ends: numpy.ndarray) -> numpy.ndarray:
    """For each token of ``doc``, the wordpiece that covers its first character or
    starts inside it (-1 for whitespace tokens and characters the tokenizer drops)."""
    out = numpy.full(len(doc), -1, dtype=numpy.int64)
    if not len(starts):
        return out
    for tok in doc:
        if tok.is_space:
            continue
        a, b = tok.idx, tok.idx + len(tok.text)
        k = int(numpy.searchsorted(starts, a, side="right")) - 1
        if k >= 0 and ends[k] > a:
            out[tok.i] = k
        elif k + 1 < len(starts) and starts[k + 1] < b:
            out[tok.i] = k + 1
    return out


class TransformerTagger:
    """The fine-tuned MiniLM role tagger (ONNX int8) of a model folder:
    ``model.onnx``, ``tokenizer.json``, ``component.json`` (labels, window, stride)."""

    def __init__(self, folder, *, threads: int | None = None, batch_size: int = 8) -> None:
        from ..errors import ModelError

        folder = Path(folder)
        info_path = folder / "component.json"
        for path in (info_path, folder / "model.onnx", folder / "tokenizer.json"):
            if not path.is_file():
                raise ModelError(f"transformer role tagger file missing: {path}",
                                 hint="reinstall sourcetrace, or rebuild it with "
                                      "`sourcetrace train --setting accurate` and "
                                      "scripts/export_role_tagger.py")
        info = json.loads(info_path.read_text(encoding="utf-8"))
        self.labels = tuple(info.get("labels", LABELS))
        if self.labels != LABELS:
            raise ModelError(f"{info_path}: unexpected labels {self.labels}",
                             hint="re-export the model with scripts/export_role_tagger.py")
        self.window = int(info.get("window", 160))
        self.stride = int(info.get("stride", 112))
        self.batch_size = batch_size
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            options = ort.SessionOptions()
            options.intra_op_num_threads = int(threads or info.get("threads", 1))
            options.inter_op_num_threads = 1
            # with several threads, idle ones sleep instead of spinning (as embed.load_onnx)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.session = ort.InferenceSession(str(folder / "model.onnx"), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:   # onnxruntime and tokenizers raise plain exceptions
            raise ModelError(f"cannot load the transformer role tagger from {folder}: {exc}",
                             hint="re-export it with scripts/export_role_tagger.py") from exc
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self._inputs = {i.name for i in self.session.get_inputs()}

    def piece_probabilities(self, text: str) -> tuple[numpy.ndarray, numpy.ndarray]:
        """(offsets [n, 2], label probabilities [n, 7]) of the wordpieces of ``text``;
        overlapping windows are averaged, weighted towards each window's centre."""
        ids, offsets = encode(self.tokenizer, text)
        n = len(ids)
        probs = numpy.zeros((n, len(LABELS)), dtype=numpy.float32)
        offs = numpy.array(offsets, dtype=numpy.int64).reshape(n, 2)
        if not n:
            return offs, probs
        spans = windows(n, self.window - 2, self.stride)
        weight = numpy.zeros(n, dtype=numpy.float32)
        for k in range(0, len(spans), self.batch_size):
            chunk = spans[k:k + self.batch_size]
            feeds = window_batch(ids, chunk)
            logits = self.session.run(None, {name: feeds[name] for name in self._inputs})[0]
            p = _softmax(logits.astype(numpy.float32))
            for row, (s, e) in enumerate(chunk):
                w = window_weights(e - s, s, e, n)
                probs[s:e] += p[row, 1:e - s + 1] * w[:, None]
                weight[s:e] += w
        return offs, probs / weight[:, None]

    def token_scores(self, doc) -> numpy.ndarray:
        """Label probabilities [len(doc), 7] for the tokens of a spaCy Doc: a token reads
        its first wordpiece; a whitespace token takes the inside labels of its neighbours."""
        offs, probs = self.piece_probabilities(doc.text)
        scores = numpy.zeros((len(doc), len(LABELS)), dtype=numpy.float32)
        if not len(doc):
            return scores
        piece = _token_pieces(doc, offs[:, 0], offs[:, 1])
        has = piece >= 0
        scores[has] = probs[piece[has]]
        missing = numpy.flatnonzero(~has)
        if len(missing):
            known = numpy.flatnonzero(has)
            for i in missing:
                if not len(known):
                    scores[i, 0] = 1.0
                    continue
                j = int(numpy.searchsorted(known, i))
                prev = scores[known[j - 1]] if j > 0 else None
                nxt = scores[known[j]] if j < len(known) else None
                if prev is None or nxt is None:
                    scores[i, 0] = 1.0       # leading/trailing whitespace: outside
                    continue
                # inside role r only where the previous token is in r and the next one
                # continues it (I-r, not a new B-r)
                for r in (1, 3, 5):
                    scores[i, r + 1] = min(float(prev[r] + prev[r + 1]), float(nxt[r + 1]))
                scores[i, 0] = max(0.0, 1.0 - float(scores[i, 1:].sum()))
        return scores


FACTORY = "sourcetrace_roles_transformer"


class RoleComponent:
    """A spaCy pipeline component around TransformerTagger that writes what the spaCy
    role tagger writes (learned.py): ``doc._.roles`` (BIO labels, Viterbi-decoded) and
    the per-token probabilities in ``doc.user_data`` for confidences and support."""

    def __init__(self, nlp, name: str, folder: str) -> None:
        self.name = name
        self.folder = folder
        self.tagger = TransformerTagger(folder)
        self.labels = self.tagger.labels
        info = json.loads((Path(folder) / "component.json").read_text(encoding="utf-8"))
        self.combine = info.get("combine")   # thresholds for learned.combined, if tuned

    def __call__(self, doc):
        from .bio import viterbi

        scores = self.tagger.token_scores(doc)
        doc.user_data["sourcetrace_role_scores"] = scores
        doc.user_data["sourcetrace_role_labels"] = self.labels
        if getattr(self, "combine", None):
            doc.user_data["sourcetrace_role_combine"] = dict(self.combine)
        tags = viterbi(scores, self.labels) if len(doc) else ()
        doc._.roles = tuple(self.labels[int(t)] for t in tags)
        return doc

    def pipe(self, docs, batch_size: int = 16):
        for doc in docs:
            yield self(doc)


def register() -> None:
    """Register the component factory (idempotent)."""
    from spacy.language import Language

    if not Language.has_factory(FACTORY):
        Language.factory(FACTORY, default_config={"folder": ""})(make_component)


def make_component(nlp, name: str, folder: str) -> RoleComponent:
    return RoleComponent(nlp, name, folder)


def is_transformer_folder(folder) -> bool:
    """Whether a model folder holds the transformer tagger (component.json kind)."""
    info = Path(folder) / "component.json"
    if not info.is_file():
        return False
    try:
        return json.loads(info.read_text(encoding="utf-8")).get("kind") == "transformer"
    except ValueError:
        return False
