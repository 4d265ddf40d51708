"""Between the web app and the library: the server's shared state and one adapter per
route, each calling the library and returning its records. The JSON routes (app.py)
and the pages of the web UI (pages.py) both call these; neither holds logic of its own.
"""
from __future__ import annotations

import hmac
import threading
from typing import Any, Callable

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..config import Config
from ..errors import InputError, SourcetraceError, StoreError
from . import schemas

__all__ = ["NotFoundError", "Services", "UnauthorizedError", "analyze_request", "get_article",
           "ingest_request", "list_articles", "list_claims", "require_token", "services",
           "standalone_response", "trace"]


class NotFoundError(SourcetraceError):
    """An article (or another record) asked for by id does not exist."""

    code = "not_found"


class UnauthorizedError(SourcetraceError):
    """A write endpoint was called without the right bearer token."""

    code = "unauthorized"


# --------------------------------------------------------------------------- state


class Services:
    """What the routes share: the config, the corpus store and the analysis lock.

    ``store`` may be a Store (used as it is, from every thread) or a database name
    (path, ``:memory:`` or a ``postgresql://`` URL), opened at once so that a bad name
    fails at start. A SQLite connection belongs to the thread that made it, so for
    SQLite each worker thread opens its own; other backends are shared.
    """

    def __init__(self, config: Config, store: Any, token: str | None, public: bool) -> None:
        self.config = config
        self.token = token
        self.public = public
        self.lock = threading.Lock()
        self.claims_lock = threading.Lock()
        self._cross: Any = None
        self._cross_count = -1
        self._name: str | None = None
        self._local = threading.local()
        if isinstance(store, str):
            from ..corpus.store import open_store

            opened = open_store(store)
            if getattr(opened, "backend", None) == "sqlite":
                self._name = store
                self._local.store = opened
        else:
            opened = store
        self._store = opened

    @property
    def has_store(self) -> bool:
        return self._store is not None

    def store(self):
        if self._store is None:
            raise StoreError("no corpus is open on this server",
                             hint="start it with `sourcetrace serve --db PATH`")
        if self._name is None:
            return self._store
        opened = getattr(self._local, "store", None)
        if opened is None:
            from ..corpus.store import open_store

            opened = self._local.store = open_store(self._name)
        return opened

    def cross_outlet(self):
        """The corpus's claims, matched across outlets (corroboration.CrossOutlet).

        Built on first use from the stored articles, then brought up to date with the
        articles stored since (checked by count), one request at a time.
        """
        from ..crossoutlet.corroboration import CrossOutlet, sync_with_store

        store = self.store()
        with self.claims_lock:
            if self._cross is None:
                self._cross = CrossOutlet()
            n = store.count()
            if n != self._cross_count:
                sync_with_store(store, None, cross=self._cross)
                self._cross_count = n
            return self._cross

    def analyze(self, fn: Callable, *args: Any, **kwargs: Any):
        """Run one library analysis call with the shared pipeline, one at a time."""
        with self.lock:
            return fn(*args, **kwargs)


def services(request: Request) -> Services:
    return request.app.state.services


_bearer = HTTPBearer(auto_error=False, description="SOURCETRACE_TOKEN, needed by write endpoints "
                                                   "when the server has a token")


def require_token(request: Request,
                  credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    s = services(request)
    if s.token is None:
        if s.public:  # create_app refuses this combination; kept as a second lock
            raise UnauthorizedError("writes are disabled on a public server without a token",
                                    hint="set SOURCETRACE_TOKEN and restart")
        return
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), s.token.encode()):
        raise UnauthorizedError("this endpoint needs the server's token",
                                hint="send the header Authorization: Bearer $SOURCETRACE_TOKEN")


# --------------------------------------------------------------------------- library adapters


def analyze_request(s: Services, body: schemas.AnalyzeRequest):
    """The Analysis of one AnalyzeRequest (text or HTML string, or an http(s) URL)."""
    from .. import pipeline

    kind, value = body.input()
    meta = {k: v for k, v in (body.meta.model_dump() if body.meta else {}).items() if v is not None}
    if kind == "url":  # the schema admits only http(s) URLs, never a path
        analysis = s.analyze(pipeline.analyze_target, value, config=s.config)
        return analysis.replace(meta={**analysis.meta, **meta}) if meta else analysis
    return s.analyze(pipeline.analyze, value, config=s.config, meta=meta)


def ingest_request(s: Services, body: schemas.IngestRequest):
    """Analyse and store one article; the corpus run's report."""
    from ..inputs import collect, read as ingest
    from ..corpus import runner as corpus
    from ..corpus.store import content_hash

    kind, value = body.input()
    store = s.store()
    meta = {k: v for k, v in (body.meta.model_dump() if body.meta else {}).items() if v is not None}
    if kind == "url":
        label = value
        report = s.analyze(corpus.ingest, [value], store, config=s.config)
    else:
        document = ingest.from_string(value, config=s.config, meta=meta,
                                      html=True if kind == "html" else None)
        label = meta.get("url") or f"api:{content_hash(document.text)[:16]}"
        item = collect.Collected(input=label, document=document, kind=kind,
                                 raw=value if kind == "html" else None)
        report = s.analyze(corpus.ingest, [], store, config=s.config, items=[item])
    if report.failed and not (report.added or report.duplicates):
        # the one article failed: answer with its error (recorded in /api/failures too)
        failure = next((f for f in reversed(store.failures()) if f.input == label), None)
        reason = report.failures[0][1] if report.failures else "the article could not be ingested"
        raise error_for(failure.code if failure else "error", reason)
    return report


def error_for(code: str, message: str) -> SourcetraceError:
    """The SourcetraceError whose ``code`` is ``code`` (the base class for an unknown one)."""
    from .. import errors

    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, SourcetraceError)]
    cls = next((c for c in classes if c.code == code), SourcetraceError)
    return cls(message)


def article_summary(article) -> dict[str, Any]:
    return {**article.summary(), "profile": article.analysis.profile}


def get_article(s: Services, article_id: int):
    article = s.store().get(article_id)
    if article is None:
        raise NotFoundError(f"there is no article {article_id} in the corpus",
                            hint="list them with GET /api/articles")
    return article


def list_articles(s: Services, *, outlet: str | None = None, offset: int = 0,
                  limit: int = 50) -> dict[str, Any]:
    """One page of stored articles (in id order) and how many there are in all."""
    total, page = s.store().page_articles(outlet=outlet, offset=offset, limit=limit)
    return {"total": total, "offset": offset, "limit": limit,
            "articles": [article_summary(a) for a in page]}


def list_claims(s: Services, *, min_outlets: int = 1, limit: int = 50) -> list[dict[str, Any]]:
    """Claim clusters, best corroborated first."""
    with s.lock:
        clusters = s.cross_outlet().clusters(min_outlets=min_outlets)
    return [c.to_dict() for c in clusters[:limit]]


def trace(s: Services, *, claim: str | None = None, text: str | None = None) -> dict[str, Any]:
    """A claim's cluster: its claims, provenance and the first appearance per outlet.

    Give a stored claim id (``claim``) or a sentence (``text``) to look for.
    """
    if bool(claim) == bool(text):
        raise InputError("give either a claim id or a text to trace",
                         hint="e.g. /api/trace?text=300 Russian troops refused to obey orders")
    with s.lock:
        x = s.cross_outlet()
        matches: list = []
        if claim:
            if claim not in x.claims:
                raise NotFoundError(f"there is no claim {claim!r}",
                                    hint="list the claims with GET /api/claims")
            cluster = x.trace_claim(claim)
        else:
            matches, cluster = x.trace_text(text)
    if cluster is None:
        return {"cluster": None, "claims": [], "timeline": [], "matches": []}
    from ..crossoutlet.corroboration import first_appearances

    claims = [x.claims[c] for c in cluster.claim_ids]
    return {"cluster": cluster.to_dict(), "claims": [c.to_dict() for c in claims],
            "timeline": first_appearances(claims, x.arrival),
            "matches": [m.to_dict() for m in matches]}



def standalone_response(analysis, filename: str | None = None) -> HTMLResponse:
    from ..output.html import render_analysis_html, standalone_csp

    headers = {"content-security-policy": standalone_csp()}
    if filename:
        headers["content-disposition"] = f'attachment; filename="{filename}"'
    return HTMLResponse(render_analysis_html(analysis, standalone=True), headers=headers)
def outlet_report(s: Services, *, by: str = "outlet", outlets: list[str] | None = None,
                  since: str | None = None, until: str | None = None, top: int = 5,
                  charts: bool = False) -> dict[str, Any]:
    """The outlet report (corpus.report) as JSON; with ``charts`` also its figures (SVG)
    and the report over time they draw from: ``{"report", "figures", "note"}`` (``note``
    says why there are no charts)."""
    from ..corpus import report as reports
    from ..errors import ConfigError as ChartsMissing

    store = s.store()
    result = reports.build_report(store, by=by, outlets=outlets or (), since=since,
                                  until=until, top=top)
    if not charts:
        return result
    figures: list[Any] = []
    note = None
    try:
        from ..corpus import charts as drawing

        figures = drawing.figures(result, reports.time_report(store, result))
    except ChartsMissing as exc:  # matplotlib (the report extra) is missing: tables only
        note = f"{exc}"
    return {"report": result, "figures": figures, "note": note}


