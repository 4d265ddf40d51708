"""Between the web app and the library: the server's shared state and one adapter per
route, each calling the library and returning its records. The JSON routes (app.py)
and the pages of the web UI (pages.py) both call these; neither holds logic of its own.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hmac
import threading
import time
from typing import Any, Callable, Iterator

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..config import Config
from ..errors import ConfigError, InputError, SourcetraceError, StoreError
from . import schemas

__all__ = ["BusyError", "NotFoundError", "RequestTimeoutError", "Services", "UnauthorizedError",
           "analyze_request", "get_article",
           "ingest_request", "list_articles", "list_claims", "require_token", "services",
           "standalone_response", "trace"]


class NotFoundError(SourcetraceError):
    """An article (or another record) asked for by id does not exist."""

    code = "not_found"


class UnauthorizedError(SourcetraceError):
    """A write endpoint was called without the right bearer token."""

    code = "unauthorized"


class BusyError(SourcetraceError):
    """Every worker is taken and the queue is full (or the claims are being rebuilt):
    try again in a moment."""

    code = "busy"


class RequestTimeoutError(SourcetraceError):
    """A request ran past the server's per-request time limit."""

    code = "request_timeout"


# --------------------------------------------------------------------------- state


class Services:
    """What the routes share: the config, the corpus store and the worker pools.

    ``store`` may be a Store (used as it is, from every thread) or a database name
    (path, ``:memory:`` or a ``postgresql://`` URL), opened at once so that a bad name
    fails at start. A SQLite connection belongs to the thread that made it, so for
    SQLite each worker thread opens its own; other backends are shared.

    Work that can take long never runs under a lock held by other requests. It runs in
    bounded thread pools, each request under one deadline (``time_limit`` seconds,
    answered 504 ``request_timeout`` when passed):

    - analyses: ``threads`` at once (they share the one loaded pipeline); up to
      ``queue`` more wait their turn; beyond that a request is answered 503 ``busy``
      at once. An analysis that outlives its request still holds its place until it
      ends, and the pipeline's own per-document budget (``config.time_budget``, set
      no higher than ``time_limit``) ends it.
    - fetching a URL: its own pool (``fetchers``, same queue rule), so a slow server
      holds a fetch slot and never an analysis slot.
    - the claims across outlets: brought up to date with the store by one background
      thread; requests wait for it until their deadline, then get 503 ``busy`` while it
      goes on.

    Threads rather than processes: one copy of the model serves every request, the
    GIL is released while fetching and waiting, and ``sourcetrace serve --workers N``
    adds processes for CPU parallelism.
    """

    def __init__(self, config: Config, store: Any, token: str | None, public: bool, *,
                 threads: int = 2, queue: int | None = None, fetchers: int = 8,
                 time_limit: float = 60.0) -> None:
        if threads < 1 or fetchers < 1 or not time_limit > 0:
            raise ConfigError("threads and fetchers must be at least 1, time_limit positive")
        budget = getattr(config, "time_budget", None)
        if budget is not None and (budget == 0 or budget > time_limit):
            config = config.replace(time_budget=time_limit)
        self.config = config
        self.token = token
        self.public = public
        self.time_limit = float(time_limit)
        queue = 4 * threads if queue is None else queue
        self._sizes = (threads, fetchers)
        self._pools_lock = threading.Lock()
        self._open_pools()
        self._analysis_slots = threading.BoundedSemaphore(threads + queue)
        self._fetch_slots = threading.BoundedSemaphore(fetchers + queue)
        self._claims_sync: cf.Future | None = None
        self._claims_state = threading.Lock()     # guards _claims_sync, held for microseconds
        self.claims_lock = threading.Lock()       # held while the claims change or are read
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

    # ------------------------------------------------------------------ deadlines

    def deadline(self) -> float:
        """The monotonic time by which a request starting now must be answered."""
        return time.monotonic() + self.time_limit

    def _open_pools(self) -> None:
        threads, fetchers = self._sizes
        self._analyses = cf.ThreadPoolExecutor(threads, thread_name_prefix="sourcetrace-analyse")
        self._fetches = cf.ThreadPoolExecutor(fetchers, thread_name_prefix="sourcetrace-fetch")
        self._claims_pool = cf.ThreadPoolExecutor(1, thread_name_prefix="sourcetrace-claims")
        self._closed = False

    def _reopen(self) -> None:
        """Pools closed by an app shutdown come back for an app started again (the same
        Services may serve several lifespans, e.g. in tests or an embedding server)."""
        if self._closed:
            with self._pools_lock:
                if self._closed:
                    self._open_pools()

    def _submit(self, pool_name: str, slots: threading.BoundedSemaphore,
                what: str, fn: Callable, *args: Any, **kwargs: Any) -> cf.Future:
        self._reopen()
        pool: cf.ThreadPoolExecutor = getattr(self, pool_name)
        if not slots.acquire(blocking=False):
            raise BusyError(f"the server is busy: every {what} slot is taken and the queue "
                            "is full", hint="retry in a few seconds")
        try:
            future = pool.submit(fn, *args, **kwargs)
        except BaseException:
            slots.release()
            raise
        future.add_done_callback(lambda _f: slots.release())
        return future

    def _wait(self, future: cf.Future, deadline: float | None, what: str) -> Any:
        deadline = self.deadline() if deadline is None else deadline
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except cf.TimeoutError:
            future.cancel()    # a queued task never starts; a running one ends on its own
            raise RequestTimeoutError(
                f"{what} took longer than this server's limit of {self.time_limit:g} s",
                hint="send a shorter article, or start the server with a longer --time-limit"
            ) from None

    def analyze(self, fn: Callable, *args: Any, deadline: float | None = None,
                **kwargs: Any) -> Any:
        """Run one library call that analyses (or ingests) in the analysis pool, within
        the request's deadline."""
        return self._wait(self._submit("_analyses", self._analysis_slots, "analysis", fn,
                                       *args, **kwargs), deadline, "the analysis")

    def fetch(self, fn: Callable, *args: Any, deadline: float | None = None,
              **kwargs: Any) -> Any:
        """Run one library call that fetches a URL in the fetch pool, within the deadline."""
        return self._wait(self._submit("_fetches", self._fetch_slots, "fetch", fn,
                                       *args, **kwargs), deadline, "fetching the URL")

    def close(self) -> None:
        with self._pools_lock:
            self._closed = True
            for pool in (self._analyses, self._fetches, self._claims_pool):
                pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ claims

    def _sync_claims(self) -> None:
        from ..crossoutlet.corroboration import CrossOutlet, sync_with_store

        store = self.store()
        with self.claims_lock:
            if self._cross is None:
                self._cross = CrossOutlet()
            n = store.count()
            if n != self._cross_count:
                sync_with_store(store, None, cross=self._cross)
                self._cross_count = n

    @contextlib.contextmanager
    def claims(self, deadline: float | None = None) -> Iterator[Any]:
        """The corpus's claims, matched across outlets (corroboration.CrossOutlet), up
        to date with the store (checked by count), held still while the caller reads.

        Built and brought up to date by one background thread; a request waits for it
        until its deadline, then gets BusyError while the work goes on.
        """
        deadline = self.deadline() if deadline is None else deadline
        n = self.store().count()
        with self._claims_state:
            future = self._claims_sync
            if (future is None or future.done()) and n != self._cross_count:
                self._reopen()
                future = self._claims_sync = self._claims_pool.submit(self._sync_claims)
        if future is not None:
            try:
                future.result(timeout=max(0.0, deadline - time.monotonic()))
            except cf.TimeoutError:
                raise BusyError("the claims across outlets are being brought up to date with "
                                "the corpus", hint="retry in a minute") from None
        if not self.claims_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise BusyError("the claims across outlets are being brought up to date with the "
                            "corpus", hint="retry in a minute")
        try:
            yield self._cross
        finally:
            self.claims_lock.release()

    def cross_outlet(self):
        """The claims, brought up to date (for callers that only read them once)."""
        with self.claims() as cross:
            return cross


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


def analyze_request(s: Services, body: schemas.AnalyzeRequest, *, ui: bool = False):
    """The Analysis of one AnalyzeRequest (text or HTML string, or an http(s) URL), with
    the attributions of the acts and confidence it asks for (default: all). ``ui``: the
    web UI's precision-first defaults instead (config.WEB_ACTS, config.WEB_MIN_CONFIDENCE)."""
    from ..attribution.acts import select
    from ..config import WEB_ACTS, WEB_MIN_CONFIDENCE

    analysis = _analyze_all(s, body)
    acts, min_confidence = (body.selection(WEB_ACTS, WEB_MIN_CONFIDENCE) if ui
                            else body.selection())
    return select(analysis, acts, min_confidence)


def _analyze_all(s: Services, body: schemas.AnalyzeRequest):
    """The Analysis of one AnalyzeRequest, every attribution kept."""
    from .. import pipeline

    kind, value = body.input()
    meta = {k: v for k, v in (body.meta.model_dump() if body.meta else {}).items() if v is not None}
    deadline = s.deadline()
    if kind == "url":  # the schema admits only http(s) URLs, never a path
        from ..inputs import read

        document = s.fetch(read.load, value, config=s.config, deadline=deadline)
        analysis = s.analyze(_analyze_document, document, s.config, deadline=deadline)
        return analysis.replace(meta={**analysis.meta, **meta}) if meta else analysis
    return s.analyze(pipeline.analyze, value, config=s.config, meta=meta, deadline=deadline)


def _analyze_document(document, config: Config):
    from .. import pipeline

    return next(pipeline.analyze_documents([document], config=config))


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
        # in the worker thread, with that thread's own store (a SQLite connection
        # belongs to the thread that opened it)
        report = s.analyze(lambda: corpus.ingest([value], s.store(), config=s.config))
    else:
        document = ingest.from_string(value, config=s.config, meta=meta,
                                      html=True if kind == "html" else None)
        label = meta.get("url") or f"api:{content_hash(document.text)[:16]}"
        item = collect.Collected(input=label, document=document, kind=kind,
                                 raw=value if kind == "html" else None)
        report = s.analyze(lambda: corpus.ingest([], s.store(), config=s.config, items=[item]))
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


def list_claims(s: Services, *, min_outlets: int = 1, limit: int = 50) -> list[dict[str, Any]]:
    """Claim clusters, best corroborated first."""
    with s.claims() as cross:
        return [c.to_dict() for c in cross.clusters(min_outlets=min_outlets, limit=limit)]


def trace(s: Services, *, claim: str | None = None, text: str | None = None) -> dict[str, Any]:
    """A claim's cluster: its claims, provenance and the first appearance per outlet.

    Give a stored claim id (``claim``) or a sentence (``text``) to look for.
    """
    if bool(claim) == bool(text):
        raise InputError("give either a claim id or a text to trace",
                         hint="e.g. /api/trace?text=300 Russian troops refused to obey orders")
    from ..crossoutlet.corroboration import first_appearances

    with s.claims() as x:
        matches: list = []
        if claim:
            if claim not in x.claims:
                raise NotFoundError(f"there is no claim {claim!r}",
                                    hint="list the claims with GET /api/claims")
            cluster = x.trace_claim(claim)
        else:
            matches, cluster = x.trace_text(text)
        if cluster is None:
            return {"cluster": None, "claims": [], "timeline": [], "matches": [],
                    "factchecks": x.checked(text=text)}
        claims = [x.claims[c] for c in cluster.claim_ids]
        return {"cluster": cluster.to_dict(), "claims": [c.to_dict() for c in claims],
                "timeline": first_appearances(claims, x.arrival),
                "matches": [m.to_dict() for m in matches],
                "factchecks": x.checked(text=text, claim_ids=cluster.claim_ids)}



def standalone_response(analysis, filename: str | None = None) -> HTMLResponse:
    from ..output.html import render_analysis_html, standalone_csp

    headers = {"content-security-policy": standalone_csp()}
    if filename:
        headers["content-disposition"] = f'attachment; filename="{filename}"'
    return HTMLResponse(render_analysis_html(analysis, standalone=True), headers=headers)
