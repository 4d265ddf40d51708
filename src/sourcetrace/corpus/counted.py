"""What a corpus figure counts: which attributions (acts, confidence) and which voices.

    Selection(acts=("speech",), min_confidence=0.6)    the one choice every corpus
    DEFAULT_SELECTION                                   command, the API and the web UI take
    parse_selection("speech,belief", 0.6) -> Selection
    selection.describe() -> "acts speech; confidence >= 0.6"
    kept(rows, selection) -> {idx: parent}              one article's kept attributions,
                                                         parents re-hung on kept ancestors
    note_regions(text) -> [(start, end)]                editor's notes, captions, credits

PolNeAR, and so our extraction, counts beliefs ("thinks"), intentions ("plans to",
"vote") and findings ("a poll shows") as attributions beside speech. A researcher asking
"who is quoted" wants the speech, so every corpus figure (``sources``, ``report``,
``claims``, ``search``, ``export``, the API and the web UI) counts the attributions of
one ``Selection``, names it on its table, chart and export header, and defaults to
``DEFAULT_SELECTION``: speech at a confidence of at least 0.6 (a calibrated probability of
being right), the same default as the web UI's article view (config.WEB_ACTS,
config.WEB_MIN_CONFIDENCE). ``--acts all --min-confidence 0`` counts everything.

Attributions inside an editor's note, a caption or a credit (a paragraph that opens with
"Editor's note:", "Photo:", "Credit:" ...) are never counted: their "speaker" is page
furniture, not a source.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..config import WEB_ACTS, WEB_MIN_CONFIDENCE
from ..errors import InputError
from ..model import ACTS

__all__ = ["ALL", "DEFAULT_SELECTION", "Selection", "kept", "note_regions", "parse_selection"]

SPEECH = "speech"


@dataclass(frozen=True)
class Selection:
    """The attributions a corpus figure counts: ``acts`` (None: every act) at or above
    ``min_confidence``. An untyped attribution (stored before acts) counts as speech."""

    acts: tuple[str, ...] | None = tuple(WEB_ACTS)
    min_confidence: float = WEB_MIN_CONFIDENCE

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.min_confidence) <= 1.0:   # NaN fails too
            raise InputError(f"min confidence must be in [0, 1], got {self.min_confidence!r}",
                             hint="give --min-confidence 0.6, say (0 counts every attribution)")
        if self.acts is not None:
            unknown = [a for a in self.acts if a not in ACTS]
            if unknown or not self.acts:
                raise InputError(f"unknown act {', '.join(map(repr, unknown)) or '(none)'}",
                                 hint=f"use a comma-separated list of: {', '.join(ACTS)} (or all)")
            object.__setattr__(self, "acts", tuple(a for a in ACTS if a in self.acts))

    @property
    def everything(self) -> bool:
        return self.acts is None and self.min_confidence <= 0.0

    def keeps(self, act: str | None, confidence: float | None) -> bool:
        if confidence is not None and confidence < self.min_confidence:
            return False
        return self.acts is None or (act or SPEECH) in self.acts

    def acts_text(self) -> str:
        return "all acts" if self.acts is None else ",".join(self.acts)

    def describe(self) -> str:
        """One line for a table, a chart or an export header."""
        conf = f"confidence >= {self.min_confidence:g}" if self.min_confidence > 0 else "any confidence"
        return f"counted: {self.acts_text()}; {conf}"

    def to_dict(self) -> dict:
        return {"acts": list(self.acts) if self.acts is not None else list(ACTS),
                "all_acts": self.acts is None, "min_confidence": self.min_confidence,
                "describe": self.describe()}

    def sql(self, act: str = "act", confidence: str = "confidence", mark: str = "?") -> tuple[str, list]:
        """A WHERE condition on attribution columns and its parameters."""
        where, args = [], []
        if self.acts is not None:
            where.append(f"coalesce({act}, '{SPEECH}') IN ({', '.join(mark for _ in self.acts)})")
            args += list(self.acts)
        if self.min_confidence > 0:
            where.append(f"coalesce({confidence}, 1.0) >= {mark}")
            args.append(float(self.min_confidence))
        return (" AND ".join(where) or "1 = 1"), args


ALL = Selection(acts=None, min_confidence=0.0)
DEFAULT_SELECTION = Selection()


def parse_selection(acts: str | Iterable[str] | None = None,
                    min_confidence: float | None = None) -> Selection:
    """``--acts`` and ``--min-confidence`` as one Selection; None keeps each default.
    ``acts="all"`` counts every act."""
    if acts is None:
        chosen = DEFAULT_SELECTION.acts
    else:
        names = acts.split(",") if isinstance(acts, str) else list(acts)
        names = [n.strip().lower() for n in names if n and n.strip()]
        chosen = None if (not names or names == ["all"]) else tuple(names)
    conf = DEFAULT_SELECTION.min_confidence if min_confidence is None else float(min_confidence)
    return Selection(acts=chosen, min_confidence=conf)


def kept(rows: Iterable[tuple[int, int | None, str | None, float | None]], selection: Selection,
         dropped: Iterable[int] = ()) -> dict[int, int | None]:
    """One article's attributions as (idx, parent, act, confidence): those ``selection``
    keeps (and not in ``dropped``), each with its parent re-hung on the nearest kept
    ancestor (None when it has none), as acts.select does for an Analysis."""
    rows = list(rows)
    parent = {i: p for i, p, _, _ in rows}
    gone = set(dropped)
    keep = {i for i, _, act, conf in rows if i not in gone and selection.keeps(act, conf)}
    out: dict[int, int | None] = {}
    for i in sorted(keep):
        p, seen = parent.get(i), set()
        while p is not None and p not in keep and p not in seen:
            seen.add(p)
            p = parent.get(p)
        out[i] = p if p in keep else None
    return out


#: words one of which a paragraph that note_regions finds contains (a cheap SQL prefilter)
NOTE_WORDS = ("note", "photo", "image", "caption", "credit", "correction", "clarification",
              "picture", "graphic", "illustration", "reuters")


def notes_prefilter(column: str = "text") -> tuple[str, list[str]]:
    """A SQL condition (``?`` parameters, no literal percent sign: PostgreSQL's driver
    reads those) true for every article text in which note_regions may find a note."""
    return ("(" + " OR ".join(f"lower({column}) LIKE ?" for _ in NOTE_WORDS) + ")",
            [f"%{w}%" for w in NOTE_WORDS])


def notes_left_out(read, selection: "Selection | None" = None, act: str = "t.act",
                   where: str = "", args: list | None = None) -> dict[tuple[int, int], int]:
    """(article id, source id) -> its attributions (counted by ``selection``; None: all)
    whose cue lies in an editor's note, a caption or a credit, over a SQL store;
    ``read(sql, args)`` runs a query, ``where`` narrows the articles."""
    import json

    cond, cargs = selection.sql(act, "t.confidence") if selection is not None else ("1 = 1", [])
    out: dict[tuple[int, int], int] = {}
    extra = f" AND {where}" if where else ""
    pre, pargs = notes_prefilter()
    for article_id, text in read(f"SELECT id, text FROM articles WHERE {pre}{extra}",
                                 [*pargs, *(args or [])]):
        regions = note_regions(text)
        if not regions:
            continue
        for sid, spans in read("SELECT t.source_id, t.spans FROM attributions t WHERE "
                               f"t.article_id = ? AND {cond}", [article_id, *cargs]):
            cue = (json.loads(spans) if isinstance(spans, str) else spans or {}).get("cue") or []
            if sid is not None and cue and in_regions(int(cue[0][0]), regions):
                key = (int(article_id), int(sid))
                out[key] = out.get(key, 0) + 1
    return out


# paragraphs that are page furniture: an editor's note, a correction, a caption, a credit
_NOTE = re.compile(
    r"(?im)^[ \t\W]{0,3}(?:editor[’']?s[’']? note|editors[’']? note|note to readers|correction|"
    r"clarification|photo(?:graph)?s?|image|caption|credit|picture|graphic|"
    r"illustration)\b[^\n]{0,40}?[:—–-]|^[ \t]*\((?:photo|image|credit|ap photo|reuters)[^)\n]*\)")


def note_regions(text: str) -> list[tuple[int, int]]:
    """The character ranges of ``text`` in an editor's note, a correction, a caption or a
    credit: from such a paragraph's opening to the end of the paragraph."""
    out = []
    for m in _NOTE.finditer(text or ""):
        end = text.find("\n", m.end())
        out.append((m.start(), len(text) if end < 0 else end))
    return out


def in_regions(offset: int, regions: list[tuple[int, int]]) -> bool:
    return any(s <= offset < e for s, e in regions)


def dropped_in_notes(text: str, cue_starts: Mapping[int, int]) -> set[int]:
    """The attribution indices whose cue (``cue_starts``: idx -> offset) lies in a note."""
    regions = note_regions(text)
    if not regions:
        return set()
    return {i for i, start in cue_starts.items() if in_regions(start, regions)}


def counted_attributions(store, selection: Selection) -> set[tuple[int, int]] | None:
    """(article id, attribution index) of every attribution ``selection`` counts in the
    store (None: it counts every one)."""
    if selection.everything:
        return None
    if hasattr(store, "read_sql"):
        cond, args = selection.sql("act", "confidence")
        return {(int(a), int(i)) for a, i in store.read_sql(
            f"SELECT article_id, idx FROM attributions WHERE {cond}", args)}
    return {(a.id, i) for a in store.iter_articles()
            for i, att in enumerate(a.analysis.attributions)
            if selection.keeps(att.act, att.confidence)}


_CLAIM_ID = re.compile(r"^(\d+)#a(\d+)$")


def claim_counted(claim_id: str, counted: set[tuple[int, int]] | None) -> bool:
    """Whether a claim is listed under a selection: an attributed claim (``12#a3``) when
    its attribution is counted; the outlet's own claims (assertions) always."""
    if counted is None:
        return True
    m = _CLAIM_ID.match(str(claim_id))
    return m is None or (int(m.group(1)), int(m.group(2))) in counted
