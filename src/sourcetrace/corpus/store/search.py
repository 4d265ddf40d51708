"""Full-text search over the store's claims and fact-checks (migration 0008).

SQLite keeps an FTS5 table per collection (``claims_fts``, ``factchecks_fts``: the claim text
with the Porter stemmer), filled lazily: before a search, the rows added since the last one
are indexed (one INSERT ... SELECT; a store opened read-only searches what is indexed).
PostgreSQL has a GIN index over ``to_tsvector('english', ...)`` of the same text and needs no
filling. The query is the words of the text joined by OR and ranked by BM25 (SQLite) or
``ts_rank_cd`` (PostgreSQL), so a claim that shares its rare words with the query comes first.

    search_text(store, "claims", "300 troops refused orders", 50)   # [(id, score), ...]

``None`` (not an empty list) when the store cannot search text (the in-memory store, or a
store without SQL): the caller then indexes the texts itself. The SQL is the dialect's
(``dialects.Dialect.claim_search``).
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["search_text", "query_words", "STOPWORDS"]

STOPWORDS = frozenset("""a about above after again against all am an and any are as at be because
been before being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not of off on once only or other our ours ourselves
out over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours yourself yourselves says said say also""".split())

_WORD = re.compile(r"[a-z0-9]+")
MAX_WORDS = 24


def query_words(text: str) -> list[str]:
    """The words searched for: lower case, letters and digits, no stop words, each once."""
    out: list[str] = []
    for w in _WORD.findall(text.lower()):
        if w not in STOPWORDS and (len(w) > 1 or w.isdigit()) and w not in out:
            out.append(w)
    return out[:MAX_WORDS]


def search_text(store: Any, table: str, text: str, limit: int) -> list[tuple[str, float]] | None:
    """Up to ``limit`` (id, score) of ``table`` ("claims" or "factchecks") whose text shares
    words with ``text``, best first; None when the store has no text search."""
    if table not in ("claims", "factchecks"):
        raise ValueError(table)
    dialect = getattr(store, "dialect", None)
    if dialect is None or getattr(store, "backend", None) == "memory":
        return None
    return dialect.claim_search(store, table, query_words(text), limit)
