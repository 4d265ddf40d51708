"""The attribution lexicons, loaded once from the data files in ``sourcetrace/lexicons``.

File formats (``#`` starts a comment, blank lines are ignored):

    attribution_verbs.txt   LEMMA <TAB> FRAME:CONFIDENCE,...
                            frames under which the verb is a cue: ccomp (that-clause),
                            xcomp (to-infinitive), dobj (object), prep (phrasal object,
                            "talk about"), passive, quote (takes a direct quotation)
    attribution_nouns.txt   LEMMA <TAB> FRAME:CONFIDENCE,...
                            frames: that (claim that ...), of (reports of ...),
                            there (there are reports ...)
    attribution_adjectives.txt  the same for stance adjectives ("hopeful that", "critical of")
    attribution_words.txt   KEY <TAB> WORD   small closed word lists (see the file)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..config import LEXICON_DIR, read_table  # noqa: F401  LEXICON_DIR: where they live


@dataclass(frozen=True)
class Entry:
    """A cue word and, per frame it is a cue under, a confidence in [0, 1]."""

    lemma: str
    frames: dict[str, float]

    @property
    def confidence(self) -> float:
        return max(self.frames.values(), default=0.5)

    def conf(self, frame: str) -> float:
        return self.frames.get(frame, self.confidence)


@dataclass(frozen=True)
class Lexicons:
    verbs: dict[str, Entry]
    nouns: dict[str, Entry]
    adjectives: dict[str, Entry] = field(default_factory=dict)
    words: dict[str, frozenset[str]] = field(default_factory=dict)
    hashes: dict[str, frozenset[int]] = field(default_factory=dict)

    def word_set(self, key: str) -> frozenset[str]:
        return self.words.get(key, frozenset())


def _entries(name: str) -> dict[str, Entry]:
    out = {}
    for parts in read_table(name):
        lemma = parts[0].lower()
        frames = {}
        for item in (parts[1] if len(parts) > 1 else "").split(","):
            name, _, conf = item.strip().partition(":")
            if name:
                frames[name] = float(conf) if conf else 0.5
        out[lemma] = Entry(lemma, frames)
    return out


def load() -> Lexicons:
    """Read the lexicon files (call once, e.g. in a component's __init__)."""
    words: dict[str, set[str]] = {}
    for parts in read_table("attribution_words.txt"):
        if len(parts) >= 2:
            words.setdefault(parts[0], set()).add(parts[1].lower())
    from spacy.strings import hash_string

    verbs = _entries("attribution_verbs.txt")
    nouns = _entries("attribution_nouns.txt")
    adjectives = _entries("attribution_adjectives.txt")
    hashed = lambda names: frozenset(hash_string(n) for n in names)
    return Lexicons(
        verbs=verbs, nouns=nouns, adjectives=adjectives,
        words={k: frozenset(v) for k, v in words.items()},
        # string hashes (as spaCy stores lemmas) to pick candidate tokens fast
        hashes={"verbs": hashed(verbs), "nouns": hashed(nouns) | hashed({"there"}),
                "adjectives": hashed(adjectives) | hashed(words.get("made_adjectives", ())),
                "according": hashed({"according"}), "in": hashed({"in"})},
    )
