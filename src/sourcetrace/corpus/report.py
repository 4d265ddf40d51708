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
from ..model import IDENTITIES, KINDS, SOURCE_KINDS
from ..sources.profile import WEIGHTS

__all__ = ["BY", "FORMATS", "build_report", "parse_by", "render", "render_csv",
           "render_html", "render_text", "time_report", "wilson"]

BY = ("outlet", "month", "week")
FORMATS = ("text", "json", "csv", "html")
COMPONENTS = tuple(WEIGHTS)
SOURCE_KINDS_ALL = (*SOURCE_KINDS, "none")
COUNTED = (*IDENTITIES, *SOURCE_KINDS_ALL, *KINDS)   # the att_* columns of article_view
REFERRED = ("she", "he", "they", "not_said")         # the src_* columns of article_view
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

class _Sql:
    """The report's queries for one backend (SQLite or PostgreSQL); ``?`` parameters."""

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

    def group(self) -> str:
        return ", ".join(f"g_{b}" for b in self.by)

    def filtered(self, view: str, extra: str = "") -> str:
        where = list(self.where) + ([extra] if extra else [])
        return f"{view}" + (f" WHERE {' AND '.join(where)}" if where else "")

    def rows(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        return self.store.read_sql(sql, [*self.args, *args])

    # -- the queries
    def articles(self) -> list[tuple]:
        comps = ", ".join(f"avg({c}_component)" for c in COMPONENTS)
        counts = ", ".join([f"coalesce(sum(att_{v}), 0)" for v in COUNTED]
                           + [f"coalesce(sum(src_{v}), 0)" for v in REFERRED])
        return self.rows(
            f"SELECT {self.keys()}, count(*), coalesce(sum(n_attributions), 0), avg(transparency), "
            "count(transparency), coalesce(sum(checkworthy_unattributed), 0), "
            "coalesce(sum(top_level_attributions), 0), coalesce(max(longest_chain), 0), "
            "sum(CASE WHEN longest_chain >= 2 THEN 1 ELSE 0 END), coalesce(sum(n_sources), 0), "
            f"{comps}, {counts} FROM {self.filtered('article_view')} GROUP BY {self.group()} "
            f"ORDER BY {self.group()}")

    def median(self) -> list[tuple]:
        return self.rows(
            f"SELECT {self.group()}, avg(transparency) FROM (SELECT {self.keys()}, transparency, "
            f"row_number() OVER (PARTITION BY {self._partition()} ORDER BY transparency) AS rn, "
            f"count(*) OVER (PARTITION BY {self._partition()}) AS n FROM "
            f"{self.filtered('article_view', 'transparency IS NOT NULL')}) ranked "
            f"WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY {self.group()}")

    def _partition(self) -> str:
        parts = []
        for b in self.by:
            col = f"{b}::text" if self.pg and b == "week" else b
            parts.append(f"coalesce({col}, '{NO_GROUP[b]}')")
        return ", ".join(parts)

    def bins(self) -> list[tuple]:
        cut = ("floor(transparency / 10)::int" if self.pg
               else "CAST(transparency / 10 AS INTEGER)")
        return self.rows(
            f"SELECT {self.keys()}, CASE WHEN transparency >= 100 THEN 9 ELSE {cut} END AS bin, "
            f"count(*) FROM {self.filtered('article_view', 'transparency IS NOT NULL')} "
            f"GROUP BY {self.group()}, bin")

    def chains(self, per_group: int) -> list[tuple]:
        return self.rows(
            f"SELECT {self.group()}, article_id, title, longest_chain, hearsay_chain FROM "
            f"(SELECT {self.keys()}, article_id, title, longest_chain, hearsay_chain, "
            f"row_number() OVER (PARTITION BY {self._partition()} ORDER BY longest_chain DESC, "
            f"article_id) AS rn FROM {self.filtered('article_view', 'longest_chain >= 2')}) c "
            f"WHERE rn <= ? ORDER BY {self.group()}, rn", [per_group])

    def top_sources(self, per_group: int) -> list[tuple]:
        return self.rows(
            f"SELECT {self.group()}, name, n_art, n_att, identity, kind FROM "
            f"(SELECT {self.keys()}, min(name) AS name, count(DISTINCT article_id) AS n_art, "
            "sum(n_attributions) AS n_att, min(identity) AS identity, min(kind) AS kind, "
            f"row_number() OVER (PARTITION BY {self._partition()} ORDER BY "
            "count(DISTINCT article_id) DESC, sum(n_attributions) DESC, min(name)) AS rn "
            f"FROM {self.filtered('source_view', 'identity <> ?')} "
            f"GROUP BY {self.group()}, lower(name)) t WHERE rn <= ? "
            f"ORDER BY {self.group()}, rn", ["unspecified", per_group])


# --------------------------------------------------------------------------- the report

def _not_available(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason}


def build_report(store: Any, *, by: str | Sequence[str] = ("outlet",),
                 outlets: Sequence[str] = (), since: str | None = None,
                 until: str | None = None, top: int = 5, chains: int = 3) -> dict[str, Any]:
    """The report as a JSON-able dict: ``groups`` (one per outlet / month / week or pair),
    ``total`` and ``available`` (which optional figures the store can give)."""
    by = parse_by(by)
    since = check_date(since, "since")
    until = check_date(until, "until")
    if since and until and since > until:
        raise ConfigError(f"since {since} is after until {until}",
                          hint="give the earlier date as since (--since)")
    if not hasattr(store, "read_sql"):
        raise ConfigError("the report needs a SQLite or PostgreSQL corpus",
                          hint="give --db a .db file or a postgresql:// URL")
    outlets = tuple(o for o in outlets if o)
    q = _Sql(store, by, outlets, since, until)
    n = len(by)
    groups: dict[tuple, dict[str, Any]] = {}
    for r in q.articles():
        key, v = tuple(r[:n]), r[n:]
        articles, atts, mean, scored, cw, top_level, longest, chained, n_sources = v[:9]
        comps = v[9:9 + len(COMPONENTS)]
        rest = [int(x) for x in v[9 + len(COMPONENTS):]]
        counted = dict(zip(COUNTED, rest))
        referred = dict(zip(REFERRED, rest[len(COUNTED):]))
        g = {b: k for b, k in zip(by, key)}
        g.update({
            "articles": int(articles),
            "attributions": {"count": int(atts),
                             "per_article": int(atts) / int(articles) if articles else None},
            "sources": int(n_sources),
            "identity": {}, "source_kind": {}, "quote_kind": {},
            "transparency": {
                "articles": int(scored), "mean": mean, "median": None,
                "distribution": [0] * 10,
                "components": {c: v for c, v in zip(COMPONENTS, comps)},
            },
            "checkworthy_unattributed": share(int(cw), int(cw) + int(top_level)),
            "hearsay": {"longest": int(longest or 0),
                        "articles_with_chains": share(int(chained or 0), int(articles)),
                        "chains": []},
            "top_sources": [],
        })
        for field, values in (("identity", IDENTITIES), ("source_kind", SOURCE_KINDS_ALL),
                              ("quote_kind", KINDS)):
            c = {k: counted[k] for k in values}
            other = int(atts) - sum(c.values())   # a value outside our lists (none so far)
            if other > 0:
                c["other"] = other
            g[field] = {k: share(c[k], int(atts)) for k in c}
        people = sum(referred.values())
        g["gender"] = {k: share(c, people) for k, c in referred.items()}
        groups[key] = g
    for r in q.median():
        if tuple(r[:n]) in groups:
            groups[tuple(r[:n])]["transparency"]["median"] = r[n]
    for r in q.bins():
        if tuple(r[:n]) in groups:
            groups[tuple(r[:n])]["transparency"]["distribution"][max(0, min(9, int(r[n])))] += int(r[n + 1])
    for r in (q.chains(chains) if chains > 0 else ()):
        if tuple(r[:n]) in groups:
            chain = json.loads(r[n + 3]) if isinstance(r[n + 3], str) else (r[n + 3] or [])
            groups[tuple(r[:n])]["hearsay"]["chains"].append(
                {"article_id": int(r[n]), "title": r[n + 1], "depth": int(r[n + 2]), "chain": chain})
    for r in (q.top_sources(top) if top > 0 else ()):
        if tuple(r[:n]) in groups:
            groups[tuple(r[:n])]["top_sources"].append(
                {"name": r[n], "articles": int(r[n + 1]), "attributions": int(r[n + 2] or 0),
                 "identity": r[n + 3], "kind": r[n + 4]})
    available = _optional(store)
    for g in groups.values():
        for name, info in available.items():
            g[name] = None if not info["available"] else g.get(name)
    total_articles = sum(g["articles"] for g in groups.values())
    total_atts = sum(g["attributions"]["count"] for g in groups.values())
    return {
        "by": list(by),
        "filters": {"outlets": list(outlets), "since": since, "until": until},
        "backend": getattr(store, "backend", None),
        "generated_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "total": {"groups": len(groups), "articles": total_articles, "attributions": total_atts},
        "available": available,
        "bins": [f"{10 * i}-{10 * i + 10}" for i in range(10)],
        "groups": list(groups.values()),
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
    if has("claims"):
        out["syndication"] = _not_available("the claims table has no reader in this report yet")
        out["first_reports"] = _not_available("the claims table has no reader in this report yet")
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
                        chains=0)


# --------------------------------------------------------------------------- renderers

def _label(report: dict[str, Any], g: dict[str, Any]) -> str:
    return " / ".join(str(g[b]) for b in report["by"])


def _pct(s: dict[str, Any] | None) -> str:
    if not s or s.get("share") is None:
        return "-"
    lo, hi = s["ci"]
    return f"{100 * s['share']:.0f}% [{100 * lo:.0f}-{100 * hi:.0f}]"


def _num(v: Any, fmt: str = ".1f") -> str:
    return "-" if v is None else format(v, fmt)


def render_text(report: dict[str, Any]) -> str:
    """A plain-text summary: one block per group (shares with their 95% intervals)."""
    out = io.StringIO()
    t = report["total"]
    f = report["filters"]
    scope = ", ".join(x for x in (
        f"outlets {', '.join(f['outlets'])}" if f["outlets"] else "",
        f"since {f['since']}" if f["since"] else "", f"until {f['until']}" if f["until"] else "") if x)
    out.write(f"Sourcing report by {','.join(report['by'])}: {t['groups']} group(s), "
              f"{t['articles']} article(s), {t['attributions']} attribution(s)"
              + (f" ({scope})" if scope else "") + "\n")
    out.write("Shares are of attributions, with 95% Wilson intervals in brackets.\n")
    for g in report["groups"]:
        tr = g["transparency"]
        out.write(f"\n== {_label(report, g)}: {g['articles']} article(s), "
                  f"{g['attributions']['count']} attribution(s), "
                  f"{_num(g['attributions']['per_article'], '.2f')} per article\n")
        out.write("  identity    " + "  ".join(f"{k} {_pct(v)}" for k, v in g["identity"].items())
                  + "\n")
        out.write("  source kind " + "  ".join(f"{k} {_pct(v)}" for k, v in g["source_kind"].items()
                                                if v["count"]) + "\n")
        out.write("  quotes      " + "  ".join(f"{k} {_pct(v)}" for k, v in g["quote_kind"].items())
                  + "\n")
        out.write(f"  transparency mean {_num(tr['mean'])} median {_num(tr['median'])}  "
                  f"distribution {' '.join(str(c) for c in tr['distribution'])}\n")
        out.write("  components  " + "  ".join(f"{k} {_num(v, '.2f')}"
                                              for k, v in tr["components"].items()) + "\n")
        if g.get("gender"):
            out.write("  people      " + "  ".join(f"{k.replace('_', ' ')} {_pct(v)}"
                                                   for k, v in g["gender"].items()) + "\n")
        out.write(f"  check-worthy left unattributed {_pct(g['checkworthy_unattributed'])}\n")
        h = g["hearsay"]
        out.write(f"  hearsay: longest chain {h['longest']}, articles with a chain "
                  f"{_pct(h['articles_with_chains'])}\n")
        for c in h["chains"]:
            out.write(f"    article {c['article_id']} ({c['depth']}): {' > '.join(c['chain'])}\n")
        if g["top_sources"]:
            out.write("  top sources " + "; ".join(f"{s['name']} ({s['articles']})"
                                                   for s in g["top_sources"]) + "\n")
    missing = [f"{k}: {v['reason']}" for k, v in report["available"].items() if not v["available"]]
    if missing:
        out.write("\nNot available: " + "; ".join(missing) + "\n")
    return out.getvalue()


def csv_rows(report: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """One flat row per group (columns: keys, counts, share, ci_low, ci_high ...)."""
    rows = []
    for g in report["groups"]:
        row: dict[str, Any] = {b: g[b] for b in report["by"]}
        row["articles"] = g["articles"]
        row["attributions"] = g["attributions"]["count"]
        row["attributions_per_article"] = g["attributions"]["per_article"]
        row["sources"] = g["sources"]
        for field in ("identity", "source_kind", "quote_kind", "gender"):
            for k, s in (g.get(field) or {}).items():
                row[f"{field}_{k}_count"] = s["count"]
                row[f"{field}_{k}_share"] = s["share"]
                row[f"{field}_{k}_ci_low"] = s["ci"][0] if s["ci"] else None
                row[f"{field}_{k}_ci_high"] = s["ci"][1] if s["ci"] else None
        tr = g["transparency"]
        row["transparency_mean"] = tr["mean"]
        row["transparency_median"] = tr["median"]
        for i, c in enumerate(tr["distribution"]):
            row[f"transparency_{10 * i}_{10 * i + 10}"] = c
        for k, v in tr["components"].items():
            row[f"{k}_component_mean"] = v
        s = g["checkworthy_unattributed"]
        row["checkworthy_unattributed_count"] = s["count"]
        row["checkworthy_unattributed_of"] = s["of"]
        row["checkworthy_unattributed_share"] = s["share"]
        row["checkworthy_unattributed_ci_low"] = s["ci"][0] if s["ci"] else None
        row["checkworthy_unattributed_ci_high"] = s["ci"][1] if s["ci"] else None
        row["hearsay_longest"] = g["hearsay"]["longest"]
        row["hearsay_articles_with_chains"] = g["hearsay"]["articles_with_chains"]["count"]
        row["top_sources"] = "; ".join(f"{x['name']} ({x['articles']})" for x in g["top_sources"])
        rows.append(row)
    columns: list[str] = []
    for r in rows:
        columns += [c for c in r if c not in columns]
    return columns or list(report["by"]) + ["articles"], rows


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
