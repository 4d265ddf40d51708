"""The orchestrator: input -> clean -> spaCy + attribution -> sources -> assertions -> profile.

Each stage lives in its own module; this one only ties them together so that
the CLI, the HTTP API and the batch runner all call the same functions:

    analyze(text_or_html)          one article given as a string (text or HTML) or bytes
    analyze_target(path_or_url)    a file path, a URL or "-" (stdin)
    analyze_documents(documents)   many ingest.Document, streamed through nlp.pipe
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from . import clean, ingest
from . import nlp as nlp_mod
from .config import DEFAULT, Config
from .extensions import register
from .model import Analysis


def analyze(text_or_html: str | bytes, *, config: Config = DEFAULT,
            meta: dict[str, Any] | None = None) -> Analysis:
    """Analyse one article given as plain text or HTML (str or bytes)."""
    document = ingest.from_string(text_or_html, config=config, meta=meta)
    return next(analyze_documents([document], config=config))


def analyze_target(target: str, *, config: Config = DEFAULT) -> Analysis:
    """Analyse a file path (.txt, .html, .json, .jsonl: its first record), a URL, or "-"."""
    return next(analyze_documents([ingest.load(target, config=config)], config=config))


def analyze_documents(documents: Iterable[ingest.Document], *, config: Config = DEFAULT,
                      attributions_only: bool = False) -> Iterator[Analysis]:
    """Analyse documents in order, batching the spaCy work; yields one Analysis each.

    ``attributions_only`` skips the source registry, assertions and profile (what
    `sourcetrace extract` needs: spans only, as fast as possible).
    """
    register()
    nlp = nlp_mod.load_for(config)

    def prepared() -> Iterator[tuple[Any, ingest.Document]]:
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


def build_analysis(doc, document: ingest.Document, *, config: Config = DEFAULT) -> Analysis:
    """Turn an annotated spaCy Doc into our records (sources, assertions, profile)."""
    from . import assertions, profile, sources

    attributions = tuple(doc._.attributions or ())
    if not config.nested:
        attributions = tuple(a for a in attributions if a.parent is None)
    attributions, registry = sources.resolve_sources(doc, attributions)
    found = assertions.find_assertions(doc, attributions, doc._.boilerplate or ())
    analysis = Analysis(
        text=document.text,
        attributions=tuple(attributions),
        sources=tuple(registry),
        assertions=tuple(found),
        boilerplate=tuple(doc._.boilerplate or ()),
        meta=dict(document.meta),
        warnings=tuple(document.warnings),
    )
    analysis = analysis.replace(profile=profile.build_profile(analysis))
    # the opt-in spaCy layer: the same records on the Doc
    doc._.attributions, doc._.sources = analysis.attributions, analysis.sources
    doc._.assertions, doc._.profile = analysis.assertions, analysis.profile
    return analysis
