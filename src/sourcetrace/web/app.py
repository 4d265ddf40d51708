"""The HTTP API and the web UI: a thin FastAPI shell over the library.

    app = create_app(config, store="sourcetrace.db")   # or a Store, or None (no corpus)
    sourcetrace serve --db sourcetrace.db --host 127.0.0.1 --port 8000

JSON endpoints (OpenAPI at ``/openapi.json``, a readable reference at ``/api``)::

    GET  /api/health                       status, version, whether a corpus is open
    POST /api/analyze                      one article (text, HTML or URL) -> Analysis
    POST /api/ingest              (write)  analyse one article and store it in the corpus
    GET  /api/articles                     stored articles with their profile, paged
    GET  /api/articles/{id}                one article with its whole analysis
    GET  /api/articles/{id}/attributions   its attributions
    GET  /api/articles/{id}/sources        its source registry
    GET  /api/articles/{id}/view           the article view as one HTML file (to save or mail)
    GET  /api/sources                      top sources, overall or by outlet / kind / identity
    GET  /api/search?q=                    full text over articles, quotes and sources
    GET  /api/report                       sourcing compared by outlet / month / week
    GET  /api/claims, /api/trace           claims with corroboration, first appearance per outlet
    GET  /api/failures                     inputs that could not be ingested, and why

Every route calls one library function and returns its records' ``to_dict()``.

Errors: one handler (``handle_error``) turns any exception into
``{"error": {"code", "message", "hint"}}``: our SourcetraceError hierarchy by
``STATUS`` (the first class in the error's MRO found there), FastAPI's validation
errors as 422 ``invalid_request``, unknown routes as 404 ``not_found``, and
anything unexpected as 500 ``internal_error`` (logged with its traceback). Pages of
the web UI get the same error as an HTML page. Statuses: 400 bad input or option,
401 missing token, 403 refused address, 404 no such record, 413 too large, 422 invalid
request / not English / URL not fetched, 429 this client holds its share of the server,
503 busy, no corpus or the store or model failed, 504 past the time limit.

Safety:
- request bodies over ``config.max_input_bytes`` + 64 KiB are refused (413) while
  they stream in, before any parsing;
- write endpoints (``ingest``) need ``Authorization: Bearer <SOURCETRACE_TOKEN>``
  whenever a token is set, and a server that listens beyond loopback refuses to
  start without one (analyse writes nothing and needs no token);
- URLs are fetched by ``sourcetrace.fetch``, which refuses private, loopback and
  link-local addresses unless ``config.allow_private``;
- every response carries a Content-Security-Policy: scripts and styles only from
  this server's ``/static`` (no inline script anywhere in the UI), no frames, no
  plugins, forms only to this server. The one exception is the downloadable
  standalone view, whose policy allows exactly its own inline blocks by hash.

- the ``Host`` header must name this server (``allowed_hosts``: a loopback server
  answers to localhost, 127.0.0.1 and [::1] only, plus the names it was started
  for), else 400 ``bad_host``: a DNS-rebinding page cannot read or write through a
  browser on this machine;
- ids in paths are checked (1 to 2^63-1) before they reach the store (422);
- every query parameter of every endpoint is refused (400 ``bad_request``) when it
  holds a control character (NUL and the other C0 controls but tab and line breaks,
  DEL), before any store sees it; dates (``since``, ``until``) are checked the same
  way by /api/search and /api/report (corpus.store.check_filters).

Responsive and fair under load (services.Services): analyses run in two lanes by
size (a short article never waits behind long ones), URL fetches in a pool of their
own, each served round robin by client with a per-client share; the claims across
outlets are rebuilt by a background thread; no lock is held across them. A full
lane is answered 503 ``busy``, a client over its share 429 ``too_many_requests``
(both with Retry-After), a request past its time limit 504 ``request_timeout``, and
its work stops (services.Services). Clients are told apart by their address
(``ClientOf``). ``--workers N`` runs N processes.
"""
from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
import urllib.parse
from typing import Any, Callable

from ..config import DEFAULT, Config
from ..errors import (
    BlockedAddressError,
    ConfigError,
    FetchError,
    InputError,
    InputTooLargeError,
    ModelError,
    SourcetraceError,
    StoreError,
    UnsupportedLanguageError,
)

try:  # the web extra
    from fastapi import Depends, FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response
    from starlette.exceptions import HTTPException as StarletteHTTPException
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the HTTP API needs the web extra: pip install 'sourcetrace[web]'") from exc

from .. import __version__
from . import schemas
from .services import (
    BusyError,
    NotFoundError,
    RequestTimeoutError,
    Services,
    TooManyRequestsError,
    UnauthorizedError,
    analyze_request,
    article_summary,
    current_client,
    get_article,
    ingest_request,
    list_articles,
    list_claims,
    outlet_report,
    require_token,
    services,
    standalone_response,
    trace,
)

log = logging.getLogger("sourcetrace.web.app")

ACTS_DOC = ("count only these acts (speech, belief, finding, intention, perception, comma-"
            "separated) or all; default speech, as in the CLI and the web UI")
CONF_DOC = "count only attributions at least this likely to be right (0-1; default 0.6)"

__all__ = ["create_app", "create_app_from_env", "NotFoundError", "UnauthorizedError",
           "STATUS", "CSP", "is_loopback"]

ENVELOPE_BYTES = 65_536   # what a request may carry beyond the input itself (JSON, form fields)


# The HTTP status of each error class; the most specific class in an error's MRO wins.
STATUS: dict[type[BaseException], int] = {
    NotFoundError: 404,
    TooManyRequestsError: 429,
    BusyError: 503,
    RequestTimeoutError: 504,
    UnauthorizedError: 401,
    InputTooLargeError: 413,
    UnsupportedLanguageError: 422,
    InputError: 400,
    ConfigError: 400,
    BlockedAddressError: 403,
    FetchError: 422,          # the URL given cannot be used (dead, timeout, not an article)
    ModelError: 503,
    StoreError: 503,
    SourcetraceError: 500,
}

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 413: "input_too_large",
               415: "unsupported_media_type", 422: "invalid_request", 429: "too_many_requests"}


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- errors


def status_of(exc: BaseException) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_payload(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """(HTTP status, {"error": {...}}) for any exception."""
    if isinstance(exc, SourcetraceError):
        status = status_of(exc)
        body = {"code": exc.code, "message": exc.message, "hint": exc.hint}
    elif isinstance(exc, RequestValidationError):
        status = 422
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", ""))
        body = {"code": "invalid_request", "message": "; ".join(problems) or "invalid request",
                "hint": "see /openapi.json for the request schema"}
    elif isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        body = {"code": _HTTP_CODES.get(status, f"http_{status}"), "message": detail, "hint": None}
        if status == 404:
            body["message"] = "no such page or endpoint"
            body["hint"] = "see /api for the endpoints"
    else:
        status = 500
        body = {"code": "internal_error",
                "message": "an unexpected error stopped this request",
                "hint": "this is a bug: the server log has the traceback"}
    return status, {"error": body}


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api") or path.endswith(".json") or path.startswith("/static"):
        return False
    return "text/html" in request.headers.get("accept", "")


async def handle_error(request: Request, exc: Exception) -> Response:
    """The one place where exceptions become HTTP responses (JSON, or a page for browsers)."""
    status, payload = error_payload(exc)
    if isinstance(exc, (BusyError, RequestTimeoutError)):
        log.warning("%s %s: %s", request.method, request.url.path, exc)
    elif status >= 500:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    headers = dict(SECURITY_HEADERS)
    if isinstance(exc, StarletteHTTPException) and exc.headers:
        headers.update(exc.headers)      # e.g. Allow on 405
    if status == 401:
        headers["www-authenticate"] = "Bearer"
    if isinstance(exc, BusyError):
        headers["retry-after"] = str(getattr(exc, "retry_after", 5))
    if _wants_html(request):
        from . import pages

        return HTMLResponse(pages.render("error.html", status=status, error=payload["error"]),
                            status_code=status, headers=headers)
    return JSONResponse(payload, status_code=status, headers=headers)


# --------------------------------------------------------------------------- middleware


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (413) as they stream in."""

    def __init__(self, app: Callable, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = InputTooLargeError(
            f"the request body is over the limit of {self.max_bytes:,} bytes",
            hint="send a single article, or raise max_input_bytes")
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    return await _send_error(scope, send, too_large)
        seen = 0
        refused = False

        async def limited_receive():
            # past the limit: answer 413 ourselves and tell the app the client left
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    await _send_error(scope, send, too_large)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not refused:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)


async def _send_error(scope, send, exc: SourcetraceError) -> None:
    status, payload = error_payload(exc)
    response = JSONResponse(payload, status_code=status, headers=SECURITY_HEADERS)
    await response(scope, None, send)


class ClientOf:
    """Set ``services.current_client`` for each request: the client's address, by
    which the pools share their workers out (FairPool)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client = scope.get("client")
        token = current_client.set(str(client[0]) if client else "-")
        try:
            await self.app(scope, receive, send)
        finally:
            current_client.reset(token)


# C0 controls but tab, line feed and carriage return, and DEL
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_query(query_string: bytes) -> None:
    """InputError when a query parameter (name or value) holds a control character."""
    if not query_string:
        return
    try:
        pairs = urllib.parse.parse_qsl(query_string.decode("latin-1"), keep_blank_values=True,
                                       encoding="utf-8", errors="replace")
    except ValueError as exc:
        raise InputError(f"the query string cannot be read: {exc}") from None
    for name, value in pairs:
        for part in (name, value):
            bad = _CONTROL.search(part)
            if bad:
                raise InputError(
                    f"the query parameter {name[:40]!r} holds a control character "
                    f"(U+{ord(bad.group()):04X}), which no filter or search can contain",
                    hint="remove it from the value (control characters are never part of an "
                         "outlet, a date or a search)")


class QueryCheck:
    """Answer 400 to any request whose query parameters hold control characters, the
    same on every endpoint and every store (check_query)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            try:
                check_query(scope.get("query_string", b""))
            except InputError as exc:
                return await _send_error(scope, send, exc)
        return await self.app(scope, receive, send)


def allowed_hosts_for(host: str, extra: Any = ()) -> frozenset[str] | None:
    """The ``Host`` names a server listening on ``host`` answers to (lower case, no
    port), or None for any: a loopback server answers to the loopback names; a server
    on one address to that address; one on every address (0.0.0.0, ::) to any name
    unless ``extra`` names them. ``extra`` names are added in every case."""
    extra = {h.strip().strip("[]").lower() for h in extra if h.strip()}
    host = host.strip().strip("[]").lower()
    if is_loopback(host):
        return frozenset(LOOPBACK_NAMES | {host} | extra)
    if host in WILDCARDS:
        return frozenset(LOOPBACK_NAMES | extra) if extra else None
    return frozenset({host} | extra)


def host_name(value: str) -> str:
    """The name of a Host header: lower case, without port or IPv6 brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class TrustedHosts:
    """Answer 400 to a request whose ``Host`` header is not one of ``allowed`` (DNS
    rebinding: a page from another site resolving its name to this server)."""

    def __init__(self, app: Callable, allowed: frozenset[str] | None) -> None:
        self.app, self.allowed = app, allowed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.allowed is None:
            return await self.app(scope, receive, send)
        given = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"),
                     "")
        if host_name(given) not in self.allowed:
            return await _send_error(scope, send, InputError(
                f"this server does not answer to the host name {given[:100]!r}",
                hint="use http://127.0.0.1 or http://localhost, or start the server with "
                     "--allowed-host NAME"))
        return await self.app(scope, receive, send)


class SecurityHeaders:
    """Add the Content-Security-Policy (unless the response set its own) and friends."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                for k, v in SECURITY_HEADERS.items():
                    if k.encode() not in have:
                        headers.append((k.encode(), v.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --------------------------------------------------------------------------- the app


def create_app(config: Config = DEFAULT, store: Any = None, *, host: str = "127.0.0.1",
               token: str | None = None, preload: bool = False,
               allowed_hosts: Any = (), threads: int = 2, queue: int | None = None,
               time_limit: float = 60.0, per_client: int | None = None) -> FastAPI:
    """The FastAPI app: JSON API under /api, the web UI at /, static files at /static.

    ``store``: a Store, a database name (path or ``postgresql://`` URL) or None (no
    corpus: the corpus endpoints answer 503). ``host``: where the server listens;
    beyond loopback a token is required. ``token``: defaults to $SOURCETRACE_TOKEN.
    ``preload``: load the spaCy pipeline at start-up (lifespan) rather than on the
    first analyse request. ``allowed_hosts``: more names the ``Host`` header may
    give (allowed_hosts_for). ``threads``, ``queue``, ``time_limit``, ``per_client``:
    the analysis lanes, the per-request limit in seconds and each client's share
    (services.Services).
    """
    if token is None:
        token = os.environ.get("SOURCETRACE_TOKEN") or None
    public = not is_loopback(host)
    if public and not token:
        raise ConfigError(f"listening on {host} exposes the write endpoints to the network",
                          hint="set SOURCETRACE_TOKEN to a long random string, or listen on 127.0.0.1")
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if preload:
            import anyio

            from .. import pipeline

            await anyio.to_thread.run_sync(pipeline.load_for, config)
        yield
        app.state.services.close()   # queued work is dropped at shutdown, never started

    app = FastAPI(
        lifespan=lifespan,
        title="sourcetrace",
        version=__version__,
        summary="Who says what in the news: attributions, sources and how well each claim is sourced.",
        description=("Analyse an article (text, HTML or URL) into attributions (source, cue, "
                     "content with character offsets), resolved and typed sources, unattributed "
                     "assertions and a sourcing profile; browse and search a stored corpus; trace "
                     "claims across outlets. Errors are `{\"error\": {\"code\", \"message\", "
                     "\"hint\"}}`. Write endpoints need `Authorization: Bearer $SOURCETRACE_TOKEN` "
                     "when the server has a token."),
        docs_url=None, redoc_url=None,   # their pages load scripts from a CDN; /api is ours
        openapi_tags=[{"name": "analyse", "description": "one article, nothing stored"},
                      {"name": "corpus", "description": "stored articles, sources and search"},
                      {"name": "claims", "description": "claims across outlets"},
                      {"name": "meta", "description": "server status"}],
        responses={413: {"model": schemas.ErrorOut, "description": "request body too large"},
                   422: {"model": schemas.ErrorOut, "description": "invalid request"}},
    )
    app.state.services = Services(config, store, token, public, threads=threads, queue=queue,
                                  time_limit=time_limit, per_client=per_client)
    for cls in (SourcetraceError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(cls, handle_error)
    app.add_middleware(BodyLimit, max_bytes=config.max_input_bytes + ENVELOPE_BYTES)
    app.add_middleware(QueryCheck)
    app.add_middleware(ClientOf)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrustedHosts, allowed=allowed_hosts_for(host, allowed_hosts))
    _json_routes(app)
    from . import pages

    pages.register(app)
    return app


def create_app_from_env() -> FastAPI:
    """The app as ``sourcetrace serve`` configures it through the environment (for workers).

    SOURCETRACE_DB, SOURCETRACE_HOST, SOURCETRACE_ALLOW_PRIVATE=1, SOURCETRACE_TOKEN,
    SOURCETRACE_ALLOWED_HOSTS (comma-separated), SOURCETRACE_THREADS,
    SOURCETRACE_TIME_LIMIT.
    """
    env = os.environ
    config = DEFAULT.replace(allow_private=env.get("SOURCETRACE_ALLOW_PRIVATE") == "1")
    return create_app(config, store=env.get("SOURCETRACE_DB") or None,
                      host=env.get("SOURCETRACE_HOST", "127.0.0.1"), preload=True,
                      allowed_hosts=[h for h in env.get("SOURCETRACE_ALLOWED_HOSTS", "").split(",")
                                     if h.strip()],
                      threads=int(env.get("SOURCETRACE_THREADS") or 2),
                      time_limit=float(env.get("SOURCETRACE_TIME_LIMIT") or 60))


ERRORS = {400: {"model": schemas.ErrorOut, "description": "bad input"},
          404: {"model": schemas.ErrorOut, "description": "not found"},
          503: {"model": schemas.ErrorOut, "description": "busy (see Retry-After), no corpus, or the "
                                                  "store or model failed"}}
FETCH_ERRORS = {403: {"model": schemas.ErrorOut, "description": "the URL's address is refused"},
                422: {"model": schemas.ErrorOut, "description": "invalid request, or the URL "
                      "could not be fetched (code fetch_failed)"},
                429: {"model": schemas.ErrorOut, "description": "this client already holds its "
                      "share of the server's workers (too_many_requests; see Retry-After)"},
                504: {"model": schemas.ErrorOut, "description": "past the server's time limit "
                      "(request_timeout); the work was stopped"}}


def _json_routes(app: FastAPI) -> None:
    @app.get("/api/health", tags=["meta"], response_model=schemas.Health)
    def health(request: Request) -> dict[str, Any]:
        """Whether the server is up, its version and whether a corpus is open."""
        return {"status": "ok", "version": __version__, "store": services(request).has_store}

    @app.post("/api/analyze", tags=["analyse"], responses={
        200: {"model": schemas.AnalysisOut, "description": "the Analysis (JSON), or with "
              "format=html one self-contained HTML page",
              "content": {"text/html": {"schema": {"type": "string"}}}},
        **ERRORS, **FETCH_ERRORS})
    def analyze(request: Request, body: schemas.AnalyzeRequest,
                format: str = Query("json", pattern="^(json|html)$",
                                    description="json (the Analysis) or html (the article view)")
                ) -> Response:
        """Analyse one article: attributions, sources, assertions and its sourcing profile.

        Give exactly one of `text` (plain text; HTML is detected), `html` or `url`.
        Nothing is stored.
        """
        analysis = analyze_request(services(request), body)
        if format == "html":
            return standalone_response(analysis)
        return JSONResponse(analysis.to_dict())

    @app.post("/api/ingest", tags=["corpus"], status_code=200, dependencies=[Depends(require_token)],
              response_model=schemas.IngestOut, responses={
                  401: {"model": schemas.ErrorOut, "description": "missing or wrong token"},
                  **ERRORS, **FETCH_ERRORS})
    def ingest(request: Request, body: schemas.IngestRequest) -> JSONResponse:
        """Analyse one article and store it in the corpus (idempotent by content hash).

        A write: needs the bearer token when the server has one.
        """
        return JSONResponse(ingest_request(services(request), body).to_dict())

    @app.get("/api/articles", tags=["corpus"], response_model=schemas.ArticleList, responses=ERRORS)
    def articles(request: Request, outlet: str | None = Query(None, max_length=400),
                 offset: int = Query(0, ge=0, le=10_000_000),
                 limit: int = Query(50, ge=1, le=500)) -> JSONResponse:
        """Stored articles (id order) with their counts and sourcing profile."""
        return JSONResponse(list_articles(services(request), outlet=outlet, offset=offset, limit=limit))

    @app.get("/api/articles/{article_id}", tags=["corpus"], response_model=schemas.ArticleOut,
             responses=ERRORS)
    def article(request: Request, article_id: schemas.ArticleId) -> JSONResponse:
        """One stored article with its whole analysis."""
        a = get_article(services(request), article_id)
        return JSONResponse({**article_summary(a), "analysis": a.analysis.to_dict()})

    @app.get("/api/articles/{article_id}/attributions", tags=["corpus"],
             response_model=list[schemas.AttributionOut], responses=ERRORS)
    def article_attributions(request: Request, article_id: schemas.ArticleId) -> JSONResponse:
        """The attributions of one stored article (offsets into its text)."""
        a = get_article(services(request), article_id)
        return JSONResponse([x.to_dict() for x in a.analysis.attributions])

    @app.get("/api/articles/{article_id}/sources", tags=["corpus"],
             response_model=list[schemas.SourceOut], responses=ERRORS)
    def article_sources(request: Request, article_id: schemas.ArticleId) -> JSONResponse:
        """The source registry of one stored article."""
        a = get_article(services(request), article_id)
        return JSONResponse([x.to_dict() for x in a.analysis.sources])

    @app.get("/api/articles/{article_id}/view", tags=["corpus"], responses={
        200: {"description": "one self-contained HTML page (an attachment)",
              "content": {"text/html": {"schema": {"type": "string"}}}}, **ERRORS})
    def article_view(request: Request, article_id: schemas.ArticleId) -> Response:
        """The article view as one self-contained HTML file (to save or mail)."""
        a = get_article(services(request), article_id)
        return standalone_response(a.analysis, filename=f"sourcetrace-article-{article_id}.html")

    @app.get("/api/sources", tags=["corpus"], response_model=list[schemas.SourceCountOut],
             responses=ERRORS)
    def sources(request: Request,
                by: str | None = Query(None, pattern="^(outlet|kind|identity)$",
                                       description="group by outlet, kind or identity"),
                outlet: str | None = Query(None, max_length=400),
                kind: str | None = Query(None, max_length=40),
                identity: str | None = Query(None, max_length=40),
                limit: int = Query(20, ge=1, le=1000), offset: int = Query(0, ge=0),
                acts: str = Query("", max_length=80, description=ACTS_DOC),
                min_confidence: str = Query("", max_length=10, description=CONF_DOC)
                ) -> JSONResponse:
        """The most cited source entities: by number of articles, then counted attributions
        (the X-Sourcetrace-Counted header names what is counted)."""
        from .pages import selection_of

        selection = selection_of(acts, min_confidence)
        rows = services(request).store().top_sources(by=by, outlet=outlet, kind=kind,
                                                     identity=identity, limit=limit,
                                                     offset=offset, selection=selection)
        return JSONResponse([r.to_dict() for r in rows],
                            headers={"X-Sourcetrace-Counted": selection.describe()})

    @app.get("/api/entities/{entity_id}", tags=["corpus"], responses=ERRORS)
    def entity(request: Request, entity_id: int, limit: int = Query(50, ge=1, le=1000),
               offset: int = Query(0, ge=0),
               acts: str = Query("", max_length=80, description=ACTS_DOC),
               min_confidence: str = Query("", max_length=10, description=CONF_DOC)
               ) -> JSONResponse:
        """One source entity: its aliases, identity and kind counts, its counted
        attributions by outlet and act, and one page of them with their claim ids."""
        from ..corpus.lookup import entity_profile
        from .pages import selection_of

        found = entity_profile(services(request).store(), entity_id,
                               selection=selection_of(acts, min_confidence), limit=limit,
                               offset=offset)
        if found is None:
            raise NotFoundError(f"there is no source entity {entity_id}",
                                hint="list the sources with GET /api/sources (entity_id)")
        return JSONResponse(found)

    @app.get("/api/report", tags=["corpus"], responses=ERRORS)
    def report(request: Request,
               by: str = Query("outlet", pattern="^(outlet|month|week|outlet,month|outlet,week|"
                                                "month,outlet|week,outlet)$",
                               description="one group per outlet, month, week or outlet and "
                                           "month/week"),
               outlet: list[str] = Query([], description="only these outlets (repeat)"),
               since: str | None = Query(None, max_length=10, description="YYYY-MM-DD, on or after"),
               until: str | None = Query(None, max_length=10, description="YYYY-MM-DD, on or before"),
               top: int = Query(5, ge=0, le=100),
               acts: str = Query("", max_length=80, description=ACTS_DOC),
               min_confidence: str = Query("", max_length=10, description=CONF_DOC)
               ) -> JSONResponse:
        """Sourcing compared by outlet and over time: per group, articles, attributions per
        article, shares by source identity and kind with counts and 95% Wilson intervals,
        transparency score mean, median and distribution, check-worthy statements left
        unattributed, hearsay chains, top sources (the JSON of `sourcetrace report`)."""
        from ..corpus import report as reports
        from .pages import selection_of

        selection = selection_of(acts, min_confidence)
        return JSONResponse(reports.build_report(services(request).store(), by=by,
                                                 outlets=outlet, since=since, until=until,
                                                 top=top, selection=selection),
                            headers={"X-Sourcetrace-Counted": selection.describe()})

    @app.get("/api/search", tags=["corpus"], response_model=list[schemas.SearchHitOut],
             responses=ERRORS)
    def search(request: Request, q: str = Query(..., min_length=1, max_length=1000,
                                                description='words and "quoted phrases"; all must match'),
               outlet: str | None = Query(None, max_length=400),
               since: str | None = Query(None, max_length=40, description="date >= (ISO)"),
               until: str | None = Query(None, max_length=40, description="date <= (ISO)"),
               identity: str | None = Query(None, max_length=40),
               kind: str | None = Query(None, max_length=40),
               what: str | None = Query(None, pattern="^(article|quote|source)$"),
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
               acts: str = Query("", max_length=80, description=ACTS_DOC),
               min_confidence: str = Query("", max_length=10, description=CONF_DOC)
               ) -> JSONResponse:
        """Full text over articles, quotes and sources, with filters: each hit with its
        speaker, act and match offsets (highlights); X-Total-Count gives every match."""
        from .pages import selection_of

        selection = selection_of(acts, min_confidence)
        hits = services(request).store().search(q, outlet=outlet, since=since, until=until,
                                                identity=identity, kind=kind, what=what,
                                                limit=limit, offset=offset, selection=selection)
        return JSONResponse([h.to_dict() for h in hits],
                            headers={"X-Total-Count": str(getattr(hits, "total", len(hits))),
                                     "X-Sourcetrace-Counted": selection.describe()})

    @app.get("/api/claims", tags=["claims"], response_model=list[schemas.ClusterOut],
             responses=ERRORS)
    def claims(request: Request, min_outlets: int = Query(1, ge=1, le=1000,
                                                          description="carried by at least this many outlets"),
               limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
               acts: str = Query("", max_length=80, description=ACTS_DOC),
               min_confidence: str = Query("", max_length=10, description=CONF_DOC)
               ) -> JSONResponse:
        """Claims across the corpus, matched across outlets, with their corroboration.

        Each cluster is one claim: the outlets carrying it, the independent voices,
        the earliest appearance, the original source and its relay chain. Only the
        clusters holding a claim of a counted attribution (or an outlet's own claim);
        X-Total-Count gives them all.
        """
        from ..corpus.counted import claim_counted, counted_attributions
        from .pages import selection_of

        selection = selection_of(acts, min_confidence)
        s = services(request)
        counted = counted_attributions(s.store(), selection)
        with s.claims() as cross:
            every = [c for c in cross.clusters(min_outlets=min_outlets)
                     if any(claim_counted(i, counted) for i in c.claim_ids)]
            page = [c.to_dict() for c in every[offset:offset + limit]]
        return JSONResponse(page, headers={"X-Total-Count": str(len(every)),
                                           "X-Sourcetrace-Counted": selection.describe()})

    @app.get("/api/trace", tags=["claims"], response_model=schemas.TraceOut, responses=ERRORS)
    def trace_route(request: Request,
                    claim: str | None = Query(None, max_length=200, description="a claim id from /api/claims"),
                    text: str | None = Query(None, max_length=2000, description="or a sentence to look for")
                    ) -> JSONResponse:
        """Where a claim came from: its cluster, and its first appearance in each outlet."""
        return JSONResponse(trace(services(request), claim=claim, text=text))

    @app.get("/api/failures", tags=["corpus"], response_model=list[schemas.FailureOut],
             responses=ERRORS)
    def failures(request: Request) -> JSONResponse:
        """Inputs that could not be ingested, with the reason."""
        return JSONResponse([f.to_dict() for f in services(request).store().failures()])
