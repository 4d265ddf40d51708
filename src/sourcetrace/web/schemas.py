"""Pydantic models of the HTTP API: the OpenAPI schema of requests and responses.

The response models mirror the library records' ``to_dict()`` one-to-one (model.py,
store, claims): the routes return those dicts as they are, and these models only
document them (and let schemathesis check that they match).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..inputs.fetch import URL_PATTERN  # one pattern for the API and the reader

MAX_ID = 2**63 - 1   # the stores' ids are signed 64-bit integers

# An article id in a path: checked (422) before it reaches the store.
ArticleId = Annotated[int, Path(ge=1, le=MAX_ID, description="a stored article's id")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- requests


class ArticleMeta(Strict):
    """What the caller knows about the article; stored with it and shown in the view."""

    title: str | None = Field(None, max_length=1000)
    url: str | None = Field(None, max_length=4000)
    outlet: str | None = Field(None, max_length=400, description="the publishing site, e.g. example.com")
    author: str | None = Field(None, max_length=1000)
    date: str | None = Field(None, max_length=40, description="publication date, ISO 8601")


class AnalyzeRequest(Strict):
    """One article: give exactly one of text, html or url (and, if you like, meta)."""

    # typed str with a None default: absent is allowed, null is not (the schema says so)
    text: str = Field(None, description="the article as plain text (HTML is detected and extracted)")
    html: str = Field(None, description="the article page as HTML; its article text is extracted")
    url: str = Field(None, max_length=4000, pattern=URL_PATTERN,
                     description="an http(s) URL to fetch; private addresses are refused "
                                 "unless the server allows them")
    meta: ArticleMeta | None = Field(None, description="title, url, outlet, author, date: "
                                                       "kept with the article")
    acts: list[Literal["speech", "belief", "finding", "intention", "perception"]] = Field(
        None, min_length=1, description="return only attributions of these acts (default: all)")
    min_confidence: float | None = Field(None, ge=0.0, le=1.0, strict=True,
                                  description="return only attributions whose confidence (the "
                                              "calibrated probability of being right) is at "
                                              "least this (default: 0)")

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": ["text"]}, {"required": ["html"]}, {"required": ["url"]}],
        "examples": [{"text": "\u201cWe will not retreat,\u201d the mayor said on Monday."}]})

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        """A lone surrogate (JSON ``"\\udc80"``) in meta becomes U+FFFD, as at every input's
        edge (inputs.metadata.valid_meta); in the article itself it is refused with its
        offset, as the readers refuse it. Either way never a parse failure."""
        if not isinstance(data, dict):
            return data
        from ..inputs.metadata import _SURROGATE, valid_meta

        for key in ("text", "html", "url"):
            value = data.get(key)
            found = _SURROGATE.search(value) if isinstance(value, str) else None
            if found:
                raise ValueError(f"{key} holds an unpaired surrogate character at offset "
                                 f"{found.start()}: give valid Unicode text")
        return valid_meta(data)

    @model_validator(mode="after")
    def _exactly_one(self) -> "AnalyzeRequest":
        given = [k for k in ("text", "html", "url") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of text, html or url"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self

    def selection(self, default_acts=None, default_min_confidence: float = 0.0):
        """(acts as a frozenset or None for all, min_confidence), the defaults where unset."""
        acts = self.acts if self.acts is not None else default_acts
        return (frozenset(acts) if acts else None,
                self.min_confidence if self.min_confidence is not None else default_min_confidence)

    def input(self) -> tuple[str, str]:
        """(kind, value) of the one input given."""
        kind = next(k for k in ("text", "html", "url") if getattr(self, k) is not None)
        return kind, getattr(self, kind)


class IngestRequest(AnalyzeRequest):
    """One article to analyse and store in the corpus (same fields as analyse)."""

    @model_validator(mode="after")
    def _stores_every_act(self) -> "IngestRequest":
        if self.acts is not None or self.min_confidence is not None:
            raise ValueError("acts and min_confidence select what analyse returns; "
                             "the corpus stores every attribution")
        return self


# --------------------------------------------------------------------------- records


class SpanOut(BaseModel):
    start: int
    end: int
    text: str


class AttributionOut(BaseModel):
    source: list[SpanOut]
    cue: list[SpanOut]
    content: list[SpanOut]
    kind: str = Field(description="direct | indirect | mixed")
    rule: str = Field(description="the rule or model that found it")
    confidence: float
    parent: int | None = Field(description="index of the attribution whose content holds this one")
    speaker: str | None
    speaker_span: SpanOut | None
    source_id: int | None = Field(description="index into the article's sources")
    act: str | None = Field(None, description="speech | belief | finding | intention | "
                                              "perception (null: not typed)")
    act_evidence: str | None = Field(None, description="what decided the act")


class SourceOut(BaseModel):
    id: int
    name: str
    mentions: list[SpanOut]
    identity: str | None = Field(description="named | described | anonymous | unspecified")
    kind: str | None = Field(description="person | official | organization | media | document | social")
    role: str | None
    channel: str | None
    hearsay_depth: int
    attributions: list[int]
    evidence: dict[str, Any]


class AssertionOut(BaseModel):
    span: SpanOut
    label: str = Field(description="checkworthy | opinion | background")
    hedges: list[SpanOut]
    evidence: str


class AnalysisOut(BaseModel):
    """Analysis.to_dict(): every offset slices ``text``."""

    schema_version: int
    text: str
    meta: dict[str, Any]
    boilerplate: list[SpanOut]
    attributions: list[AttributionOut]
    sources: list[SourceOut]
    assertions: list[AssertionOut]
    profile: dict[str, Any] | None
    warnings: list[str]


class ArticleSummary(BaseModel):
    id: int
    content_hash: str
    outlet: str | None
    url: str | None
    canonical_url: str | None
    title: str | None
    author: str | None
    date: str | None
    input: str
    input_kind: str | None
    added_at: str
    n_attributions: int
    n_sources: int
    profile: dict[str, Any] | None = None


class ArticleList(BaseModel):
    total: int
    offset: int
    limit: int
    articles: list[ArticleSummary]


class ArticleOut(ArticleSummary):
    analysis: AnalysisOut


class SourceCountOut(BaseModel):
    """A source entity over the corpus: identity and kind by majority of its mentions."""

    name: str
    articles: int
    attributions: int
    group: str | None
    identity: str | None
    kind: str | None
    entity_id: int | None = None
    aliases: list[str] = Field(default_factory=list, description="the names the articles use for it")
    identity_counts: dict[str, int] = Field(default_factory=dict)
    kind_counts: dict[str, int] = Field(default_factory=dict)
    referred_as: dict[str, int] = Field(default_factory=dict,
                                        description="articles by how they refer to it: she, he, they, not said")
    outlets: dict[str, int] = Field(default_factory=dict, description="articles per outlet")
    role: str | None = None
    external_id: str | None = Field(None, description="from a gazetteer, e.g. a Wikidata QID")
    identity_tied: list[str] = Field(default_factory=list, description="identities tied for the most mentions")
    kind_tied: list[str] = Field(default_factory=list, description="kinds tied for the most mentions")


class SearchHitOut(BaseModel):
    article_id: int
    what: str = Field(description="article | quote | source")
    ref: int | None
    snippet: str
    title: str | None
    outlet: str | None
    date: str | None
    url: str | None
    speaker: str | None = Field(None, description="who said the quote (or the source matched)")
    act: str | None = Field(None, description="the quote's act: speech, belief, ...")
    highlights: list[list[int]] = Field(default_factory=list,
                                        description="[start, end) of each match in snippet")


class FailureOut(BaseModel):
    input: str
    reason: str
    code: str
    attempts: int
    first_seen: str
    last_seen: str


class IngestOut(BaseModel):
    added: int
    duplicates: int
    failed: int
    seconds: float
    failures: list[list[str]]


class RelayStepOut(BaseModel):
    label: str
    kind: str = Field(description="outlet | source")
    claim_id: str | None
    source: dict[str, Any] | None


class ClusterOut(BaseModel):
    """corroboration.ClaimCluster.to_dict(): one claim across outlets."""

    id: str
    text: str
    claim_ids: list[str]
    outlets: list[str | None]
    voices: dict[str, list[str]]
    independent_outlets: list[str | None]
    relays: dict[str, str]
    earliest: str
    earliest_date: str | None
    earliest_outlet: str | None
    original_source: str
    relay_chain: list[RelayStepOut]
    relay_chain_text: str
    original_sources: dict[str, str]
    corroboration: int


class AppearanceOut(BaseModel):
    outlet: str | None
    date: str | None
    claim_id: str
    article_id: str
    title: str | None
    url: str | None
    text: str
    source: str | None
    via: list[str]


class TraceOut(BaseModel):
    cluster: ClusterOut | None
    claims: list[dict[str, Any]]
    timeline: list[AppearanceOut]
    matches: list[dict[str, Any]]
    factchecks: list[dict[str, Any]] = []
    verdict: str = Field("no confirmed match", description='"same" when a claim of the corpus '
                         'is marked the same as the query, else "no confirmed match"')
    ranked: list[dict[str, Any]] = Field([], description="the closest claims, best first: rank, "
                                         "id, text, score, probability, verdict (same, related, "
                                         "contradicts), cosine, conflicts, record")
    factchecks_ranked: list[dict[str, Any]] = Field([], description="the closest fact-checks, "
                                                    "ranked the same way")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    store: bool


class ErrorBody(BaseModel):
    code: str = Field(description="a stable machine-readable code, e.g. empty_input, not_found")
    message: str
    hint: str | None = None


class ErrorOut(BaseModel):
    error: ErrorBody
