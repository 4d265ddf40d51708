"""Between the web app and the library: the server's shared state and one adapter per
route, each calling the library and returning its records. The JSON routes (app.py)
and the pages of the web UI (pages.py) both call these; neither holds logic of its own.
"""
from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import contextvars
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

__all__ = ["BusyError", "FairPool", "NotFoundError", "RequestTimeoutError", "Services",
           "TooManyRequestsError", "UnauthorizedError", "current_client",
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
    retry_after = 5


class TooManyRequestsError(BusyError):
    """One client already holds its share of the server's workers and queue: wait
    for its answers before sending more (answered 429 with Retry-After)."""

    code = "too_many_requests"
    retry_after = 2


class RequestTimeoutError(SourcetraceError):
    """A request ran past the server's per-request time limit."""

    code = "request_timeout"


# --------------------------------------------------------------------------- fair pools

#: the client a request comes from (its address), set for each request by app.ClientOf
current_client: contextvars.ContextVar[str] = contextvars.ContextVar("sourcetrace_client",
                                                                     default="-")

LARGE_CHARS = 20_000   # an input longer than this (characters or bytes) is a large analysis


class FairPool:
    """``workers`` threads serving a bounded queue round robin by client.

    At most ``workers + queue`` tasks are admitted at once (running or waiting;
    beyond that BusyError, answered 503), at most ``per_client`` of them from one
    client (beyond that TooManyRequestsError, answered 429): one client cannot fill
    the queue. A free worker takes the next task of the waiting client that has had
    the fewest tasks started since it last had none in the pool (the earliest to
    arrive among equals): a client that just came goes before the next task of one
    that is being served. A task whose future is cancelled while it waits leaves the queue at once
    and never runs. Closed at app shutdown (queued work dropped); ``open`` again for
    an app started again.
    """

    def __init__(self, name: str, workers: int, queue: int, per_client: int) -> None:
        self.name, self.workers = name, workers
        self.capacity = workers + queue
        self.per_client = max(1, per_client)
        self._cv = threading.Condition()
        self._waiting: dict[str, collections.deque] = {}     # client -> its queued tasks
        self._turns: collections.deque[str] = collections.deque()  # clients with work, in turn
        self._held: collections.Counter[str] = collections.Counter()  # admitted, not done
        self._served: collections.Counter[str] = collections.Counter()  # started, this stay
        self._threads = 0
        self._closed = False

    @property
    def admitted(self) -> int:
        return sum(self._held.values())

    def held_by(self, client: str) -> int:
        return self._held.get(client, 0)

    def submit(self, client: str, fn: Callable, *args: Any, **kwargs: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        with self._cv:
            if self._closed:
                raise BusyError("the server is shutting down", hint="retry in a few seconds")
            if self.admitted >= self.capacity:
                raise BusyError(f"the server is busy: every {self.name} slot is taken and the "
                                "queue is full", hint="retry in a few seconds")
            if self._held[client] >= self.per_client:
                raise TooManyRequestsError(
                    f"this client already has {self._held[client]} {self.name} requests in "
                    f"progress, its share of this server",
                    hint="wait for an answer before sending more")
            self._held[client] += 1
            self._waiting.setdefault(client, collections.deque()).append(
                (future, fn, args, kwargs))
            if client not in self._turns:
                self._turns.append(client)
            if self._threads < self.workers:
                self._threads += 1
                threading.Thread(target=self._work, name=f"sourcetrace-{self.name}",
                                 daemon=True).start()
            self._cv.notify()
        return future

    def withdraw(self, future: cf.Future) -> bool:
        """Take a task that has not started out of the queue (its future cancelled)."""
        with self._cv:
            for client, tasks in self._waiting.items():
                for task in tasks:
                    if task[0] is future:
                        tasks.remove(task)
                        self._release(client)
                        if not tasks:
                            del self._waiting[client]
                            self._turns.remove(client)
                        future.cancel()
                        return True
        return False

    def _release(self, client: str) -> None:
        self._held[client] -= 1
        if self._held[client] <= 0:
            del self._held[client]
            self._served.pop(client, None)

    def _next(self) -> tuple[str, tuple] | None:
        with self._cv:
            while not self._turns:
                if self._closed:
                    self._threads -= 1
                    return None
                self._cv.wait()
            client = min(self._turns, key=self._served.__getitem__)   # first of the least served
            self._turns.remove(client)
            self._served[client] += 1
            tasks = self._waiting[client]
            task = tasks.popleft()
            if tasks:
                self._turns.append(client)     # its next task waits for the others' turn
            else:
                del self._waiting[client]
            return client, task

    def _work(self) -> None:
        while True:
            picked = self._next()
            if picked is None:
                return
            client, (future, fn, args, kwargs) = picked
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        result = fn(*args, **kwargs)
                    except BaseException as exc:   # handed to the waiting request
                        future.set_exception(exc)
                    else:
                        future.set_result(result)
            finally:
                with self._cv:
                    self._release(client)

    def close(self) -> None:
        """Drop the queued tasks (their futures cancelled); running ones finish."""
        with self._cv:
            self._closed = True
            for client, tasks in self._waiting.items():
                for future, *_ in tasks:
                    future.cancel()
                    self._release(client)
            self._waiting.clear()
            self._turns.clear()
            self._cv.notify_all()

    def open(self) -> None:
        with self._cv:
            self._closed = False


# --------------------------------------------------------------------------- state


class Services:
    """What the routes share: the config, the corpus store and the worker pools.

    ``store`` may be a Store (used as it is, from every thread) or a database name
    (path, ``:memory:`` or a ``postgresql://`` URL), opened at once so that a bad name
    fails at start. A SQLite connection belongs to the thread that made it, so for
    SQLite each worker thread opens its own; other backends are shared.

    Work that can take long never runs under a lock held by other requests. It runs in
    bounded pools (FairPool: round robin by client, a per-client share), each request
    under one deadline (``time_limit`` seconds, answered 504 ``request_timeout`` when
    passed):

    - analyses, in two lanes by size, so that a short article never waits behind long
      ones: inputs up to ``large_chars`` in the small lane (``threads`` at once, up to
      ``queue`` more waiting), longer ones in the large lane (``threads // 2``, at
      least 1, at once, up to ``queue // 2`` waiting). A full lane answers 503
      ``busy``; a client holding half a lane (``per_client``) gets 429
      ``too_many_requests``; both with Retry-After.
    - fetching a URL: its own pool (``fetchers`` at once), a client holding at most a
      quarter of it (at least 1), so that slow URLs of one client leave the others
      theirs.
    - the claims across outlets: brought up to date with the store by one background
      thread; requests wait for it until their deadline, then get 503 ``busy`` while it
      goes on.

    Work stops when its request is answered: a task still queued at the deadline
    never starts, and a running one gets only the time left (``Config.time_budget``
    of the analysis, ``fetch_timeout`` of the fetch set from it), so an analysis or
    fetch that would end after the 504 stops at its next check instead, and an
    ingest past its time stores nothing.

    Threads rather than processes: one copy of the model serves every request, the
    GIL is released while fetching and waiting, and ``sourcetrace serve --workers N``
    adds processes for CPU parallelism.
    """

    def __init__(self, config: Config, store: Any, token: str | None, public: bool, *,
                 threads: int = 2, queue: int | None = None, fetchers: int = 8,
                 time_limit: float = 60.0, large_chars: int = LARGE_CHARS,
                 per_client: int | None = None) -> None:
        if threads < 1 or fetchers < 1 or not time_limit > 0:
            raise ConfigError("threads and fetchers must be at least 1, time_limit positive")
        budget = getattr(config, "time_budget", None)
        if budget is not None and (budget == 0 or budget > time_limit):
            config = config.replace(time_budget=time_limit)
        self.config = config
        self.token = token
        self.public = public
        self.time_limit = float(time_limit)
        self.large_chars = large_chars
        queue = 4 * threads if queue is None else queue
        large = max(1, threads // 2)

        def share(workers: int, waiting: int, part: int) -> int:
            return per_client if per_client is not None else max(1, (workers + waiting) // part)

        self._pools_lock = threading.Lock()
        self._pools = {
            "small": FairPool("analysis", threads, queue, share(threads, queue, 2)),
            "large": FairPool("large analysis", large, queue // 2, share(large, queue // 2, 2)),
            "fetch": FairPool("fetch", fetchers, queue, share(fetchers, 0, 4)),
        }
        self._claims_pool = cf.ThreadPoolExecutor(1, thread_name_prefix="sourcetrace-claims")
        self._closed = False
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

    def pool(self, name: str) -> FairPool:
        """The pool ``small``, ``large`` (analyses) or ``fetch``."""
        return self._pools[name]

    def size_class(self, size: int) -> str:
        """The analysis lane of an input of ``size`` characters (or bytes)."""
        return "large" if size > self.large_chars else "small"

    def _reopen(self) -> None:
        """Pools closed by an app shutdown come back for an app started again (the same
        Services may serve several lifespans, e.g. in tests or an embedding server)."""
        if self._closed:
            with self._pools_lock:
                if self._closed:
                    for pool in self._pools.values():
                        pool.open()
                    self._claims_pool = cf.ThreadPoolExecutor(
                        1, thread_name_prefix="sourcetrace-claims")
                    self._closed = False

    def bounded(self, config: Config, deadline: float) -> Config:
        """``config`` with no more time than is left before ``deadline``: the analysis's
        time budget and the fetch's timeouts (the whole fetch takes at most
        ``fetch.DEADLINE_FACTOR`` x ``fetch_timeout``). RequestTimeoutError when none is
        left (the request was answered already: the work does not start)."""
        from ..inputs.fetch import DEADLINE_FACTOR

        left = deadline - time.monotonic()
        if left <= 0.05:
            raise RequestTimeoutError("the request was answered before its work could start")
        budget = config.time_budget
        changes: dict[str, float] = {}
        if budget == 0 or budget > left:
            changes["time_budget"] = left
        if config.fetch_timeout * DEADLINE_FACTOR > left:
            changes["fetch_timeout"] = left / DEADLINE_FACTOR
        return config.replace(**changes) if changes else config

    def _run(self, pool_name: str, what: str, fn: Callable, args: tuple, kwargs: dict,
             deadline: float | None) -> Any:
        self._reopen()
        deadline = self.deadline() if deadline is None else deadline
        pool = self._pools[pool_name]

        def bounded_call() -> Any:
            # in the worker: only the time left when it starts (none: it does not start)
            call_kwargs = dict(kwargs)
            if isinstance(call_kwargs.get("config"), Config):
                call_kwargs["config"] = self.bounded(call_kwargs["config"], deadline)
            else:
                self.bounded(self.config, deadline)
            return fn(*args, **call_kwargs)

        future = pool.submit(current_client.get(), bounded_call)
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except cf.TimeoutError:
            pool.withdraw(future)   # a queued task never starts; a running one is out of time
            raise RequestTimeoutError(
                f"{what} took longer than this server's limit of {self.time_limit:g} s",
                hint="send a shorter article, or start the server with a longer --time-limit"
            ) from None

    def analyze(self, fn: Callable, *args: Any, deadline: float | None = None,
                size: int | None = None, **kwargs: Any) -> Any:
        """Run one library call that analyses (or ingests) in the analysis lane of its
        size (``size``; by default the length of the first argument when it is a
        string or bytes), within the request's deadline. A ``config=`` keyword is
        given only the time left when the call starts."""
        if size is None:
            size = len(args[0]) if args and isinstance(args[0], (str, bytes)) else 0
        return self._run(self.size_class(size), "the analysis", fn, args, kwargs, deadline)

    def fetch(self, fn: Callable, *args: Any, deadline: float | None = None,
              **kwargs: Any) -> Any:
        """Run one library call that fetches a URL in the fetch pool, within the deadline
        (its ``config=`` keyword gets timeouts that end by the deadline)."""
        return self._run("fetch", "fetching the URL", fn, args, kwargs, deadline)

    def close(self) -> None:
        with self._pools_lock:
            self._closed = True
            for pool in self._pools.values():
                pool.close()
            self._claims_pool.shutdown(wait=False, cancel_futures=True)

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
        analysis = s.analyze(_analyze_document, document, config=s.config, deadline=deadline,
                             size=len(document.text))
        return analysis.replace(meta={**analysis.meta, **meta}) if meta else analysis
    return s.analyze(pipeline.analyze, value, config=s.config, meta=meta, deadline=deadline)


def _analyze_document(document, *, config: Config):
    from .. import pipeline

    return next(pipeline.analyze_documents([document], config=config))


def _collect(url: str, *, config: Config) -> list:
    """The articles at ``url`` (one page, or a feed's items), fetched."""
    from ..inputs import collect

    return list(collect.collect([url], config=config))


def _ingest_items(s: Services, items: list, *, config: Config):
    """corpus.ingest of ready items, on this worker thread's own store."""
    from ..corpus import runner as corpus

    return corpus.ingest([], s.store(), config=config, items=items)


def ingest_request(s: Services, body: schemas.IngestRequest):
    """Analyse and store one article; the corpus run's report. A URL is fetched in the
    fetch pool, then analysed and stored in the analysis lane of its size."""
    from ..inputs import collect, read as ingest
    from ..corpus.store import content_hash

    kind, value = body.input()
    store = s.store()
    meta = {k: v for k, v in (body.meta.model_dump() if body.meta else {}).items() if v is not None}
    deadline = s.deadline()
    if kind == "url":
        label = value
        items = s.fetch(_collect, value, config=s.config, deadline=deadline)
    else:
        document = ingest.from_string(value, config=s.config, meta=meta,
                                      html=True if kind == "html" else None)
        label = meta.get("url") or f"api:{content_hash(document.text)[:16]}"
        items = [collect.Collected(input=label, document=document, kind=kind,
                                   raw=value if kind == "html" else None)]
    size = sum(len(getattr(getattr(i, "document", None), "text", "")) for i in items)
    # in the worker thread, with that thread's own store (a SQLite connection
    # belongs to the thread that opened it)
    report = s.analyze(_ingest_items, s, items, config=s.config, deadline=deadline, size=size)
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


def article_factchecks(s: Services, article) -> list[dict[str, Any]]:
    """The stored fact-checks that state or contradict a claim of a stored article: what
    `analyze --db` shows (crossoutlet.factchecks.article_factchecks), for its page."""
    from ..crossoutlet.factchecks import article_factchecks as checks_of

    analysis = article.analysis
    if not (analysis.meta or {}).get("id"):
        analysis = analysis.replace(meta={**(analysis.meta or {}), "id": str(article.id)})
    return checks_of(analysis, s.store())


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
    from ..crossoutlet.match import Match
    from ..crossoutlet.retrieve import as_evidence
    from ..crossoutlet.stored import StoredClaims, stored_claims_ready
    from ..crossoutlet.tracing import ranked_trace

    store = s.store()
    # a store whose articles all have their claims is read only as far as the trace needs
    # (crossoutlet/stored.py); else the claims are brought up to date in memory first
    stored = stored_claims_ready(store)
    with (contextlib.nullcontext(StoredClaims(store)) if stored else s.claims()) as x:
        if claim and claim not in x.claims:
            raise NotFoundError(f"there is no claim {claim!r}",
                                hint="list the claims with GET /api/claims")
        if text is not None and not text.strip():
            raise InputError("the text to trace is empty", hint="give the words of a claim")
        # the ranked list (crossoutlet/retrieve.py): closest claims with probability and verdict
        ranked, checks, cluster = ranked_trace(x, text=text, claim_id=claim,
                                               store=store if stored else None)
        listed = {"verdict": ranked.verdict, "ranked": [h.to_dict() for h in ranked.hits],
                  "factchecks_ranked": [h.to_dict() for h in checks.hits] if checks else []}
        matches = [Match("", h.id, as_evidence(h)).to_dict() for h in ranked.confirmed]
        if cluster is None:
            return {"cluster": None, "claims": [], "timeline": [], "matches": [],
                    "factchecks": x.checked(text=text), **listed}
        claims = [x.claims[c] for c in cluster.claim_ids]
        return {"cluster": cluster.to_dict(), "claims": [c.to_dict() for c in claims],
                "timeline": first_appearances(claims, x.arrival),
                "matches": matches,
                "factchecks": x.checked(text=text, claim_ids=cluster.claim_ids), **listed}



def standalone_response(analysis, filename: str | None = None) -> HTMLResponse:
    from ..output.html import render_analysis_html, standalone_csp

    headers = {"content-security-policy": standalone_csp()}
    if filename:
        headers["content-disposition"] = f'attachment; filename="{filename}"'
    return HTMLResponse(render_analysis_html(analysis, standalone=True), headers=headers)
