"""The web UI's pages: server-rendered Jinja2 templates (autoescaped) and /static.

    GET  /                    paste, upload or give a URL
    POST /analyze             -> the article view (or the standalone file to download)
    GET  /articles            the corpus: articles with their profile scores
    GET  /articles/{id}       one stored article in the article view
    GET  /sources             sources overall, by kind, by outlet, by identity
    GET  /entities/{id}       one source entity: its attributions by outlet and act, its
                              aliases, its claims
    GET  /outlets             sourcing compared by outlet and over time, with charts
    GET  /search?q=           full-text search: highlighted matches, the speaker, the total
    GET  /claims              claims with corroboration; /claims/trace?claim= a timeline

The corpus pages (sources, entities, outlets, search, claims) count the attributions of
one selection, chosen with ``acts`` and ``min_confidence`` (a toggle on each page, the
same default as the CLI: corpus.counted.DEFAULT_SELECTION) and named on the page; each
listing has a pager with the true total. Tables sort by a click on their heading
(/static/tables.js).
    GET  /api                 the API reference, from the OpenAPI schema

Every page calls the same library adapters as the JSON routes (api.py); no logic here
beyond choosing a template. No inline script: the one script is /static/article.js.
"""
from __future__ import annotations

import functools
from typing import Any

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from ..corpus.counted import DEFAULT_SELECTION, Selection, parse_selection
from ..errors import InputError
from ..model import ACTS
from . import schemas

#: the choices of the counted-acts toggle: (value of ``acts``, label)
ACT_CHOICES = (("", f"{','.join(DEFAULT_SELECTION.acts or ACTS)} (default)"), ("all", "all acts"),
               *((a, a) for a in ACTS))
CONFIDENCE_CHOICES = (("", f"{DEFAULT_SELECTION.min_confidence:g} (default)"), ("0", "any"),
                      ("0.8", "0.8"), ("0.9", "0.9"))


def selection_of(acts: str, min_confidence: str) -> Selection:
    """The Selection of a page's ``acts`` and ``min_confidence`` query (empty: default)."""
    try:
        conf = float(min_confidence) if min_confidence.strip() else None
    except ValueError:
        raise InputError(f"min_confidence {min_confidence!r} is not a number",
                         hint="give a probability between 0 and 1, e.g. 0.6") from None
    return parse_selection(acts.strip() or None, conf)


def marked(text: str, spans) -> list[tuple[str, bool]]:
    """A snippet cut into (text, is a match) parts, for <mark> in the template."""
    out, last = [], 0
    for start, end in spans:
        if start > last:
            out.append((text[last:start], False))
        out.append((text[start:end], True))
        last = end
    if last < len(text):
        out.append((text[last:], False))
    return out


@functools.lru_cache(maxsize=1)
def environment():
    import jinja2

    from .. import __version__
    from ..output.html import colour_class, profile_score

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sourcetrace.web", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(version=__version__, nav="", act_choices=ACT_CHOICES,
                       confidence_choices=CONFIDENCE_CHOICES)
    env.filters["score"] = profile_score
    env.filters["figure"] = profile_figure
    env.filters["colour"] = colour_class
    env.filters["qs"] = query_string
    return env


def query_string(values: dict[str, Any]) -> str:
    """A URL query from a dict, empty values left out, every value encoded."""
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in (values or {}).items() if v not in ("", None, [])},
                     doseq=True)


def profile_figure(profile: dict[str, Any] | None, path: str) -> float | None:
    """A number inside the profile by a dotted path ("assertions.checkworthy_unattributed_share")."""
    value: Any = profile
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, **context), status_code=status)


def register(app: FastAPI) -> None:
    from . import services as api

    static = StaticFiles(packages=[("sourcetrace.web", "static")])
    app.mount("/static", static, name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Response:
        s = api.services(request)
        return page("index.html", nav="analyse", has_store=s.has_store,
                    allow_private=s.config.allow_private)

    @app.post("/analyze", response_class=HTMLResponse, include_in_schema=False)
    def analyze_form(request: Request, text: str = Form(""), url: str = Form(""),
                     file: UploadFile | None = File(None), download: str = Form("")) -> Response:
        s = api.services(request)
        analysis = form_analysis(s, text, url, file)
        if download:
            return api.standalone_response(analysis, filename="sourcetrace-article.html")
        from ..output.html import render_analysis_fragment

        return page("article.html", nav="analyse", view=render_analysis_fragment(analysis),
                    title=analysis.title or "Article", article=None)

    @app.get("/articles", response_class=HTMLResponse, include_in_schema=False)
    def articles_page(request: Request, outlet: str | None = Query(None, max_length=400),
                      offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=500)) -> Response:
        listing = api.list_articles(api.services(request), outlet=outlet or None, offset=offset,
                                    limit=limit)
        return page("articles.html", nav="articles", listing=listing, outlet=outlet or "")

    @app.get("/articles/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(request: Request, article_id: schemas.ArticleId) -> Response:
        from ..output.html import render_analysis_fragment

        s = api.services(request)
        a = api.get_article(s, article_id)
        return page("article.html", nav="articles", view=render_analysis_fragment(a.analysis),
                    title=a.title or a.analysis.title or f"Article {article_id}", article=a,
                    factchecks=api.article_factchecks(s, a))

    @app.get("/sources", response_class=HTMLResponse, include_in_schema=False)
    def sources_page(request: Request, by: str = Query("", pattern="^(|outlet|kind|identity)$"),
                     limit: int = Query(20, ge=1, le=200), offset: int = Query(0, ge=0),
                     acts: str = Query("", max_length=80),
                     min_confidence: str = Query("", max_length=10)) -> Response:
        selection = selection_of(acts, min_confidence)
        store = api.services(request).store()
        rows = store.top_sources(by=by or None, limit=limit, offset=offset, selection=selection)
        total = len(store.top_sources(by=by or None, limit=10 ** 6, selection=selection)) \
            if not by else None
        groups: dict[Any, list] = {}
        for r in rows:
            groups.setdefault(r.group, []).append(r)
        return page("sources.html", nav="sources", by=by, groups=groups, limit=limit,
                    offset=offset, total=total, counted=selection, acts=acts,
                    min_confidence=min_confidence, shown=len(rows))

    @app.get("/entities/{entity_id}", response_class=HTMLResponse, include_in_schema=False)
    def entity_page(request: Request, entity_id: int,
                    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                    acts: str = Query("", max_length=80),
                    min_confidence: str = Query("", max_length=10)) -> Response:
        from ..corpus.lookup import entity_profile

        selection = selection_of(acts, min_confidence)
        found = entity_profile(api.services(request).store(), entity_id, selection=selection,
                               limit=limit, offset=offset)
        if found is None:
            raise api.NotFoundError(f"there is no source entity {entity_id}",
                                    hint="see the sources page for the entities of the corpus")
        return page("entity.html", nav="sources", e=found, counted=selection, acts=acts,
                    min_confidence=min_confidence)

    @app.get("/outlets", response_class=HTMLResponse, include_in_schema=False)
    def outlets_page(request: Request,
                     by: str = Query("outlet", pattern="^(outlet|month|week|outlet,month)$"),
                     outlet: list[str] = Query([]),
                     since: str = Query("", max_length=10),
                     until: str = Query("", max_length=10),
                     acts: str = Query("", max_length=80),
                     min_confidence: str = Query("", max_length=10)) -> Response:
        from ..corpus import report as reports

        chosen = [o for o in outlet if o.strip()]
        selection = selection_of(acts, min_confidence)
        store = api.services(request).store()
        result = reports.build_report(store, by=by, outlets=chosen, since=since or None,
                                      until=until or None, selection=selection)
        figures, note = [], None
        try:
            from ..corpus import charts as drawing

            figures = drawing.figures(result, reports.time_report(store, result))
        except Exception as exc:   # matplotlib (the report extra) missing: tables only
            from ..errors import ConfigError

            if not isinstance(exc, ConfigError):
                raise
            note = str(exc)
        known = reports.build_report(store, by="outlet", top=0, chains=0)
        return page("outlets.html", nav="outlets", by=by, chosen=chosen, since=since,
                    until=until, report=result, figures=figures, note=note,
                    outlets=[g["outlet"] for g in known["groups"]], counted=selection,
                    acts=acts, min_confidence=min_confidence)

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, q: str = Query("", max_length=1000),
                    what: str = Query("", pattern="^(|article|quote|source)$"),
                    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                    acts: str = Query("", max_length=80),
                    min_confidence: str = Query("", max_length=10)) -> Response:
        selection = selection_of(acts, min_confidence)
        hits, total = None, 0
        if q.strip():
            hits = api.services(request).store().search(q, what=what or None, limit=limit,
                                                        offset=offset, selection=selection)
            total = getattr(hits, "total", len(hits))
        shown = [(h, marked(h.snippet, h.highlights)) for h in hits or ()]
        return page("search.html", nav="search", q=q, what=what, hits=hits, shown=shown,
                    total=total, offset=offset, limit=limit, counted=selection, acts=acts,
                    min_confidence=min_confidence)

    @app.get("/claims", response_class=HTMLResponse, include_in_schema=False)
    def claims_page(request: Request, min_outlets: int = Query(1, ge=1, le=1000),
                    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                    acts: str = Query("", max_length=80),
                    min_confidence: str = Query("", max_length=10)) -> Response:
        from ..corpus.counted import claim_counted, counted_attributions

        selection = selection_of(acts, min_confidence)
        s = api.services(request)
        counted = counted_attributions(s.store(), selection)
        with s.claims() as cross:
            every = [c for c in cross.clusters(min_outlets=min_outlets)
                     if any(claim_counted(i, counted) for i in c.claim_ids)]
            clusters = [c.to_dict() for c in every[offset:offset + limit]]
        return page("claims.html", nav="claims", clusters=clusters, min_outlets=min_outlets,
                    total=len(every), offset=offset, limit=limit, counted=selection,
                    acts=acts, min_confidence=min_confidence)

    @app.get("/claims/trace", response_class=HTMLResponse, include_in_schema=False)
    def trace_page(request: Request, claim: str = Query("", max_length=200),
                   text: str = Query("", max_length=2000)) -> Response:
        found = api.trace(api.services(request), claim=claim or None, text=text.strip() or None)
        return page("trace.html", nav="claims", found=found, text=text)

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    def api_page(request: Request) -> Response:
        return page("api.html", nav="api", spec=request.app.openapi())


def form_analysis(s, text: str, url: str, file: UploadFile | None):
    """The Analysis of the form's one input: pasted text, a URL or an uploaded file."""
    from . import services as api
    from . import schemas

    data = file.file.read(s.config.max_input_bytes + 1) if file is not None and file.filename else b""
    given = [name for name, value in (("text", text.strip()), ("url", url.strip()), ("file", data))
             if value]
    if len(given) != 1:
        raise InputError("give one article: paste its text, give its URL or choose a file"
                         + (f" (got {' and '.join(given)})" if given else ""))
    if given[0] == "file":
        from .. import pipeline

        return s.analyze(pipeline.analyze, data, config=s.config,
                         meta={"filename": file.filename})
    try:
        body = schemas.AnalyzeRequest(text=text) if text.strip() else schemas.AnalyzeRequest(url=url.strip())
    except ValueError as exc:
        raise InputError("that is not an http(s) URL", hint="give a URL such as https://example.com/news/story") from exc
    return api.analyze_request(s, body)
