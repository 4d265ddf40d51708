"""The document model: frozen records with character offsets.

Every offset is a Python ``str`` index into ``Analysis.text``. For plain text
that is exactly the text the user gave (cleanup never rewrites it, it only
marks boilerplate spans); for HTML it is the article text extracted from the
page (title first, then the paragraphs), which ``Analysis.text`` keeps.

Records serialise to JSON one-to-one: ``Analysis.from_dict(a.to_dict()) == a``.

    Span                 [start, end) into the text, with the covered text
    Attribution          source / cue / content fragments, kind, rule, confidence,
                         parent (index of the attribution whose content holds it),
                         speaker (resolved name) and source_id (into Analysis.sources)
    Source               one distinct voice of the article, all its mentions merged
    Assertion            a sentence the outlet states in its own voice
    Analysis             the text, its metadata, boilerplate spans and all of the above
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

SCHEMA_VERSION = 1

# Attribution.kind values
DIRECT = "direct"        # the content is a quotation in quote marks
INDIRECT = "indirect"    # reported speech, belief, finding, ... without quote marks
MIXED = "mixed"          # paraphrase with a quoted fragment inside
KINDS = (DIRECT, INDIRECT, MIXED)

# Attribution.act values: what the source does with the content (attribution/acts.py)
ACTS = ("speech", "belief", "finding", "intention", "perception")

# Source identity and kind values (see sources.py)
IDENTITIES = ("named", "described", "anonymous", "unspecified")
SOURCE_KINDS = ("person", "official", "organization", "media", "document", "social")


@dataclass(frozen=True, order=True)
class Span:
    """A half-open character range ``[start, end)`` of ``Analysis.text``."""

    start: int
    end: int
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.start, int) and isinstance(self.end, int)):
            raise TypeError(f"span offsets must be int, got {self.start!r}, {self.end!r}")
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad span [{self.start}, {self.end})")

    @classmethod
    def of(cls, text: str, start: int, end: int) -> "Span":
        return cls(start, end, text[start:end])

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: "Span") -> bool:
        return self.start <= other.start and other.end <= self.end

    def to_list(self) -> list[int]:
        return [self.start, self.end]

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Span":
        return cls(int(d["start"]), int(d["end"]), d.get("text", ""))


def spans_to_dicts(spans: tuple[Span, ...]) -> list[dict[str, Any]]:
    return [s.to_dict() for s in spans]


def spans_from_dicts(items: list[dict[str, Any]] | None) -> tuple[Span, ...]:
    return tuple(Span.from_dict(d) for d in items or ())


def parent_chain(attributions: Sequence["Attribution"], index: int) -> list[int]:
    """The indices of the attributions ``attributions[index]`` is nested in, innermost
    first; stops at an index out of range or one already seen."""
    chain: list[int] = []
    seen = {index}
    parent = attributions[index].parent
    while parent is not None and 0 <= parent < len(attributions) and parent not in seen:
        seen.add(parent)
        chain.append(parent)
        parent = attributions[parent].parent
    return chain


def span_text(text: str, spans: Iterable[Span], sep: str = " … ", strip: bool | str = False) -> str:
    """The text of fragments in text order, joined by ``sep``. ``strip``: True strips each
    fragment of whitespace, a string strips those characters; empty fragments are left out."""
    parts = [text[s.start:s.end] for s in sorted(spans)]
    if strip is not False:
        parts = [p.strip(None if strip is True else strip) for p in parts]
    return sep.join(p for p in parts if p)


def extent(spans: tuple[Span, ...]) -> Span | None:
    """The smallest span covering all fragments (text left empty), or None."""
    if not spans:
        return None
    return Span(min(s.start for s in spans), max(s.end for s in spans))


@dataclass(frozen=True)
class Attribution:
    """Who (source) said (cue) what (content).

    A role may have several fragments (a quote split around its cue). An empty
    ``source`` means the text names no source. ``parent`` is the index in
    ``Analysis.attributions`` of the attribution whose content holds this one
    (nested: "Andrusiv said his commander told him ..."), None at top level.
    ``speaker`` is the source resolved within the article to its fullest
    mention (``speaker_span``), e.g. "he" -> "Rosemary Thomas, a former ...".
    ``rule`` names the rule or model that produced it; ``confidence`` in [0, 1].
    ``act`` is one of ACTS (said: speech; thinks: belief; a poll shows: finding;
    plans: intention; saw: perception), ``act_evidence`` what decided it
    ("lexicon:hope", "rule:document-source:poll", ...); both None when not typed.
    """

    source: tuple[Span, ...]
    cue: tuple[Span, ...]
    content: tuple[Span, ...]
    kind: str = INDIRECT
    rule: str = ""
    confidence: float = 1.0
    parent: int | None = None
    speaker: str | None = None
    speaker_span: Span | None = None
    source_id: int | None = None
    act: str | None = None
    act_evidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": spans_to_dicts(self.source),
            "cue": spans_to_dicts(self.cue),
            "content": spans_to_dicts(self.content),
            "kind": self.kind,
            "rule": self.rule,
            "confidence": self.confidence,
            "parent": self.parent,
            "speaker": self.speaker,
            "speaker_span": self.speaker_span.to_dict() if self.speaker_span is not None else None,
            "source_id": self.source_id,
            "act": self.act,
            "act_evidence": self.act_evidence,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Attribution":
        sp = d.get("speaker_span")
        return cls(
            source=spans_from_dicts(d.get("source")),
            cue=spans_from_dicts(d.get("cue")),
            content=spans_from_dicts(d.get("content")),
            kind=d.get("kind", INDIRECT),
            rule=d.get("rule", ""),
            confidence=float(d.get("confidence", 1.0)),
            parent=d.get("parent"),
            speaker=d.get("speaker"),
            speaker_span=Span.from_dict(sp) if sp is not None else None,
            source_id=d.get("source_id"),
            act=d.get("act"),
            act_evidence=d.get("act_evidence"),
        )

    def offsets(self) -> dict[str, list[list[int]]]:
        """The scorer's prediction form: {"source": [[s, e], ...], "cue": ..., "content": ...}."""
        return {
            "source": [s.to_list() for s in self.source],
            "cue": [s.to_list() for s in self.cue],
            "content": [s.to_list() for s in self.content],
        }


@dataclass(frozen=True)
class Source:
    """One distinct voice of the article, its mentions merged.

    ``identity``: named | described | anonymous | unspecified;
    ``kind``: person | official | organization | media | document | social (or None);
    ``evidence`` says, per decision, what decided it (e.g. {"kind": "NER ORG + lexicon 'command'"}).
    ``hearsay_depth``: 1 for a source speaking for itself, 2+ along nested attributions.
    """

    id: int
    name: str
    mentions: tuple[Span, ...] = ()
    identity: str | None = None
    kind: str | None = None
    role: str | None = None
    channel: str | None = None
    hearsay_depth: int = 1
    attributions: tuple[int, ...] = ()
    evidence: tuple[tuple[str, str], ...] = ()
    referred_as: str | None = None     # she | he | they, from the article's own pronouns and honorifics
    entity: tuple[tuple[str, Any], ...] | None = None  # (key, name, aliases[, id, external_id]) pairs
    chain: tuple[Span, ...] = ()       # every mention the resolution went through, in text order

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "referred_as": self.referred_as,
            "entity": ({k: list(v) if isinstance(v, tuple) else v for k, v in self.entity}
                       if self.entity is not None else None),
            "mentions": spans_to_dicts(self.mentions),
            "chain": spans_to_dicts(self.chain),
            "identity": self.identity,
            "kind": self.kind,
            "role": self.role,
            "channel": self.channel,
            "hearsay_depth": self.hearsay_depth,
            "attributions": list(self.attributions),
            "evidence": {k: v for k, v in self.evidence},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Source":
        return cls(
            id=int(d["id"]),
            name=d["name"],
            mentions=spans_from_dicts(d.get("mentions")),
            chain=spans_from_dicts(d.get("chain")),
            identity=d.get("identity"),
            kind=d.get("kind"),
            role=d.get("role"),
            channel=d.get("channel"),
            hearsay_depth=int(d.get("hearsay_depth", 1)),
            attributions=tuple(d.get("attributions") or ()),
            evidence=tuple((k, v) for k, v in (d.get("evidence") or {}).items()),
            referred_as=d.get("referred_as"),
            entity=(tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in d["entity"].items())
                    if d.get("entity") else None),
        )


@dataclass(frozen=True)
class Assertion:
    """A sentence the outlet states in its own voice (no attribution covers it).

    ``label``: checkworthy | opinion | background; ``hedges``: spans of hedge
    words ("reportedly", "is believed to"); ``evidence``: why the label.
    """

    span: Span
    label: str
    hedges: tuple[Span, ...] = ()
    evidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"span": self.span.to_dict(), "label": self.label,
                "hedges": spans_to_dicts(self.hedges), "evidence": self.evidence}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Assertion":
        return cls(Span.from_dict(d["span"]), d["label"], spans_from_dicts(d.get("hedges")),
                   d.get("evidence", ""))


@dataclass(frozen=True)
class Analysis:
    """Everything sourcetrace knows about one article.

    ``text`` is the text every offset points into. ``meta`` holds what the
    input gave (url, title, author, date, outlet, input_kind, language, ...).
    ``boilerplate`` marks aggregator residue that is never mined.
    ``profile`` is the sourcing profile (a plain JSON-able dict, see profile.py).
    """

    text: str
    attributions: tuple[Attribution, ...] = ()
    sources: tuple[Source, ...] = ()
    assertions: tuple[Assertion, ...] = ()
    boilerplate: tuple[Span, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, hash=False)
    profile: dict[str, Any] | None = field(default=None, hash=False)
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str | None:
        return self.meta.get("title")

    def ancestors(self, index: int) -> list[int]:
        """The attributions ``index`` is nested in, innermost first (its parent chain)."""
        return parent_chain(self.attributions, index)

    def source_of(self, attribution: Attribution | int) -> Source | None:
        """The Source record an attribution (or its index) was resolved to, or None."""
        if isinstance(attribution, int):
            attribution = self.attributions[attribution]
        sid = attribution.source_id
        if sid is None:
            return None
        if 0 <= sid < len(self.sources) and self.sources[sid].id == sid:
            return self.sources[sid]
        for s in self.sources:  # ids are positions in practice, but do not rely on it
            if s.id == sid:
                return s
        return None

    def span_text(self, spans: Iterable[Span], sep: str = " … ", strip: bool | str = False) -> str:
        """The text of an attribution's fragments (see ``span_text``)."""
        return span_text(self.text, spans, sep, strip)

    def replace(self, **changes: Any) -> "Analysis":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "text": self.text,
            "meta": dict(self.meta),
            "boilerplate": spans_to_dicts(self.boilerplate),
            "attributions": [a.to_dict() for a in self.attributions],
            "sources": [s.to_dict() for s in self.sources],
            "assertions": [a.to_dict() for a in self.assertions],
            "profile": self.profile,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Analysis":
        return cls(
            text=d["text"],
            attributions=tuple(Attribution.from_dict(a) for a in d.get("attributions") or ()),
            sources=tuple(Source.from_dict(s) for s in d.get("sources") or ()),
            assertions=tuple(Assertion.from_dict(a) for a in d.get("assertions") or ()),
            boilerplate=spans_from_dicts(d.get("boilerplate")),
            meta=dict(d.get("meta") or {}),
            profile=d.get("profile"),
            warnings=tuple(d.get("warnings") or ()),
        )

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_json(cls, s: str) -> "Analysis":
        return cls.from_dict(json.loads(s))

    def _repr_html_(self) -> str:  # Jupyter: the view output/html.py registers on import
        if _HTML_VIEW is None:
            return f"<pre>{len(self.attributions)} attributions</pre>"
        return _HTML_VIEW(self)


# The notebook view of an Analysis. output/html.py sets it when imported (sourcetrace's
# package import does), so that the model never imports a renderer.
_HTML_VIEW: Any = None


def set_html_view(view) -> None:
    """Register ``view(analysis) -> str`` as the HTML shown for an Analysis in Jupyter."""
    global _HTML_VIEW
    _HTML_VIEW = view
