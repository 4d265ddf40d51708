"""The source lexicons: word lists read once from ``lexicons/sources_*.txt`` (by the
lexicon reader of config.py) and lookups in them."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable

from ..config import LEXICON_DIR, read_sections, read_table  # noqa: F401  LEXICON_DIR: for callers


def phrase_regex(phrases: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive regex matching any of the phrases on word boundaries."""
    items = sorted({p for p in phrases if p}, key=len, reverse=True)
    body = "|".join(re.escape(p) for p in items) or r"(?!x)x"
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class _Lexicons:
    identity: dict[str, frozenset[str]]
    kinds: dict[str, frozenset[str]]
    anonymity: re.Pattern[str]
    unspecified_cue: re.Pattern[str]
    phrases: dict[str, re.Pattern[str]]
    outlets: re.Pattern[str]
    channels: tuple[tuple[re.Pattern[str], str, str], ...]
    honorifics: dict[str, str]
    first_names: dict[str, str]


@functools.lru_cache(maxsize=1)
def lexicons() -> _Lexicons:
    """The source lexicons, read once from the data files."""
    ident = read_sections("sources_identity.txt", lower=True)
    kinds = read_sections("sources_kinds.txt", lower=True)
    outlet_names = kinds.get("media_outlet", [])
    outlet_alt = "|".join(re.escape(o) for o in sorted(outlet_names, key=len, reverse=True))
    outlet_group = rf"(?P<outlet>(?=[A-Z0-9])(?:{outlet_alt}))(?![\w-])"
    channels = []
    for row in read_table("sources_channels.txt"):
        if len(row) < 2:
            continue
        pattern = row[0].replace("{outlet}", outlet_group)
        channels.append((re.compile(pattern, re.IGNORECASE), row[1], row[2] if len(row) > 2 else ""))
    honorifics = {row[0].lower(): row[1] for row in read_table("sources_honorifics.txt") if len(row) >= 2}
    first_names = {row[0].lower(): row[1] for row in read_table("sources_first_names.txt") if len(row) >= 2}
    multi = {key: phrase_regex(v for v in words if " " in v or "-" in v or "." in v)
             for key, words in kinds.items()}
    return _Lexicons(
        identity={k: frozenset(v) for k, v in ident.items()},
        kinds={k: frozenset(v) for k, v in kinds.items()},
        anonymity=phrase_regex(ident.get("anonymity", [])),
        unspecified_cue=phrase_regex(ident.get("unspecified_cue", [])),
        phrases=multi,
        outlets=re.compile(rf"(?<![\w-])(?=[A-Z0-9])(?:{outlet_alt})(?![\w-])", re.IGNORECASE),
        channels=tuple(channels),
        honorifics=honorifics,
        first_names=first_names,
    )


def _words(text: str) -> list[str]:
    return [w.strip(".,;:'’\"()").lower() for w in text.split() if w.strip(".,;:'’\"()")]


def _has(lex: _Lexicons, section: str, words: Iterable[str], text: str = "") -> str | None:
    """The first word (or multi-word phrase in ``text``) of ``section`` found, or None."""
    vocab = lex.kinds.get(section) or lex.identity.get(section) or frozenset()
    for w in words:
        if w in vocab:
            return w
    if text:
        rx = lex.phrases.get(section)
        if rx is not None:
            hit = rx.search(text)
            if hit:
                return hit.group(0).lower()
    return None
