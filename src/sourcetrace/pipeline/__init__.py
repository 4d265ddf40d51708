"""The orchestrator: input -> clean -> spaCy + attribution -> sources -> assertions -> profile.

Each stage lives in its own module; this one only ties them together so that the CLI,
the HTTP API, the web UI and the batch runner all call the same functions:

    analyze(text_or_html)          one article given as a string (text or HTML) or bytes
    analyze_target(path_or_url)    a file path, a URL or "-" (stdin)
    analyze_documents(documents)   many inputs.Document, streamed through nlp.pipe
    build_analysis(doc)            resolve -> assertions -> profile on a parsed Doc: records
    annotate(doc)                  the same, set on the Doc's extensions
    analysis_from_doc(doc)         the records back from a Doc's extensions

The package's other modules do the rest: ``pipeline/chunking.py`` (long and odd inputs
through spaCy, the time budget) and ``pipeline/spacy_layer.py`` (loading spaCy, our
components and factories, the Doc extensions). Their public names are re-exported here.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterable, Iterator

from ..config import DEFAULT, Config
from ..inputs import clean
from ..inputs import read
from ..model import Analysis
from .chunking import CHUNK_CHARS, Deadline, long_doc, make_doc, split_chunks
from .spacy_layer import (ATTRIBUTIONS, COMPONENT, DEFAULT_MODEL, EXTENSIONS, MODEL_ALIASES,
                          PARAGRAPHS, SOURCES, SPAN_LABELS, SPANS_KEY, AttributionComponent,
                          SourcesComponent, SourcetraceComponent, doc_attributions,
                          doc_boilerplate, load, load_base, load_for, model_info,
                          paragraph_boundaries, register_components, register_extensions,
                          set_spans, spacy_load)

__all__ = ["ATTRIBUTIONS", "CHUNK_CHARS", "COMPONENT", "DEFAULT_MODEL", "EXTENSIONS",
           "MODEL_ALIASES", "PARAGRAPHS", "SOURCES", "SPAN_LABELS", "SPANS_KEY",
           "AttributionComponent", "Deadline", "SourcesComponent", "SourcetraceComponent",
           "analysis_from_doc", "analyze", "analyze_documents", "analyze_target", "annotate",
           "build_analysis", "doc_attributions", "doc_boilerplate", "load", "load_base",
           "load_for", "make_doc", "model_info", "paragraph_boundaries", "register_components",
           "register_extensions", "set_spans", "spacy_load", "split_chunks"]

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

    def finish(doc, document: read.Document, deadline: "Deadline") -> Analysis:
        if attributions_only:
            attributions = doc_attributions(doc)
            if not config.nested:
                attributions = tuple(a for a in attributions if a.parent is None)
            analysis = Analysis(text=document.text, attributions=attributions,
                                boilerplate=doc_boilerplate(doc),
                                meta=dict(document.meta), warnings=tuple(document.warnings))
        else:
            analysis = build_analysis(doc, document, config=config)
        if config.acts is not None or config.min_confidence > 0:
            from ..attribution.acts import select  # only what the reader asked to see

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
                deadline = Deadline(config.time_budget)
                doc = long_doc(nlp, document.text, deadline, size=CHUNK_CHARS,
                               skip=ATTRIBUTIONS)
                doc._.boilerplate = clean.find_boilerplate(document.text)
                if ATTRIBUTIONS in nlp.pipe_names:
                    doc = nlp.get_pipe(ATTRIBUTIONS)(doc)
                deadline.check("the attributions")
                yield finish(doc, document, deadline)
            continue
        for doc, document in nlp.pipe(prepared(group), as_tuples=True,
                                      batch_size=config.batch_size):
            # a batch shares spaCy's time: the budget counts from here for a short text
            yield finish(doc, document, Deadline(config.time_budget))



# --------------------------------------------------------------------------- records

def build_analysis(doc, document: read.Document | None = None, *,
                   config: Config = DEFAULT) -> Analysis:
    """Turn an annotated spaCy Doc into our records (sources, assertions, profile),
    and set the same records, as plain data, on the Doc's extensions and spans."""
    from ..sources import assertions, profile, resolve_sources

    register_extensions()
    attributions = doc_attributions(doc)
    if not config.nested:
        attributions = tuple(a for a in attributions if a.parent is None)
    boilerplate = doc_boilerplate(doc)
    attributions, registry = resolve_sources(doc, attributions)
    found = assertions.find_assertions(doc, attributions, boilerplate)
    analysis = Analysis(
        text=document.text if document is not None else doc.text,
        attributions=tuple(attributions),
        sources=tuple(registry),
        assertions=tuple(found),
        boilerplate=boilerplate,
        meta=dict(document.meta) if document is not None else {},
        warnings=tuple(document.warnings) if document is not None else (),
    )
    analysis = analysis.replace(profile=profile.build_profile(analysis))
    # the opt-in spaCy layer: the same records on the Doc, as plain data
    doc._.sources = analysis.sources
    doc._.attributions = analysis.attributions   # after the sources: the spans read both
    doc._.assertions, doc._.profile = analysis.assertions, analysis.profile
    return analysis


def annotate(doc):
    """Run sources, assertions and profile on a Doc that has ``doc._.attributions``
    (nested ones kept); set the Doc extensions. What ``sourcetrace_sources`` runs."""
    build_analysis(doc, config=Config(nested=True))
    return doc


def analysis_from_doc(doc) -> Analysis:
    """The records back from a Doc's extensions (e.g. after a DocBin round trip)."""
    from ..model import Assertion, Source

    register_extensions()
    return Analysis(text=doc.text, attributions=doc_attributions(doc),
                    sources=tuple(Source.from_dict(d) for d in doc._.sources or ()),
                    assertions=tuple(Assertion.from_dict(d) for d in doc._.assertions or ()),
                    boilerplate=doc_boilerplate(doc), profile=doc._.profile)


def __getattr__(name: str):
    # The ``spacy_factories`` entry points name ``sourcetrace.pipeline:factories``: spaCy
    # loads them when it builds a Language, and loading this name registers the
    # factories, so ``nlp.add_pipe("sourcetrace")`` works without importing sourcetrace.
    if name == "factories":
        register_components()
        return register_components
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
