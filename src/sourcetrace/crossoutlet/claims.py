"""Claims: what an article says was said, and what it states in its own voice.

A claim record is made from

* every attribution's content (its source resolved through ``Analysis.sources``:
  name, identity, kind, channel; the sources it was relayed through when the
  attribution is nested: "Reuters reported that the military said ..." gives the
  claim of the military, relayed ``via`` Reuters), and
* every unattributed assertion labelled ``checkworthy`` (its source is the
  outlet itself: ``source`` is None).

Each carries the outlet, date, url and article id from the article metadata so
claims from many articles can be matched and traced::

    claims = extract_claims(analysis, article_id="a1", outlet="kyivpost.com",
                            date="2024-02-28")

Claim ids are stable: ``<article id>#a<attribution index>`` and
``<article id>#s<assertion index>``, so re-analysing the same article gives
the same ids.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import InputError
from ..inputs.metadata import outlet_of
from ..model import Analysis, Attribution, Span, extent

__all__ = ["Claim", "ClaimSource", "extract_claims", "ATTRIBUTED", "UNATTRIBUTED"]

ATTRIBUTED = "attributed"        # the content of an attribution
UNATTRIBUTED = "unattributed"    # a check-worthy assertion in the outlet's own voice

MIN_WORDS = 3                    # shorter contents ("so", "it") are not claims
_STRIP = " \t\r\n\"'“”‘’«»,;:—–-"


@dataclass(frozen=True)
class ClaimSource:
    """A voice a claim is attributed to (resolved within its article)."""

    name: str
    identity: str | None = None      # named | described | anonymous | unspecified
    kind: str | None = None          # person | official | organization | media | document | social
    channel: str | None = None       # e.g. "Telegram"

    def describe(self) -> str:
        return f"{self.name} on {self.channel}" if self.channel else self.name

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "identity": self.identity, "kind": self.kind,
                "channel": self.channel}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "ClaimSource | None":
        if d is None:
            return None
        return cls(d["name"], d.get("identity"), d.get("kind"), d.get("channel"))


@dataclass(frozen=True)
class Claim:
    """One claim of one article, with where it came from."""

    id: str
    article_id: str
    text: str
    span: Span                                   # extent of the content in the article text
    kind: str = ATTRIBUTED
    source: ClaimSource | None = None            # None: the outlet's own voice
    via: tuple[ClaimSource, ...] = ()            # relays in the article, outermost first
    cue: str = ""
    outlet: str | None = None
    date: str | None = None
    url: str | None = None
    title: str | None = None
    attribution_kind: str | None = None          # direct | indirect | mixed
    hedged: bool = False
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def chain(self) -> tuple[ClaimSource, ...]:
        """The relays and the source, outermost first (empty for the outlet's own voice)."""
        return self.via + ((self.source,) if self.source is not None else ())

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "article_id": self.article_id, "text": self.text,
            "span": self.span.to_dict(), "kind": self.kind,
            "source": self.source.to_dict() if self.source else None,
            "via": [s.to_dict() for s in self.via], "cue": self.cue,
            "outlet": self.outlet, "date": self.date, "url": self.url, "title": self.title,
            "attribution_kind": self.attribution_kind, "hedged": self.hedged,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Claim":
        return cls(
            id=d["id"], article_id=d["article_id"], text=d["text"],
            span=Span.from_dict(d["span"]), kind=d.get("kind", ATTRIBUTED),
            source=ClaimSource.from_dict(d.get("source")),
            via=tuple(ClaimSource.from_dict(s) for s in d.get("via") or ()),
            cue=d.get("cue", ""), outlet=d.get("outlet"), date=d.get("date"),
            url=d.get("url"), title=d.get("title"),
            attribution_kind=d.get("attribution_kind"), hedged=bool(d.get("hedged", False)),
            extra=dict(d.get("extra") or {}),
        )


def _join(analysis: Analysis, spans: Iterable[Span]) -> str:
    return analysis.span_text(spans, sep=" ", strip=_STRIP)


def _source_of(analysis: Analysis, attribution: Attribution) -> ClaimSource | None:
    s = analysis.source_of(attribution)
    if s is not None:
        return ClaimSource(s.name, s.identity, s.kind, s.channel)
    name = attribution.speaker or _join(analysis, attribution.source)
    if not name:
        return None
    return ClaimSource(name)


def _relays(analysis: Analysis, index: int) -> tuple[ClaimSource, ...]:
    chain = (_source_of(analysis, analysis.attributions[i]) for i in analysis.ancestors(index))
    return tuple(reversed([src for src in chain if src is not None]))


def extract_claims(analysis: Analysis, *, article_id: str | None = None,
                   outlet: str | None = None, date: str | None = None,
                   url: str | None = None, min_words: int = MIN_WORDS) -> list[Claim]:
    """Every claim of an article: attributed contents, then check-worthy assertions.

    Metadata not given is taken from ``analysis.meta`` (id, outlet, date, url); without
    an outlet, the registered domain of the URL stands for it (``outlet_of``).
    Raises InputError when no article id can be found.
    """
    meta = analysis.meta or {}
    article_id = article_id or meta.get("id") or meta.get("article_id") or meta.get("content_hash")
    if not article_id:
        raise InputError("a claim needs an article id",
                         hint="pass article_id= or set meta['id'] on the Analysis")
    article_id = str(article_id)
    date = date or meta.get("date")
    url = url or meta.get("url")
    outlet = outlet or meta.get("outlet") or meta.get("publisher") or outlet_of(url)
    title = meta.get("title")
    text = analysis.text
    boilerplate = analysis.boilerplate
    claims: list[Claim] = []

    for i, attribution in enumerate(analysis.attributions):
        if not attribution.content:
            continue
        body = _join(analysis, attribution.content)
        if len(body.split()) < min_words:
            continue
        span = extent(attribution.content)
        assert span is not None
        if any(b.contains(span) for b in boilerplate):
            continue
        claims.append(Claim(
            id=f"{article_id}#a{i}", article_id=article_id, text=body,
            span=Span.of(text, span.start, span.end), kind=ATTRIBUTED,
            source=_source_of(analysis, attribution), via=_relays(analysis, i),
            cue=_join(analysis, attribution.cue), outlet=outlet, date=date, url=url, title=title,
            attribution_kind=attribution.kind,
            extra={"rule": attribution.rule, "confidence": attribution.confidence},
        ))

    for i, assertion in enumerate(analysis.assertions):
        if assertion.label != "checkworthy":
            continue
        if any(b.contains(assertion.span) for b in boilerplate):
            continue
        body = text[assertion.span.start:assertion.span.end].strip()
        if len(body.split()) < min_words:
            continue
        claims.append(Claim(
            id=f"{article_id}#s{i}", article_id=article_id, text=body,
            span=Span.of(text, assertion.span.start, assertion.span.end), kind=UNATTRIBUTED,
            source=None, outlet=outlet, date=date, url=url, title=title,
            hedged=bool(assertion.hedges), extra={"evidence": assertion.evidence},
        ))
    return claims
