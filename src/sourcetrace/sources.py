"""Sources: speakers resolved within the article and the source registry.

(Minimal version; being completed.)
"""
from __future__ import annotations

from .model import Attribution, Source


def resolve_sources(doc, attributions) -> tuple[tuple[Attribution, ...], tuple[Source, ...]]:
    return tuple(attributions), ()
