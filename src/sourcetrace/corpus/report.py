"""Outlets compared: how each outlet (or month, or week) sources its reporting.

    build_report(store, by=("outlet",), outlets=(), since=None, until=None) -> dict
    render_text(report) / render_csv(report, file) / render_html(report) -> str
    wilson(count, n) -> (low, high)

Everything is aggregated in SQL by the store, a handful of GROUP BY queries whatever the
corpus size; Python only shapes one row per group. The queries read the views of migration
0004: article_view carries each article's profile figures and its attributions counted by
source identity, source kind and quote kind (the article_figures table, written with the
article), so the shares are sums over articles, not a pass over every attribution; only
the top sources read source_view. Per group:

    articles                      number of articles
    attributions                  count and attributions per article
    identity                      attributions by their source's identity (named,
                                  described, anonymous, unspecified): count, share, 95% CI
    source_kind                   attributions by their source's kind (person, official, ...,
                                  none when the text does not say)
    quote_kind                    attributions by how they quote (direct, indirect, mixed)
    gender                        sources that are people, by how the article refers to them
                                  (she, he, they, not said): count, share, 95% CI; where the
                                  store has the entity work (how each source is referred to)
    transparency                  score (0-100) mean, median, distribution in bins of 10,
                                  and the mean of each profile component (docs/profile.md)
    checkworthy_unattributed      check-worthy statements left unattributed, out of those
                                  statements plus top-level attributions (the profile's
                                  "sourcing" share, pooled over the group)
    hearsay                       longest chain, articles with a chain of 2 or more, and the
                                  longest chains with their speakers
    syndication, first_reports    copies vs originals and claims first reported by the outlet:
                                  only where the store holds the cross-outlet tables
    top_sources                   the most cited identified sources

Every share comes with its count, its base and a Wilson score interval (95%): a group of
four articles is noisy, and its interval says so. Shares of one breakdown (identity, kind)
are counts over the same base, so they sum to 1; a group with no attributions has no
shares (null), not zeros. Figures the store cannot give are reported as not available with
the reason, never invented.

Charts (``render_html``) are drawn with matplotlib as SVG, embedded in the page as images.
Why matplotlib rather than Vega-Lite: the page stays one small self-contained file with no
JavaScript at all (Vega's runtime is about a megabyte and evaluates expressions with
``Function``, which the web UI's Content-Security-Policy forbids), the same bytes serve the
CLI report and the web UI's Outlets page, the charts can be checked in tests without a
browser, and matplotlib is a long-kept library with error bars for the intervals.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import re
from typing import Any, Iterable, Sequence, TextIO

from ..errors import ConfigError
from ..model import KINDS, SOURCE_KINDS
from ..sources.entities import CORPUS_IDENTITIES, corpus_identity, majority_ties
from ..sources.profile import WEIGHTS, relays
from .counted import DEFAULT_SELECTION, Selection, in_regions, kept, note_regions, parse_selection

__all__ = ["BY", "FORMATS", "build_report", "parse_by", "render", "render_csv",
           "render_html", "render_text", "time_report", "wilson"]

BY = ("outlet", "month", "week")
FORMATS = ("text", "json", "csv", "html")
COMPONENTS = tuple(WEIGHTS)
SOURCE_KINDS_ALL = (*SOURCE_KINDS, "none")
REFERRED = ("she", "he", "they", "not_said")
NO_GROUP = {"outlet": "(no outlet)", "month": "(no date)", "week": "(no date)"}
Z95 = 1.959963984540054
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def wilson(count: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``count`` successes out of ``n`` (None when n = 0)."""
    if n <= 0:
        return None
    p = count / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def share(count: int, n: int) -> dict[str, Any]:
    """A share with its count, base and 95% Wilson interval."""
    ci = wilson(count, n)
    return {"count": int(count), "of": int(n), "share": (count / n) if n else None,
            "ci": list(ci) if ci else None}


def parse_by(by: str | Sequence[str]) -> tuple[str, ...]:
    """``"outlet,month"`` -> ("outlet", "month"); a clear error for anything else."""
    parts = [p.strip().lower() for p in (by.split(",") if isinstance(by, str) else by)]
    parts = [p for p in parts if p]
    if not parts or any(p not in BY for p in parts) or len(set(parts)) != len(parts) \
            or ("month" in parts and "week" in parts):
        raise ConfigError(f"cannot group the report by {by!r}",
                          hint="use outlet, month, week, outlet,month or outlet,week")
    return tuple(parts)


def check_date(value: str | None, name: str) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD, a real date; ConfigError otherwise."""
    if value is None or not str(value).strip():
        return None
    m = _DATE.fullmatch(str(value).strip())
    try:
        if m is None:
            raise ValueError
        _dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        raise ConfigError(f"{name} {value!r} is not a date",
                          hint="give YYYY-MM-DD (or YYYY-MM, YYYY)") from None
    return str(value).strip()


def _after(until: str) -> str:
    """The first date after the period ``until`` names (YYYY, YYYY-MM or YYYY-MM-DD)."""
    parts = [int(p) for p in until.split("-")]
    if len(parts) == 1:
        return f"{parts[0] + 1:04d}"
    if len(parts) == 2:
        y, m = parts
        return f"{y + (m == 12):04d}-{1 if m == 12 else m + 1:02d}"
    return (_dt.date(*parts) + _dt.timedelta(days=1)).isoformat()


# --------------------------------------------------------------------------- SQL

#: a group with fewer articles is drawn hollow and labelled "small" (its shares are
#: noisy: one article can move them by tens of points); a time series is drawn as a line
#: only where every point has at least this many articles
MIN_ARTICLES = 10


class _Sql:
    """The report's queries for one backend (SQLite or PostgreSQL); ``?`` parameters.
    Three reads whatever the corpus size: the articles (with their stored profile
    figures), their attributions (act, confidence, parent, source) and their sources
    (identity, kind, entity); the counting is done per article in Python."""

    def __init__(self, store: Any, by: tuple[str, ...], outlets: Sequence[str],
                 since: str | None, until: str | None) -> None:
        self.store = store
        self.pg = getattr(store, "backend", "") == "postgres"
        self.by = by
        self.where: list[str] = []
        self.args: list[Any] = []
        if outlets:
            self.where.append(f"outlet IN ({', '.join('?' for _ in outlets)})")
            self.args += list(outlets)
        if since:
            self.where.append("date >= ?")
            self.args.append(since)
        if until:
            self.where.append("date < ?")
            self.args.append(_after(until))

    def keys(self) -> str:
        cols = []
        for b in self.by:
            col = f"{b}::text" if self.pg and b == "week" else b
            cols.append(f"coalesce({col}, '{NO_GROUP[b]}') AS g_{b}")
        return ", ".join(cols)

    def filtered(self, view: str, extra: str = "") -> str:
        where = list(self.where) + ([extra] if extra else [])
        return f"{view}" + (f" WHERE {' AND '.join(where)}" if where else "")

    def rows(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        return self.store.read_sql(sql, [*self.args, *args])

    def articles(self) -> list[tuple]:
        comps = ", ".join(f"{c}_component" for c in COMPONENTS)
        return self.rows(
            f"SELECT {self.keys()}, article_id, title, author, transparency, "
            f"checkworthy_unattributed, {comps} FROM {self.filtered('article_view')} "
            "ORDER BY article_id")

    def _ids(self) -> str:
        return f"(SELECT article_id FROM {self.filtered('article_view')})"

    def attributions(self) -> list[tuple]:
        act = "t.act" if self.store.has_table("attributions") and self._has_act() else "NULL"
        return self.rows(
            f"SELECT t.article_id, t.idx, t.parent, t.source_id, t.kind, t.confidence, {act} "
            f"FROM attributions t WHERE t.article_id IN {self._ids()} "
            "ORDER BY t.article_id, t.idx")

    def cue_starts(self, article_ids: Sequence[int]) -> dict[int, dict[int, int]]:
        """article id -> attribution idx -> where its cue starts (for the noted articles)."""
        out: dict[int, dict[int, int]] = {}
        ids = list(article_ids)
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            for aid, idx, spans in self.store.read_sql(
                    "SELECT article_id, idx, spans FROM attributions WHERE article_id IN "
                    f"({', '.join('?' for _ in chunk)})", chunk):
                cue = (json.loads(spans) if isinstance(spans, str) else spans or {}).get("cue") or []
                if cue:
                    out.setdefault(int(aid), {})[int(idx)] = int(cue[0][0])
        return out

    def _has_act(self) -> bool:
        """Whether the store has the act column (a store before migration 0006, opened
        read-only, has not: every act untyped, counted as speech)."""
        from .store import act_column

        return act_column(self.store.read_sql, "postgres" if self.pg else "sqlite") != "NULL"

    def sources(self) -> list[tuple]:
        if self.store.has_table("entities"):
            return self.rows(
                "SELECT s.article_id, s.idx, s.name, s.identity, s.kind, s.entity_id, "
                "s.referred_as, e.key, e.name FROM sources s LEFT JOIN entities e "
                f"ON e.id = s.entity_id WHERE s.article_id IN {self._ids()}")
        return [(*r, None, None, None, None) for r in self.rows(
            "SELECT s.article_id, s.idx, s.name, s.identity, s.kind FROM sources s "
            f"WHERE s.article_id IN {self._ids()}")]

    def noted(self) -> list[tuple]:
        """(id, text) of the articles with a paragraph that may be a note, caption or
        credit (``counted.note_regions`` decides)."""
        from .counted import notes_prefilter

        pre, args = notes_prefilter()
        return self.rows(f"SELECT id, text FROM articles WHERE id IN {self._ids()} AND {pre}",
                         args)


# --------------------------------------------------------------------------- the report

def _not_available(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason}


class _Group:
    """One group's counts while the articles are read."""

    def __init__(self) -> None:
        self.articles = 0
        self.small = False
        self.atts = 0
        self.identity: dict[str, int] = dict.fromkeys(CORPUS_IDENTITIES, 0)
        self.kind: dict[str, int] = dict.fromkeys(SOURCE_KINDS_ALL, 0)
        self.quote: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.referred: dict[str, int] = dict.fromkeys(REFERRED, 0)
        self.voices = 0
        self.scores: list[float] = []
        self.components: dict[str, list[float]] = {c: [] for c in COMPONENTS}
        self.checkworthy = 0
        self.top_level = 0
        self.longest = 0
        self.chained = 0
        self.relayed = 0
        self.own_stance = 0
        self.notes = 0
        self.chains: list[dict[str, Any]] = []
        self.entities: dict[Any, dict[str, Any]] = {}


def build_report(store: Any, *, by: str | Sequence[str] = ("outlet",),
                 outlets: Sequence[str] = (), since: str | None = None,
                 until: str | None = None, top: int = 5, chains: int = 3,
                 selection: Selection | None = None,
                 min_articles: int = MIN_ARTICLES) -> dict[str, Any]:
    """The report as a JSON-able dict: ``groups`` (one per outlet / month / week or pair),
    ``overall`` (every article of the groups together), ``total``, ``counted`` (the
    attributions counted: ``selection``, default counted.DEFAULT_SELECTION) and
    ``available`` (which optional figures the store can give). A group of fewer than
    ``min_articles`` articles is marked ``small``."""
    by = parse_by(by)
    since = check_date(since, "since")
    until = check_date(until, "until")
    selection = selection or DEFAULT_SELECTION
    if since and until and since > until:
        raise ConfigError(f"since {since} is after until {until}",
                          hint="give the earlier date as since (--since)")
    if not hasattr(store, "read_sql"):
        raise ConfigError("the report needs a SQLite or PostgreSQL corpus",
                          hint="give --db a .db file or a postgresql:// URL")
    outlets = tuple(o for o in outlets if o)
    q = _Sql(store, by, outlets, since, until)
    n = len(by)
    articles = q.articles()
    atts: dict[int, list[tuple]] = {}
    for r in q.attributions():
        atts.setdefault(int(r[0]), []).append(r[1:])
    sources: dict[int, dict[int, tuple]] = {}
    for r in q.sources():
        sources.setdefault(int(r[0]), {})[int(r[1])] = r[2:]
    regions = {int(i): r for i, text in q.noted() if (r := note_regions(text))}
    cues = q.cue_starts(sorted(regions)) if regions else {}
    groups: dict[tuple, _Group] = {}
    overall = _Group()
    titles: dict[int, Any] = {}
    for r in articles:
        key, (article_id, title, author, transparency, checkworthy, *comps) = tuple(r[:n]), r[n:]
        article_id = int(article_id)
        titles[article_id] = title
        one = _Group()
        _count_article(one, article_id, title, transparency, checkworthy, comps,
                       atts.get(article_id, []), sources.get(article_id, {}),
                       regions.get(article_id) or [], cues.get(article_id) or {}, selection)
        _merge(groups.setdefault(key, _Group()), one)
        _merge(overall, one)
    out_groups = []
    for key, g in groups.items():
        d = _group_dict(g, top, chains, min_articles)
        out_groups.append({**{b: k for b, k in zip(by, key)}, **d})
    available = _optional(store)
    if available["syndication"]["available"]:
        from .claim_figures import claim_figures

        figures = claim_figures(store, {int(r[n]): tuple(r[:n]) for r in articles})
        for g in out_groups:
            g.update(figures.get(tuple(g[b] for b in by), {}))
    for g in out_groups:
        for name, info in available.items():
            g[name] = None if not info["available"] else g.get(name)
    total_articles = sum(g["articles"] for g in out_groups)
    total_atts = sum(g["attributions"]["count"] for g in out_groups)
    overall_d = _group_dict(overall, top, chains, min_articles)
    for name, info in available.items():
        overall_d[name] = None if not info["available"] else overall_d.get(name)
    return {
        "by": list(by),
        "filters": {"outlets": list(outlets), "since": since, "until": until},
        "counted": selection.to_dict(),
        "min_articles": min_articles,
        "backend": getattr(store, "backend", None),
        "generated_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "total": {"groups": len(out_groups), "articles": total_articles,
                  "attributions": total_atts},
        "available": available,
        "bins": [f"{10 * i}-{10 * i + 10}" for i in range(10)],
        "overall": overall_d,
        "groups": out_groups,
    }


def _merge(dst: _Group, src: _Group) -> None:
    """Add one article's counts (``src``) to a group's."""
    dst.articles += src.articles
    dst.atts += src.atts
    for field in ("identity", "kind", "quote", "referred"):
        d, s_ = getattr(dst, field), getattr(src, field)
        for k, v in s_.items():
            d[k] = d.get(k, 0) + v
    dst.voices += src.voices
    dst.scores += src.scores
    for c, v in src.components.items():
        dst.components[c] += v
    for name in ("checkworthy", "top_level", "chained", "relayed", "own_stance", "notes"):
        setattr(dst, name, getattr(dst, name) + getattr(src, name))
    dst.longest = max(dst.longest, src.longest)
    dst.chains += src.chains
    for key, e in src.entities.items():
        t = dst.entities.get(key)
        if t is None:
            dst.entities[key] = {**e, "identity": dict(e["identity"]), "kind": dict(e["kind"]),
                                 "aliases": dict(e["aliases"])}
            continue
        t["articles"] += e["articles"]
        t["attributions"] += e["attributions"]
        for field in ("identity", "kind", "aliases"):
            for k, v in e[field].items():
                t[field][k] = t[field].get(k, 0) + v


def _count_article(g: _Group, article_id: int, title: Any, transparency: Any, checkworthy: Any,
                   comps: Sequence[Any], atts: list[tuple], sources: dict[int, tuple],
                   regions: list[tuple[int, int]], cues: dict[int, int],
                   selection: Selection) -> None:
    """Add one article to a group: its kept attributions by the identity, kind and quote
    of their source, its hearsay (profile.relays) and its sources by entity."""
    g.articles += 1
    if transparency is not None:
        g.scores.append(float(transparency))
        for c, v in zip(COMPONENTS, comps):
            if v is not None:
                g.components[c].append(float(v))
    g.checkworthy += int(checkworthy or 0)
    dropped = set()
    if regions:
        dropped = {idx for idx, start in cues.items() if in_regions(start, regions)}
        g.notes += len(dropped)
    rows = {int(r[0]): r for r in atts}
    keep = kept(((int(r[0]), None if r[1] is None else int(r[1]), r[5], r[4]) for r in atts),
                selection, dropped)
    voices: dict[int, Any] = {}
    writers: set = set()
    names: dict[Any, str] = {}
    cited: dict[Any, dict[str, Any]] = {}
    for idx, parent in keep.items():
        _i, _p, sid, qkind, _conf, _act = rows[idx]
        src = sources.get(int(sid)) if sid is not None else None
        name, ident, kind, eid, referred, ekey, ename = src if src else (None,) * 7
        identity = corpus_identity(name, ident, ekey) if src else "unspecified"
        g.atts += 1
        g.identity[identity] = g.identity.get(identity, 0) + 1
        k = kind or "none"
        g.kind[k] = g.kind.get(k, 0) + 1
        if qkind in g.quote:
            g.quote[qkind] += 1
        g.top_level += parent is None
        if identity == "unspecified":
            voices[idx] = None
            continue
        voice = ("entity", eid) if eid is not None else ("source", article_id, int(sid))
        voices[idx] = voice
        names.setdefault(voice, ename or name)
        if identity == "author":
            writers.add(voice)
        c = cited.setdefault(voice, {"name": ename or name, "alias": name, "identity": identity,
                                     "kind": kind, "atts": 0, "referred": referred})
        c["atts"] += 1
    g.voices += len(cited)
    for voice, c in cited.items():
        if c["referred"] in ("she", "he", "they"):
            g.referred[c["referred"]] += 1
        elif c["kind"] == "person":
            g.referred["not_said"] += 1
        e = g.entities.setdefault(voice if voice[0] == "entity" else ("name", str(c["name"]).lower()),
                                  {"name": c["name"], "articles": 0, "attributions": 0,
                                   "identity": {}, "kind": {}, "aliases": {}})
        e["articles"] += 1
        e["attributions"] += c["atts"]
        e["identity"][c["identity"]] = e["identity"].get(c["identity"], 0) + 1
        e["kind"][c["kind"] or "none"] = e["kind"].get(c["kind"] or "none", 0) + 1
        e["aliases"][c["alias"]] = e["aliases"].get(c["alias"], 0) + 1
    hearsay = relays(keep, voices, writers, names)
    g.relayed += hearsay.relayed
    g.own_stance += hearsay.own_stance
    g.longest = max(g.longest, hearsay.longest)
    if hearsay.longest >= 2:
        g.chained += 1
        g.chains.append({"article_id": article_id, "title": title, "depth": hearsay.longest,
                         "chain": hearsay.chain_names(),
                         "own_stance": sum(k for _, k in hearsay.chain)})


def _ties(counts: dict[str, int]) -> dict[str, Any]:
    """The majority value with its counts, ties shown: {"value", "tied", "counts"}."""
    tied = majority_ties(counts)
    return {"value": tied[0] if tied else None, "tied": list(tied) if len(tied) > 1 else [],
            "counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))}


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def _group_dict(g: _Group, top: int, chains: int, min_articles: int) -> dict[str, Any]:
    distribution = [0] * 10
    for s in g.scores:
        distribution[max(0, min(9, int(s // 10)))] += 1
    people = sum(g.referred.values())
    ents = sorted(g.entities.values(), key=lambda e: (-e["articles"], -e["attributions"],
                                                       str(e["name"])))
    return {
        "articles": g.articles,
        "small": g.articles < min_articles,
        "attributions": {"count": g.atts, "per_article": g.atts / g.articles if g.articles else None},
        "sources": g.voices,
        "identity": {k: share(v, g.atts) for k, v in g.identity.items()},
        "source_kind": {k: share(v, g.atts) for k, v in g.kind.items()},
        "quote_kind": {k: share(v, g.atts) for k, v in g.quote.items()},
        "gender": {k: share(v, people) for k, v in g.referred.items()},
        "transparency": {
            "articles": len(g.scores),
            "mean": sum(g.scores) / len(g.scores) if g.scores else None,
            "median": _median(g.scores), "distribution": distribution,
            "components": {c: (sum(v) / len(v) if v else None) for c, v in g.components.items()},
            "note": "each article's stored profile (every act counted)",
        },
        "checkworthy_unattributed": share(g.checkworthy, g.checkworthy + g.top_level),
        "hearsay": {"longest": g.longest,
                    "articles_with_chains": share(g.chained, g.articles),
                    "relayed": share(g.relayed, g.atts),
                    "own_stance": share(g.own_stance, g.atts),
                    "chains": sorted(g.chains, key=lambda c: (-c["depth"], c["article_id"]))[:max(0, chains)]},
        "notes_left_out": g.notes,
        "top_sources": [{"name": e["name"], "articles": e["articles"],
                         "attributions": e["attributions"],
                         "aliases": [a for a, _ in sorted(e["aliases"].items(), key=lambda kv: -kv[1])],
                         "identity": _ties(e["identity"])["value"],
                         "identity_tied": _ties(e["identity"])["tied"],
                         "kind": _ties(e["kind"])["value"], "kind_tied": _ties(e["kind"])["tied"],
                         "kind_counts": _ties(e["kind"])["counts"]}
                        for e in ents[:max(0, top)]],
    }


def _optional(store: Any) -> dict[str, dict[str, Any]]:
    """Which optional figures this store can give: gender (an entity table), syndication
    and first reports (the cross-outlet claims tables)."""
    has = getattr(store, "has_table", lambda _n: False)
    out = {}
    if has("entities"):
        out["gender"] = {"available": True,
                         "reason": "sources that are people, by how the article refers to them: "
                                   "she, he, they, or not said (a person the text gives no "
                                   "pronoun or honorific for); never guessed from names"}
    else:
        out["gender"] = _not_available("the store has no entity table (how each source is "
                                       "referred to: she, he, they, not said)")
    if has("claims"):   # corpus/claim_figures.py
        out["syndication"] = {"available": True,
                              "reason": "articles found to copy an earlier article of the "
                                        "corpus, and articles a later one copies"}
        out["first_reports"] = {"available": True,
                                "reason": "claim clusters carried by two or more outlets that "
                                          "the group takes part in, and those it reported first"}
    else:
        reason = ("the store has no claims tables: cross-outlet results live in the claims "
                  "state folder (sourcetrace claims), not in the corpus")
        out["syndication"] = _not_available(reason)
        out["first_reports"] = _not_available(reason)
    return out


def time_report(store: Any, report: dict[str, Any]) -> dict[str, Any]:
    """The report's companion over time (for the charts' lines): the same filters,
    grouped by month (or week, when ``report`` is by week), per outlet when it has
    several. ``report`` itself when it is already grouped by time."""
    by = report["by"]
    if "month" in by or "week" in by:
        return report
    period = "week" if "week" in by else "month"
    f = report["filters"]
    outlets = {g.get("outlet") for g in report["groups"]} if "outlet" in by else set()
    return build_report(store, by=("outlet", period) if len(outlets) > 1 else (period,),
                        outlets=f["outlets"], since=f["since"], until=f["until"], top=0,
                        chains=0, selection=parse_selection(
                            report["counted"]["acts"] if not report["counted"]["all_acts"] else "all",
                            report["counted"]["min_confidence"]),
                        min_articles=report.get("min_articles", MIN_ARTICLES))


# --------------------------------------------------------------------------- renderers

def _label(report: dict[str, Any], g: dict[str, Any]) -> str:
    return " / ".join(str(g[b]) for b in report["by"])


def _pct(s: dict[str, Any] | None) -> str:
    if not s or s.get("share") is None:
        return "-"
    lo, hi = s["ci"]
    return f"{100 * s['share']:.0f}% [{100 * lo:.0f}-{100 * hi:.0f}] ({s['count']})"


def _num(v: Any, fmt: str = ".1f") -> str:
    return "-" if v is None else format(v, fmt)


def _top(s: dict[str, Any]) -> str:
    kind = " = ".join(s["kind_tied"]) + " (tie)" if s.get("kind_tied") else (s.get("kind") or "none")
    ident = " = ".join(s["identity_tied"]) + " (tie)" if s.get("identity_tied") else s.get("identity")
    return f"{s['name']} ({s['articles']} art., {s['attributions']} att.; {ident}, {kind})"


def _small(report: dict[str, Any], g: dict[str, Any]) -> str:
    return f" [small: under {report['min_articles']} articles]" if g.get("small") else ""


def render_text(report: dict[str, Any]) -> str:
    """A plain-text summary: one block per group (shares with their n and 95% intervals)."""
    out = io.StringIO()
    t = report["total"]
    f = report["filters"]
    scope = ", ".join(x for x in (
        f"outlets {', '.join(f['outlets'])}" if f["outlets"] else "",
        f"since {f['since']}" if f["since"] else "", f"until {f['until']}" if f["until"] else "") if x)
    out.write(f"Sourcing report by {','.join(report['by'])}: {t['groups']} group(s), "
              f"{t['articles']} article(s), {t['attributions']} attribution(s)"
              + (f" ({scope})" if scope else "") + "\n")
    out.write(f"{report['counted']['describe'].capitalize()} (--acts, --min-confidence).\n")
    out.write("Shares are of counted attributions: share [95% Wilson interval] of n. "
              f"Groups of fewer than {report['min_articles']} articles are marked small.\n")
    blocks = [("all groups", report["overall"])] if len(report["groups"]) > 1 else []
    blocks += [(_label(report, g), g) for g in report["groups"]]
    for label, g in blocks:
        tr = g["transparency"]
        out.write(f"\n== {label}: {g['articles']} article(s), "
                  f"{g['attributions']['count']} attribution(s), "
                  f"{_num(g['attributions']['per_article'], '.2f')} per article{_small(report, g)}\n")
        n = g["attributions"]["count"]
        out.write(f"  identity    (n={n}) " + "  ".join(f"{k} {_pct(v)}" for k, v in g["identity"].items())
                  + "\n")
        out.write(f"  source kind (n={n}) " + "  ".join(f"{k} {_pct(v)}" for k, v in g["source_kind"].items())
                  + "\n")
        out.write(f"  quotes      (n={n}) " + "  ".join(f"{k} {_pct(v)}" for k, v in g["quote_kind"].items())
                  + "\n")
        out.write(f"  transparency (every act; n={tr['articles']} articles) mean {_num(tr['mean'])} "
                  f"median {_num(tr['median'])}  distribution "
                  f"{' '.join(str(c) for c in tr['distribution'])}\n")
        out.write("  components  " + "  ".join(f"{k} {_num(v, '.2f')}"
                                              for k, v in tr["components"].items()) + "\n")
        if g.get("gender"):
            people = next(iter(g["gender"].values()))["of"]
            out.write(f"  people      (n={people}) " + "  ".join(
                f"{k.replace('_', ' ')} {_pct(v)}" for k, v in g["gender"].items()) + "\n")
        cw = g["checkworthy_unattributed"]
        out.write(f"  check-worthy left unattributed (n={cw['of']}) {_pct(cw)}\n")
        h = g["hearsay"]
        out.write(f"  hearsay (one voice relaying another): articles with a chain "
                  f"{_pct(h['articles_with_chains'])} of {g['articles']}; attributions relayed "
                  f"{_pct(h['relayed'])}; longest chain {h['longest']}\n")
        out.write(f"  own stance (a speaker nested in his own statement, not hearsay): "
                  f"{_pct(h['own_stance'])}\n")
        for c in h["chains"]:
            out.write(f"    article {c['article_id']} ({c['depth']}): {' > '.join(c['chain'])}\n")
        if g.get("notes_left_out"):
            out.write(f"  left out: {g['notes_left_out']} attribution(s) in editor's notes, "
                      "captions or credits\n")
        if g["top_sources"]:
            out.write("  top sources (by entity) " + "; ".join(_top(s) for s in g["top_sources"])
                      + "\n")
    missing = [f"{k}: {v['reason']}" for k, v in report["available"].items() if not v["available"]]
    if missing:
        out.write("\nNot available: " + "; ".join(missing) + "\n")
    return out.getvalue()


def csv_rows(report: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """One flat row per group (columns: keys, counts, share, ci_low, ci_high ...); every
    row names the counted acts and the minimum confidence."""
    rows = []
    for g in report["groups"]:
        row: dict[str, Any] = {b: g[b] for b in report["by"]}
        row["counted_acts"] = report["counted"]["describe"]
        row["min_confidence"] = report["counted"]["min_confidence"]
        row["articles"] = g["articles"]
        row["small"] = g["small"]
        row["attributions"] = g["attributions"]["count"]
        row["attributions_per_article"] = g["attributions"]["per_article"]
        row["sources"] = g["sources"]
        for field in ("identity", "source_kind", "quote_kind", "gender"):
            for k, s in (g.get(field) or {}).items():
                _share_cols(row, f"{field}_{k}", s)
        tr = g["transparency"]
        row["transparency_mean"] = tr["mean"]
        row["transparency_median"] = tr["median"]
        for i, c in enumerate(tr["distribution"]):
            row[f"transparency_{10 * i}_{10 * i + 10}"] = c
        for k, v in tr["components"].items():
            row[f"{k}_component_mean"] = v
        _share_cols(row, "checkworthy_unattributed", g["checkworthy_unattributed"])
        row["hearsay_longest"] = g["hearsay"]["longest"]
        _share_cols(row, "hearsay_articles_with_chains", g["hearsay"]["articles_with_chains"])
        _share_cols(row, "hearsay_relayed", g["hearsay"]["relayed"])
        _share_cols(row, "own_stance", g["hearsay"]["own_stance"])
        row["top_sources"] = "; ".join(_top(x) for x in g["top_sources"])
        rows.append(row)
    columns: list[str] = []
    for r in rows:
        columns += [c for c in r if c not in columns]
    return columns or list(report["by"]) + ["articles"], rows


def _share_cols(row: dict[str, Any], name: str, s: dict[str, Any]) -> None:
    row[f"{name}_count"] = s["count"]
    row[f"{name}_of"] = s["of"]
    row[f"{name}_share"] = s["share"]
    row[f"{name}_ci_low"] = s["ci"][0] if s["ci"] else None
    row[f"{name}_ci_high"] = s["ci"][1] if s["ci"] else None


def render_csv(report: dict[str, Any], out: TextIO) -> int:
    columns, rows = csv_rows(report)
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(r)
    return len(rows)


def render_html(report: dict[str, Any], over_time: dict[str, Any] | None = None) -> str:
    """One self-contained page: the charts (SVG images) and the figures as tables."""
    from . import charts

    return charts.page(report, over_time)


def render(report: dict[str, Any], format: str, over_time: dict[str, Any] | None = None) -> str:
    """The report as text, json, csv or html."""
    if format == "json":
        return json.dumps(report, ensure_ascii=False, indent=1) + "\n"
    if format == "csv":
        buf = io.StringIO()
        render_csv(report, buf)
        return buf.getvalue()
    if format == "html":
        return render_html(report, over_time)
    if format == "text":
        return render_text(report)
    raise ConfigError(f"unknown report format {format!r}", hint=f"use one of {', '.join(FORMATS)}")
