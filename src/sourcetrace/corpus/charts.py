"""Charts of the outlet report, drawn with matplotlib as SVG (see corpus/report.py for why).

    figures(report, over_time=None) -> [Figure(key, title, svg)]
    page(report, over_time=None)    -> one self-contained HTML page (no script, no CDN)

Bars per group (source identity shares, transparency mean and median, check-worthy
statements left unattributed with their 95% intervals), the score distributions as a
heat map, and lines over time from a second report grouped by month or week (per
outlet when the corpus has several). Every chart names the attributions counted (the
report's selection: acts and confidence) and each group's n; a group of fewer than the
report's ``min_articles`` articles is drawn hollow and labelled "small"; a series over
time is drawn as a line only where every point has ``min_articles`` articles, else its
points are drawn hollow and unconnected, and the caption says so. Each SVG is embedded as a ``data:`` image, so the
page is one file and the web UI's Content-Security-Policy (images from data: allowed,
no inline script or style) shows it unchanged. matplotlib is the ``report`` extra.
"""
from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

__all__ = ["Figure", "figures", "page", "data_uri", "MAX_GROUPS"]

MAX_GROUPS = 25  # groups drawn in a bar chart (the largest by articles); tables list all
MAX_LINES = 8    # outlets drawn in a chart over time (the largest by articles)
IDENTITY_COLOURS = {"named": "#1b7837", "described": "#7fbf7b", "anonymous": "#c2a5cf",
                    "author": "#f6e8c3", "unspecified": "#bdbdbd"}
REFERRED_COLOURS = {"she": "#d6604d", "he": "#4393c3", "they": "#9970ab", "not_said": "#bdbdbd"}


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    svg: str

    @property
    def uri(self) -> str:
        return data_uri(self.svg)


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise ConfigError("report charts need matplotlib",
                          hint="pip install 'sourcetrace[report]'") from exc
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "sourcetrace",
                         "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _label(report: dict[str, Any], g: dict[str, Any]) -> str:
    small = f" (small: {g['articles']} art.)" if g.get("small") else ""
    return " / ".join(str(g[b]) for b in report["by"]) + small


def _counted(report: dict[str, Any]) -> str:
    c = report.get("counted") or {}
    return f" [{c['describe']}]" if c.get("describe") else ""


def _hollow(ax, bars, groups) -> None:
    """Small groups drawn hollow: the bar's outline only, hatched."""
    for bar, g in zip(bars, groups):
        if g.get("small"):
            colour = bar.get_facecolor()
            bar.set_facecolor("none")
            bar.set_edgecolor(colour)
            bar.set_hatch("///")


def _largest(groups: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    if len(groups) <= n:
        return groups
    keep = {id(g) for g in sorted(groups, key=lambda g: -g["articles"])[:n]}
    return [g for g in groups if id(g) in keep]


def figures(report: dict[str, Any], over_time: dict[str, Any] | None = None) -> list[Figure]:
    """The report's charts as SVG (nothing to draw: an empty list)."""
    groups = _largest(report["groups"], MAX_GROUPS)
    if not groups:
        return []
    plt = _pyplot()
    labels = [_label(report, g) for g in groups]
    height = 0.9 + 0.32 * len(groups)
    out = []
    more = "" if len(groups) == len(report["groups"]) else \
        f" (the {len(groups)} largest of {len(report['groups'])})"

    # 1. identity shares: stacked bars, one per group
    fig, ax = plt.subplots(figsize=(7.5, height))
    left = [0.0] * len(groups)
    for ident, colour in IDENTITY_COLOURS.items():
        vals = [(g["identity"].get(ident) or {}).get("share") or 0.0 for g in groups]
        bars = ax.barh(labels, vals, left=left, color=colour, label=ident, edgecolor="white")
        _hollow(ax, bars, groups)
        left = [a + b for a, b in zip(left, vals)]
    for y, g in enumerate(groups):
        ax.text(1.01, y, f"n={g['attributions']['count']}", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of attributions")
    ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    out.append(Figure("identity", "Who is quoted: attributions by source identity" + more
                      + _counted(report), _svg(fig)))

    # 1b. people among the sources by how the text refers to them (where the store says)
    if any(g.get("gender") for g in groups):
        fig, ax = plt.subplots(figsize=(7.5, height))
        left = [0.0] * len(groups)
        for ref, colour in REFERRED_COLOURS.items():
            vals = [((g.get("gender") or {}).get(ref) or {}).get("share") or 0.0 for g in groups]
            bars = ax.barh(labels, vals, left=left, color=colour, label=ref.replace("_", " "),
                           edgecolor="white")
            _hollow(ax, bars, groups)
            left = [a + b for a, b in zip(left, vals)]
        for y, g in enumerate(groups):
            people = next(iter((g.get("gender") or {}).values()), {}).get("of", 0)
            ax.text(1.01, y, f"n={people}", va="center", fontsize=8)
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_xlabel("share of the people quoted")
        ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
        out.append(Figure("referred", "People quoted, by how the article refers to them" + more
                          + _counted(report), _svg(fig)))

    # 2. transparency mean (bar) and median (marker)
    fig, ax = plt.subplots(figsize=(7.5, height))
    means = [g["transparency"]["mean"] or 0.0 for g in groups]
    medians = [g["transparency"]["median"] for g in groups]
    _hollow(ax, ax.barh(labels, means, color="#4393c3", label="mean"), groups)
    for y, g in enumerate(groups):
        ax.text(101, y, f"n={g['transparency']['articles']}", va="center", fontsize=8)
    ys = [i for i, m in enumerate(medians) if m is not None]
    ax.plot([medians[i] for i in ys], ys, "D", color="#053061", label="median", markersize=5)
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_xlabel("transparency score (0-100)")
    ax.legend(ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    out.append(Figure("transparency", "Transparency score by group (each article's profile, "
                      "every act counted)" + more, _svg(fig)))

    # 3. shares with their 95% intervals
    fig, axes = plt.subplots(1, 2, figsize=(9, height), sharey=True)
    for ax, (title, get) in zip(axes, (
            ("named sources (share of attributions)", lambda g: g["identity"].get("named")),
            ("check-worthy statements left unattributed", lambda g: g["checkworthy_unattributed"]))):
        vals, lo, hi = [], [], []
        for g in groups:
            s = get(g) or {}
            v = s.get("share")
            ci = s.get("ci") or [v or 0.0, v or 0.0]
            vals.append(v or 0.0)
            lo.append(max(0.0, (v or 0.0) - ci[0]))
            hi.append(max(0.0, ci[1] - (v or 0.0)))
        for y, (g, v, l, h) in enumerate(zip(groups, vals, lo, hi)):
            small = bool(g.get("small"))
            ax.errorbar([v], [y], xerr=[[l], [h]], fmt="o", color="#b2182b", ecolor="#999999",
                        capsize=3, markerfacecolor="none" if small else "#b2182b")
            s = get(g) or {}
            ax.text(1.02, y, f"n={s.get('of', 0)}", va="center", fontsize=7)
        ax.set_yticks(range(len(groups)), labels)
        ax.set_xlim(0, 1)
        ax.set_title(title, fontsize=9)
    axes[0].invert_yaxis()
    out.append(Figure("shares", "Shares with 95% intervals (hollow: a small group)" + more
                      + _counted(report), _svg(fig)))

    # 4. score distributions: a heat map of articles per score bin
    fig, ax = plt.subplots(figsize=(7.5, height))
    grid = [[c / g["articles"] if g["articles"] else 0.0 for c in g["transparency"]["distribution"]]
            for g in groups]
    im = ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0, vmax=max(0.01, max(map(max, grid))))
    ax.set_yticks(range(len(groups)), labels)
    ax.set_xticks(range(10), report["bins"], rotation=45)
    ax.set_xlabel("transparency score")
    top = max(0.01, max(map(max, grid)))
    for y, g in enumerate(groups):
        for x, c in enumerate(g["transparency"]["distribution"]):
            if c:   # white on the dark cells, so that every count stays readable
                ax.text(x, y, str(c), ha="center", va="center", fontsize=7,
                        color="white" if grid[y][x] > 0.55 * top else "black")
    fig.colorbar(im, ax=ax, label="share of the group's articles")
    out.append(Figure("distribution", "Transparency score distribution" + more, _svg(fig)))

    # 5. hearsay: articles with a relay chain, with 95% intervals
    fig, ax = plt.subplots(figsize=(7.5, height))
    for y, g in enumerate(groups):
        s = g["hearsay"]["articles_with_chains"]
        v = s.get("share") or 0.0
        ci = s.get("ci") or [v, v]
        ax.errorbar([v], [y], xerr=[[max(0.0, v - ci[0])], [max(0.0, ci[1] - v)]], fmt="s",
                    color="#762a83", ecolor="#999999", capsize=3,
                    markerfacecolor="none" if g.get("small") else "#762a83")
        ax.text(1.02, y, f"n={s.get('of', 0)}", va="center", fontsize=7)
    ax.set_yticks(range(len(groups)), labels)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of articles with a hearsay chain (one voice relaying another)")
    out.append(Figure("hearsay", "Hearsay: articles where a voice relays another" + more
                      + _counted(report), _svg(fig)))

    # 6. over time
    if over_time and over_time["groups"]:
        out += _over_time(plt, over_time)
    return out


def _over_time(plt, report: dict[str, Any]) -> list[Figure]:
    by = report["by"]
    period = next((b for b in by if b in ("month", "week")), None)
    if period is None:
        return []
    series: dict[str, list[dict[str, Any]]] = {}
    for g in report["groups"]:
        if str(g[period]).startswith("("):
            continue  # no date
        series.setdefault(str(g.get("outlet", "all")), []).append(g)
    if not series:
        return []
    size = {k: sum(g["articles"] for g in v) for k, v in series.items()}
    names = sorted(series, key=lambda k: -size[k])[:MAX_LINES]
    need = report.get("min_articles", 1)
    # a line only where every point has enough articles (and there are at least 3 points)
    lines = {n for n in names if len(series[n]) >= 3
             and all(g["articles"] >= need for g in series[n])}
    note = "" if lines == set(names) else (
        f" - points only (hollow, not joined) where a period has fewer than {need} articles"
        " or the series has fewer than 3 periods")
    out = []
    for key, title, get, ylim in (
            ("time_transparency", "Transparency score (mean) over time",
             lambda g: g["transparency"]["mean"], (0, 100)),
            ("time_named", "Share of attributions to named sources over time",
             lambda g: (g["identity"].get("named") or {}).get("share"), (0, 1))):
        fig, ax = plt.subplots(figsize=(8, 3.4))
        for name in names:
            pts = sorted((str(g[period]), get(g), g["articles"]) for g in series[name]
                         if get(g) is not None)
            if not pts:
                continue
            if name in lines:
                ax.plot([p for p, _, _ in pts], [v for _, v, _ in pts], marker="o", label=name)
            else:
                ax.plot([p for p, _, _ in pts], [v for _, v, _ in pts], linestyle="none",
                        marker="o", markerfacecolor="none", label=f"{name} (too few articles)")
            for p, v, n in pts:
                ax.annotate(f"n={n}", (p, v), textcoords="offset points", xytext=(0, 5),
                            fontsize=6, ha="center")
        ax.set_ylim(*ylim)
        ax.set_xlabel(period)
        ax.tick_params(axis="x", rotation=45)
        if len(names) > 1:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        out.append(Figure(key, title + note + _counted(report), _svg(fig)))
    return out


# --------------------------------------------------------------------------- the page

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}
figure{margin:1.5em 0}figure img{max-width:100%;height:auto}
figcaption{font-weight:600;margin-bottom:.4em}
table{border-collapse:collapse;font-size:12px;margin:1em 0}
th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right;vertical-align:top}
th:first-child,td:first-child,th:last-child,td:last-child{text-align:left}
td:last-child{min-width:16em}.ci{color:#777;font-size:11px}
.note{color:#555}tr.small td{color:#777;font-style:italic}caption{text-align:left;color:#555}
"""


def _pct(s: dict[str, Any] | None) -> str:
    if not s or s.get("share") is None:
        return "&ndash;"
    lo, hi = s["ci"]
    return (f"{100 * s['share']:.0f}%<br><span class=ci>{100 * lo:.0f}&ndash;{100 * hi:.0f}%"
            f" of {s['of']}</span>")


def _num(v: Any, fmt: str = ".1f") -> str:
    return "&ndash;" if v is None else format(v, fmt)


def _top(s: dict[str, Any]) -> str:
    kind = " = ".join(s["kind_tied"]) + " (tie)" if s.get("kind_tied") else (s.get("kind") or "none")
    return f"{s['name']} ({s['articles']} art., {s['attributions']} att.; {s.get('identity')}, {kind})"


def table(report: dict[str, Any]) -> str:
    """The figures per group as an HTML table (escaped)."""
    head = ["group", "articles", "attributions / article", "named", "described", "anonymous",
            "author", "unspecified", "transparency mean", "median", "check-worthy unattributed",
            "articles with hearsay", "own stance", "top sources (by entity)"]
    rows = []
    for g in report["groups"]:
        cells = [html.escape(_label(report, g)), str(g["articles"]),
                 _num(g["attributions"]["per_article"], ".2f")]
        cells += [_pct(g["identity"].get(k)) for k in ("named", "described", "anonymous",
                                                       "author", "unspecified")]
        cells += [_num(g["transparency"]["mean"]), _num(g["transparency"]["median"]),
                  _pct(g["checkworthy_unattributed"]),
                  _pct(g["hearsay"]["articles_with_chains"]), _pct(g["hearsay"]["own_stance"]),
                  html.escape("; ".join(_top(s) for s in g["top_sources"]))]
        cls = " class=small" if g.get("small") else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    c = report.get("counted") or {}
    caption = html.escape(c.get("describe", ""))
    return ("<table class='report sortable'>" + (f"<caption>{caption}</caption>" if caption else "")
            + "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def page(report: dict[str, Any], over_time: dict[str, Any] | None = None) -> str:
    """The whole report as one HTML file: no script, no external resource."""
    figs = figures(report, over_time)
    t = report["total"]
    f = report["filters"]
    scope = ", ".join(x for x in (
        f"outlets {', '.join(f['outlets'])}" if f["outlets"] else "",
        f"since {f['since']}" if f["since"] else "", f"until {f['until']}" if f["until"] else "")
        if x)
    missing = [f"{k}: {v['reason']}" for k, v in report["available"].items() if not v["available"]]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width, initial-scale=1'>",
        f"<title>sourcetrace report by {html.escape(','.join(report['by']))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Sourcing by {html.escape(', '.join(report['by']))}</h1>",
        f"<p>{t['groups']} group(s), {t['articles']} article(s), {t['attributions']} "
        f"attribution(s){html.escape(' (' + scope + ')') if scope else ''}; generated "
        f"{html.escape(report['generated_at'])}. Shares are of attributions with 95% Wilson "
        "intervals and their n: small groups have wide intervals. Groups of fewer than "
        f"{report.get('min_articles', 0)} articles are drawn hollow and marked small.</p>",
        f"<p class=counted><strong>{html.escape((report.get('counted') or {}).get('describe', '').capitalize())}</strong>"
        " (what counts as an attribution: --acts, --min-confidence).</p>",
    ]
    for fig in figs:
        parts.append(f"<figure id='fig-{fig.key}'><figcaption>{html.escape(fig.title)}"
                     f"</figcaption><img class=chart alt='{html.escape(fig.title)}' "
                     f"src='{fig.uri}'></figure>")
    parts.append("<h2>Figures</h2>" + table(report))
    if missing:
        parts.append("<p class=note>Not available: " + html.escape("; ".join(missing)) + "</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
