"""spaCy ``Doc._`` extensions set by sourcetrace's components (an opt-in layer).

    doc._.boilerplate    tuple[Span, ...]        aggregator residue, never mined (clean.py)
    doc._.attributions   tuple[Attribution, ...] found by the attribution component
    doc._.sources        tuple[Source, ...]      the article's source registry (sources.py)
    doc._.assertions     tuple[Assertion, ...]   unattributed assertions (assertions.py)
    doc._.profile        dict | None             sourcing profile (profile.py)
"""
from __future__ import annotations

_NAMES = {
    "boilerplate": None,
    "attributions": None,
    "sources": None,
    "assertions": None,
    "profile": None,
}


def register() -> None:
    """Register the extensions on spaCy's Doc (idempotent)."""
    from spacy.tokens import Doc

    for name, default in _NAMES.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)
