"""The outlet report: SQL aggregation over the store's views, shares with Wilson intervals
that sum to 1, time groups and filters, every output format, the CLI and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import math
import os
import sqlite3
import statistics

import pytest

from sourcetrace.cli import main
from sourcetrace.corpus import report as reports
from sourcetrace.corpus.store import ArticleRecord
from sourcetrace.corpus.store.memory import MemoryStore
from sourcetrace.corpus.store.sqlite import SqliteStore
from sourcetrace.errors import ConfigError
from sourcetrace.model import Analysis, Assertion, Attribution, Source, Span
from sourcetrace.sources.profile import build_profile

PG_ENV = "SOURCETRACE_TEST_POSTGRES"
HAS_REFERRED = "referred_as" in Source.__dataclass_fields__
REFERRED = {"Ann Lee": "she", "a senior official": "he"}   # Bo Chen: a person, not said


def article(outlet, date, quotes, *, checkworthy=0, n=0, title=None):
    """quotes: (speaker, identity, kind, quote kind); one sentence per quote."""
    parts, atts, sources = [], [], {}
    pos = 0
    for speaker, identity, kind, qkind in quotes:
        content = f"The plan number {n} {len(parts)} will work"
        sentence = f'"{content}," {speaker} said. '
        q0 = pos + 1
        s0 = pos + len(content) + 4
        sid = sources.setdefault(speaker, (len(sources), identity, kind))[0]
        atts.append((Span(s0, s0 + len(speaker)), Span(s0 + len(speaker) + 1, s0 + len(speaker) + 5),
                     Span(q0, q0 + len(content)), sid, speaker, qkind))
        parts.append(sentence)
        pos += len(sentence)
    claims = []
    for i in range(checkworthy):
        sentence = f"Prices rose {i + 3} percent in {n}. "
        claims.append(Span(pos, pos + len(sentence) - 1))
        parts.append(sentence)
        pos += len(sentence)
    text = "".join(parts) or f"Nothing was said in article {n}."
    attributions = tuple(
        Attribution(source=(Span.of(text, s.start, s.end),), cue=(Span.of(text, c.start, c.end),),
                    content=(Span.of(text, q.start, q.end),), kind=qkind, rule="test",
                    confidence=0.9, speaker=speaker, source_id=sid)
        for s, c, q, sid, speaker, qkind in atts)
    srcs = tuple(
        Source(id=sid, name=name, mentions=(Span.of(text, text.index(name),
                                                     text.index(name) + len(name)),),
               identity=identity, kind=kind,
               attributions=tuple(i for i, a in enumerate(attributions) if a.source_id == sid),
               **({"referred_as": REFERRED.get(name)} if HAS_REFERRED else {}))
        for name, (sid, identity, kind) in sources.items())
    assertions = tuple(Assertion(Span.of(text, c.start, c.end), "checkworthy") for c in claims)
    a = Analysis(text=text, attributions=attributions, sources=srcs, assertions=assertions,
                 meta={"id": f"rec-{n}"})
    a = a.replace(profile=build_profile(a))
    return ArticleRecord(analysis=a, input=f"in:{n}", outlet=outlet, date=date, title=title,
                         record_id=f"rec-{n}")


NAMED = ("Ann Lee", "named", "person", "direct")
NAMED2 = ("Bo Chen", "named", "person", "indirect")
OFFICIAL = ("the ministry", "named", "official", "indirect")
DESCRIBED = ("a senior official", "described", "official", "indirect")
ANON = ("a source", "anonymous", None, "mixed")


def corpus() -> list[ArticleRecord]:
    return [
        article("x.com", "2024-03-01", [NAMED, OFFICIAL], checkworthy=1, n=1),
        article("x.com", "2024-04-15", [NAMED, DESCRIBED, ANON], n=2),
        article("y.org", "2024-03-20", [DESCRIBED], checkworthy=2, n=3),
        article("y.org", "2024-04-02", [], n=4),
        article("y.org", None, [NAMED, NAMED2], n=5),
    ]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SqliteStore(str(tmp_path / "corpus.db"))
    else:
        dsn = os.environ.get(PG_ENV)
        if not dsn:
            pytest.skip(f"{PG_ENV} is not set: set it to a postgresql:// DSN to run the report "
                        "on PostgreSQL")
        from sourcetrace.corpus.store.postgres import PostgresStore

        s = PostgresStore(reset_postgres(dsn))
    s.add_many(corpus())
    yield s
    s.close()


def reset_postgres(dsn: str) -> str:
    """A fresh schema of the report tests' own (never ``public``); the DSN that uses it."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS sourcetrace_report_test CASCADE")
        conn.execute("CREATE SCHEMA sourcetrace_report_test")
    return make_conninfo(dsn, options="-c search_path=sourcetrace_report_test")


def by_key(report):
    return {tuple(g[b] for b in report["by"]): g for g in report["groups"]}


def test_report_wilson_interval_known_values():
    lo, hi = reports.wilson(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    lo, hi = reports.wilson(0, 10)
    assert lo == 0.0 and round(hi, 4) == 0.2775
    assert reports.wilson(0, 0) is None


def test_report_by_outlet_counts_shares_and_intervals(store):
    r = reports.build_report(store, by="outlet")
    g = by_key(r)
    assert set(g) == {("x.com",), ("y.org",)}
    x, y = g[("x.com",)], g[("y.org",)]
    assert (x["articles"], y["articles"]) == (2, 3)
    assert r["total"]["articles"] == 5
    assert (x["attributions"]["count"], y["attributions"]["count"]) == (5, 3)
    assert x["attributions"]["per_article"] == 2.5
    # "the ministry", typed named by its article, is a description: counted as described
    assert {k: v["count"] for k, v in x["identity"].items()} == {
        "named": 2, "described": 2, "anonymous": 1, "author": 0, "unspecified": 0}
    assert x["identity"]["named"]["share"] == pytest.approx(0.4)
    assert x["identity"]["named"]["ci"] == pytest.approx(list(reports.wilson(2, 5)))
    assert x["source_kind"]["none"]["count"] == 1          # the anonymous source has no kind
    assert {k: v["count"] for k, v in x["quote_kind"].items()} == {"direct": 2, "indirect": 2,
                                                                   "mixed": 1}
    for grp in (x, y):
        for field in ("identity", "source_kind", "quote_kind"):
            assert math.isclose(sum(v["share"] for v in grp[field].values()), 1.0)
    # check-worthy statements left unattributed: pooled over the group's articles
    assert x["checkworthy_unattributed"]["count"] == 1
    assert x["checkworthy_unattributed"]["of"] == 1 + 5
    assert y["checkworthy_unattributed"]["count"] == 2


def test_report_transparency_mean_median_and_distribution(store):
    r = reports.build_report(store, by="outlet")
    scores = {}
    for rec in corpus():
        scores.setdefault(rec.outlet, []).append(rec.analysis.profile["transparency"]["score"])
    for (outlet,), g in by_key(r).items():
        t = g["transparency"]
        assert t["mean"] == pytest.approx(statistics.mean(scores[outlet]))
        assert t["median"] == pytest.approx(statistics.median(scores[outlet]))
        assert sum(t["distribution"]) == len(scores[outlet])
        want = [0] * 10
        for s in scores[outlet]:
            want[min(9, int(s // 10))] += 1
        assert t["distribution"] == want
        comps = [rec.analysis.profile["transparency"]["components"] for rec in corpus()
                 if rec.outlet == outlet]
        for name in ("identity", "sourcing", "diversity"):
            assert t["components"][name] == pytest.approx(
                statistics.mean(next(c["value"] for c in cs if c["name"] == name) for cs in comps))


def test_report_by_month_and_outlet_month_and_filters(store):
    r = reports.build_report(store, by="month")
    g = by_key(r)
    assert {k: v["articles"] for k, v in g.items()} == {("2024-03",): 2, ("2024-04",): 2,
                                                         ("(no date)",): 1}
    r = reports.build_report(store, by="outlet,month", since="2024-03-15", until="2024-04")
    assert {k: v["articles"] for k, v in by_key(r).items()} == {
        ("x.com", "2024-04"): 1, ("y.org", "2024-03"): 1, ("y.org", "2024-04"): 1}
    r = reports.build_report(store, by="outlet", outlets=["y.org"], until="2024-03-31")
    assert {k: v["articles"] for k, v in by_key(r).items()} == {("y.org",): 1}
    r = reports.build_report(store, by="week")
    assert ("2024-02-26",) in by_key(r)   # 2024-03-01 is a Friday: its week starts on Monday 26 Feb


def test_report_same_figures_on_every_backend(store, tmp_path):
    ref = SqliteStore(str(tmp_path / "ref.db"))
    ref.add_many(corpus())
    a = reports.build_report(store, by="outlet,month")
    b = reports.build_report(ref, by="outlet,month")
    for r in (a, b):
        r.pop("generated_at"), r.pop("backend")
    assert rounded(a) == rounded(b)


def rounded(value):
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def test_report_longest_chains_and_top_sources(store):
    r = reports.build_report(store, by="outlet", top=2)
    x = by_key(r)[("x.com",)]
    assert [s["name"] for s in x["top_sources"]][0] == "Ann Lee"
    assert len(x["top_sources"]) == 2
    assert all(s["identity"] != "unspecified" for s in x["top_sources"])
    assert x["hearsay"]["longest"] == 1 and x["hearsay"]["chains"] == []


def test_report_bad_grouping_and_dates_are_config_errors(store):
    for kw in ({"by": "colour"}, {"by": "month,week"}, {"since": "2024-13-01"},
               {"until": "yesterday"}, {"since": "2024-05", "until": "2024-04"}):
        with pytest.raises(ConfigError):
            reports.build_report(store, **kw)
    with pytest.raises(ConfigError):
        reports.build_report(object())           # a store without SQL
    assert reports.build_report(MemoryStore())["total"]["articles"] == 0   # SQLite in memory


def test_report_unavailable_figures_are_said_not_invented(store):
    r = reports.build_report(store)
    for name in ("syndication", "first_reports"):
        assert r["available"][name]["reason"]
        if store.has_table("claims"):      # corpus/claim_figures.py: none of these has claims
            assert r["available"][name]["available"] is True
            assert all(g.get(name) is None for g in r["groups"])
        else:
            assert r["available"][name]["available"] is False
            assert all(g[name] is None for g in r["groups"])
    if not store.has_table("entities"):
        assert r["available"]["gender"]["available"] is False
        assert all(g["gender"] is None for g in r["groups"])


def test_report_people_by_how_the_article_refers_to_them(store):
    if not (HAS_REFERRED and store.has_table("entities")):
        pytest.skip("the store has no entity work (Source.referred_as, the entities table)")
    g = by_key(reports.build_report(store, by="outlet"))
    x, y = g[("x.com",)]["gender"], g[("y.org",)]["gender"]
    assert {k: v["count"] for k, v in x.items()} == {"she": 2, "he": 1, "they": 0, "not_said": 0}
    assert {k: v["count"] for k, v in y.items()} == {"she": 1, "he": 1, "they": 0, "not_said": 1}
    assert y["she"]["of"] == 3 and y["she"]["ci"] == pytest.approx(list(reports.wilson(1, 3)))
    assert math.isclose(sum(v["share"] for v in y.values()), 1.0)


def test_report_views_give_profile_components_by_name(tmp_path):
    s = SqliteStore(str(tmp_path / "v.db"))
    s.add_many(corpus())
    cols = [d[1] for d in sqlite3.connect(s.path).execute("PRAGMA table_info(article_view)")]
    rows = s.read_sql("SELECT * FROM article_view ORDER BY article_id")
    for rec, row in zip(corpus(), rows):
        values = dict(zip(cols, row))
        assert values["record_id"] == rec.record_id
        assert values["transparency"] == rec.analysis.profile["transparency"]["score"]
        for c in rec.analysis.profile["transparency"]["components"]:
            assert values[f"{c['name']}_component"] == c["value"]
    assert s.read_sql("SELECT count(*) FROM attribution_view")[0][0] == 8
    assert s.read_sql("SELECT count(*) FROM source_view")[0][0] == 8


def test_report_csv_has_one_row_per_group_with_intervals(store):
    r = reports.build_report(store, by="outlet,month")
    rows = list(csv.DictReader(io.StringIO(reports.render(r, "csv"))))
    assert len(rows) == len(r["groups"])
    assert {"outlet", "month", "articles", "identity_named_share", "identity_named_ci_low",
            "transparency_median"} <= set(rows[0])
    assert sum(int(x["articles"]) for x in rows) == 5


def test_report_html_is_self_contained_with_charts(tmp_path):
    pytest.importorskip("matplotlib", reason="charts need the report extra (matplotlib)")
    s = SqliteStore(str(tmp_path / "h.db"))
    s.add_many(corpus())
    r = reports.build_report(s)
    page = reports.render(r, "html", reports.time_report(s, r))
    people = 1 if r["available"]["gender"]["available"] else 0
    # 5 (6) per group (identity, people, transparency, shares, distribution, hearsay) + 2 over time
    assert page.count("<img class=chart") == 7 + people
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    import base64
    import re

    for uri in re.findall(r"src='data:image/svg\+xml;base64,([^']+)'", page):
        assert b"<svg" in base64.b64decode(uri)


def test_report_cli_json_text_csv_and_exit_codes(tmp_path, capsys):
    db = tmp_path / "c.db"
    s = SqliteStore(str(db))
    s.add_many(corpus())
    s.close()
    with pytest.raises(SystemExit) as exit:
        main(["report", "--db", str(db), "--format", "json"])
    assert exit.value.code in (0, None)
    r = json.loads(capsys.readouterr().out)
    assert r["total"]["articles"] == 5 and len(r["groups"]) == 2
    with pytest.raises(SystemExit) as exit:
        main(["report", "--db", str(db), "--by", "outlet,month", "-f", "csv", "-o",
              str(tmp_path / "r.csv")])
    assert exit.value.code in (0, None)
    assert len(list(csv.DictReader(open(tmp_path / "r.csv", encoding="utf-8")))) == 5
    with pytest.raises(SystemExit) as exit:
        main(["report", "--db", str(db)])
    out = capsys.readouterr().out
    assert exit.value.code in (0, None) and "x.com" in out and "named 40%" in out
    assert "counted: speech; confidence >= 0.6" in out.lower()
    for bad in (["--since", "2024-02-30"], ["--until", "soon"], ["--by", "day"]):
        with pytest.raises(SystemExit) as exit:
            main(["report", "--db", str(db), *bad])
        assert exit.value.code == 2, bad
    with pytest.raises(SystemExit) as exit:
        main(["report", "--db", str(tmp_path / "missing.db")])
    assert exit.value.code == 2


def test_report_api_returns_the_report_json_and_400_on_a_bad_date(tmp_path):
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from fastapi.testclient import TestClient

    from sourcetrace.config import DEFAULT
    from sourcetrace.web.app import create_app

    db = str(tmp_path / "api.db")
    s = SqliteStore(db)
    s.add_many(corpus())
    s.close()
    client = TestClient(create_app(DEFAULT, store=db), base_url="http://127.0.0.1")
    r = client.get("/api/report", params={"by": "outlet,month", "outlet": ["x.com"]})
    assert r.status_code == 200
    body = r.json()
    assert body["by"] == ["outlet", "month"] and body["total"]["articles"] == 2
    assert {g["month"] for g in body["groups"]} == {"2024-03", "2024-04"}
    bad = client.get("/api/report", params={"since": "2024-02-30"})
    assert bad.status_code == 400 and "not a date" in bad.json()["error"]["message"]
    assert client.get("/api/report", params={"by": "colour"}).status_code == 422
    page = client.get("/outlets", params={"by": "month"})
    assert page.status_code == 200 and "2024-03" in page.text


def test_report_export_has_profile_columns_typed_dates_and_record_ids(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import datetime

    from sourcetrace.corpus import runner

    s = SqliteStore(str(tmp_path / "e.db"))
    s.add_many(corpus())
    path = str(tmp_path / "a.parquet")
    assert runner.export(s, path, format="parquet", table="articles") == 5
    t = pq.read_table(path)
    assert str(t.schema.field("date").type) == "date32[day]"
    rows = t.to_pylist()
    recs = corpus()
    assert [r["record_id"] for r in rows] == [r.record_id for r in recs]
    assert rows[0]["date"] == datetime.date(2024, 3, 1) and rows[4]["date"] is None
    assert rows[0]["month"] == "2024-03"
    for row, rec in zip(rows, recs):
        p = rec.analysis.profile
        assert row["transparency"] == p["transparency"]["score"]
        for c in p["transparency"]["components"]:
            assert row[f"{c['name']}_component"] == c["value"]
        assert row["checkworthy_unattributed_share"] == p["assertions"]["checkworthy_unattributed_share"]
    out = io.StringIO()
    runner.export(s, out, format="csv", table="attributions")
    first = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert first["date"] == "2024-03-01" and first["record_id"] == "rec-1"
    assert pq.read_table(path).num_rows == 5
    runner.export(s, str(tmp_path / "s.parquet"), format="parquet", table="sources")
    assert str(pq.read_table(str(tmp_path / "s.parquet")).schema.field("date").type) == "date32[day]"


def test_report_migration_backfills_figures_of_older_articles(tmp_path):
    import sqlite3

    from sqlalchemy import create_engine

    from sourcetrace.corpus.store import attribution_rows, figure_row, migrate, source_rows

    path = str(tmp_path / "old.db")
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:   # a corpus at revision 0001: no figures, no record_id
        migrate.upgrade(conn, "0001")
    engine.dispose()
    old = sqlite3.connect(path)
    for rec in corpus():   # stored as before revision 0004
        a = rec.analysis
        old.execute(
            "INSERT INTO articles (content_hash, outlet, date, input, text, analysis, profile, "
            "n_attributions, n_sources, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'now')",
            (rec.content_hash, rec.outlet, rec.date, rec.input, a.text, a.to_json(),
             json.dumps(a.profile), len(a.attributions), len(a.sources)))
        article_id = old.execute("SELECT max(id) FROM articles").fetchone()[0]
        for table, rows in (("attributions", attribution_rows(a)), ("sources", source_rows(a))):
            have = {c[1] for c in old.execute(f"PRAGMA table_info({table})")}
            for row in ({k: v for k, v in r.items() if k in have} for r in rows):
                old.execute(f"INSERT INTO {table} (article_id, {', '.join(row)}) VALUES "
                            f"(?, {', '.join('?' for _ in row)})", (article_id, *row.values()))
    old.commit()
    old.close()
    new = SqliteStore(path)   # applies 0002 ... : record ids and figures from the stored JSON
    assert new.migrations() == sorted(int(r.revision) for r in migrate.scripts().walk_revisions())
    cols = [d[1] for d in new.read_sql("PRAGMA table_info(article_figures)")][1:]
    got = new.read_sql(f"SELECT {', '.join(cols)} FROM article_figures ORDER BY article_id")
    for rec, row in zip(corpus(), got):
        assert dict(zip(cols, row)) == figure_row(rec)
    assert [r[0] for r in new.read_sql("SELECT record_id FROM articles ORDER BY id")] == [
        r.record_id for r in corpus()]
    ref = SqliteStore(str(tmp_path / "new.db"))
    ref.add_many(corpus())
    a, b = reports.build_report(new, by="outlet,month"), reports.build_report(ref, by="outlet,month")
    for r in (a, b):
        r.pop("generated_at")
    assert rounded(a) == rounded(b)


# ------------------------------------------------------------ issue 21: numbers a researcher can publish

def story(outlet, date, lines, *, n, author=None, note=None):
    """lines: (speaker, identity, kind, act, parent index or None); one sentence each, the
    nested ones inside their parent's content. ``note``: an editor's note paragraph whose
    speaker is quoted too (the last attribution)."""
    from sourcetrace.model import Attribution as A, Source as S

    parts, atts, names = [], [], {}
    pos = 0
    for speaker, identity, kind, act, parent in lines:
        content = f"the plan {n} {len(atts)} will work"
        sentence = f"{speaker} said {content}. "
        s0, c0, q0 = pos, pos + len(speaker) + 1, pos + len(speaker) + 6
        sid = names.setdefault(speaker, (len(names), identity, kind))[0]
        atts.append((Span(s0, s0 + len(speaker)), Span(c0, c0 + 4), Span(q0, q0 + len(content)),
                     sid, speaker, act, parent))
        parts.append(sentence)
        pos += len(sentence)
    if note:
        para = f"\n\nEditor's note: {note} said the plan is a lie.\n"
        s0 = pos + len("\n\nEditor's note: ")
        sid = names.setdefault(note, (len(names), "described", "person"))[0]
        atts.append((Span(s0, s0 + len(note)), Span(s0 + len(note) + 1, s0 + len(note) + 5),
                     Span(s0 + len(note) + 6, s0 + len(note) + 23), sid, note, "speech", None))
        parts.append(para)
    text = "".join(parts)
    attributions = tuple(
        A(source=(Span.of(text, s.start, s.end),), cue=(Span.of(text, c.start, c.end),),
          content=(Span.of(text, q.start, q.end),), kind="indirect", rule="test", confidence=0.9,
          speaker=speaker, source_id=sid, parent=parent, act=act)
        for s, c, q, sid, speaker, act, parent in atts)
    from sourcetrace.sources.entities import entity_key

    def ent(name, identity, kind):   # as sources/registry.py keys a source
        found = entity_key(name, identity, person=kind == "person")
        return (("key", found[0]), ("name", found[1])) if found else None

    srcs = tuple(S(id=sid, name=name, mentions=(Span.of(text, text.index(name),
                                                          text.index(name) + len(name)),),
                   identity=identity, kind=kind, entity=ent(name, identity, kind),
                   attributions=tuple(i for i, a in enumerate(attributions) if a.source_id == sid))
                 for name, (sid, identity, kind) in names.items())
    a = Analysis(text=text, attributions=attributions, sources=srcs, meta={"id": f"s-{n}"})
    a = a.replace(profile=build_profile(a))
    return ArticleRecord(analysis=a, input=f"story:{n}", outlet=outlet, date=date,
                         title=f"Story {n}", author=author, record_id=f"s-{n}")


OBAMA = ("Barack Obama", "named", "person")


@pytest.fixture
def stories(tmp_path):
    s = SqliteStore(str(tmp_path / "stories.db"))
    s.add_many([
        # Obama nested in himself twice: his own stance, not hearsay
        story("a.com", "2024-01-05", [(*OBAMA, "speech", None), (*OBAMA, "belief", 0),
                                      (*OBAMA, "speech", 1)], n=1),
        # Obama relays a named aide: hearsay (depth 2)
        story("a.com", "2024-01-09", [(*OBAMA, "speech", None),
                                      ("Jane Aide", "named", "person", "speech", 0)], n=2),
        # descriptions typed named, and "Trump" / "Donald Trump" in two articles
        story("b.org", "2024-02-01", [("One Republican", "named", "person", "speech", None),
                                      ("agency", "named", "official", "speech", None),
                                      ("Judge", "named", "official", "speech", None),
                                      ("Donald Trump", "named", "person", "speech", None)],
              n=3, note="rampant xenophobe"),
        story("b.org", "2024-03-01", [("Trump", "named", "person", "speech", None),
                                      ("report", "named", "document", "speech", None)], n=4),
    ])
    yield s
    s.close()


def test_report_self_nesting_is_own_stance_not_hearsay(stories):
    from sourcetrace.corpus.counted import ALL

    r = reports.build_report(stories, by="outlet", selection=ALL)
    a = by_key(r)[("a.com",)]
    h = a["hearsay"]
    assert h["articles_with_chains"]["count"] == 1 and h["articles_with_chains"]["of"] == 2
    assert [c["chain"] for c in h["chains"]] == [["Barack Obama", "Jane Aide"]]
    assert h["own_stance"]["count"] == 2          # the two self-nestings of article 1
    for g in r["groups"]:
        for c in g["hearsay"]["chains"]:
            assert all(x != y for x, y in zip(c["chain"], c["chain"][1:]))
    # the article's own profile says the same
    p = json.loads(stories.read_sql("SELECT profile FROM articles WHERE record_id = 's-1'")[0][0])
    assert p["hearsay"]["longest_chain"] == 1 and p["hearsay"]["own_stance"] == 2


def test_report_descriptions_are_never_named_and_top_sources_merge_by_entity(stories):
    r = reports.build_report(stories, by="outlet", top=10)
    b = by_key(r)[("b.org",)]
    assert b["identity"]["named"]["count"] == 2          # Donald Trump and Trump only
    assert b["identity"]["described"]["count"] == 4      # One Republican, agency, Judge, report
    tops = {s["name"]: s for s in b["top_sources"]}
    assert tops["Donald Trump"]["articles"] == 2 and "Trump" not in tops
    assert set(tops["Donald Trump"]["aliases"]) == {"Donald Trump", "Trump"}
    named = [s for s in b["top_sources"] if s["identity"] == "named"]
    assert [s["name"] for s in named] == ["Donald Trump"]
    # the store's sources listing agrees
    rows = stories.top_sources(identity="named", limit=20)
    assert [x.name for x in rows] == ["Barack Obama", "Donald Trump", "Jane Aide"] or \
        {x.name for x in rows} == {"Barack Obama", "Donald Trump", "Jane Aide"}


def test_report_notes_captions_and_credits_are_never_sources(stories):
    r = reports.build_report(stories, by="outlet", top=10)
    b = by_key(r)[("b.org",)]
    assert b["notes_left_out"] == 1
    assert all("xenophobe" not in s["name"] for s in b["top_sources"])
    assert b["attributions"]["count"] == 6


def test_report_counts_the_chosen_acts_and_names_them(stories):
    from sourcetrace.corpus.counted import ALL, parse_selection

    default = reports.build_report(stories, by="outlet")
    every = reports.build_report(stories, by="outlet", selection=ALL)
    beliefs = reports.build_report(stories, by="outlet", selection=parse_selection("belief", 0))
    a = lambda r: by_key(r)[("a.com",)]["attributions"]["count"]   # noqa: E731
    assert (a(default), a(every), a(beliefs)) == (4, 5, 1)
    assert default["counted"]["acts"] == ["speech"] and every["counted"]["all_acts"]
    for fmt in ("text", "csv", "html"):
        assert "speech" in reports.render(default, fmt)
    assert "counted: all acts" in reports.render(every, "text").lower()
    assert reports.render(default, "csv").splitlines()[1].count("counted: speech") == 1


def test_report_small_groups_are_marked_and_every_share_has_its_n(stories):
    r = reports.build_report(stories, by="outlet", min_articles=3)
    assert all(g["small"] for g in r["groups"])
    r = reports.build_report(stories, by="outlet", min_articles=2)
    assert not any(g["small"] for g in r["groups"])
    for g in r["groups"]:
        for field in ("identity", "source_kind", "quote_kind"):
            for s in g[field].values():
                assert s["of"] == g["attributions"]["count"] and s["ci"] is not None
        assert g["hearsay"]["articles_with_chains"]["of"] == g["articles"]
    text = reports.render(reports.build_report(stories, by="outlet", min_articles=5), "text")
    assert "[small: under 5 articles]" in text and "(n=" in text


def test_report_time_series_drawn_only_where_each_point_has_enough_articles(stories):
    pytest.importorskip("matplotlib")
    from sourcetrace.corpus import charts

    r = reports.build_report(stories, by="outlet", min_articles=2)
    figs = {f.key: f for f in charts.figures(r, reports.time_report(stories, r))}
    assert "points only" in figs["time_named"].title        # one article a month
    small = reports.build_report(stories, by="outlet", min_articles=5)
    svg = {f.key: f.svg for f in charts.figures(small)}["shares"]
    assert "hollow" in {f.key: f.title for f in charts.figures(small)}["shares"]
    assert "fill: none" in svg or 'fill="none"' in svg     # hollow markers


def test_report_author_is_one_entity_per_byline_never_merged(tmp_path):
    from sourcetrace.corpus.store.memory import MemoryStore
    from sourcetrace.model import Source as S
    from sourcetrace.sources.entities import EntityIndex

    def author_source():
        return S(id=0, name="the author", identity="named", kind="person",
                 entity=(("key", "author"), ("name", "the author")))
    index = EntityIndex()
    a = index.link([author_source()], outlet="nyt", byline="Ann Writer", article=1)[0].entity_id
    b = index.link([author_source()], outlet="nyt", byline="Bo Writer", article=2)[0].entity_id
    c = index.link([author_source()], outlet="nyt", byline="Ann Writer", article=3)[0].entity_id
    d = index.link([author_source()], outlet="nyt", article=4)[0].entity_id
    e = index.link([author_source()], outlet="nyt", article=5)[0].entity_id
    assert a == c and len({a, b, d, e}) == 4
    assert index.by_id[a].name == "Ann Writer" and index.by_id[d].name == "the author of article 4"
    from sourcetrace.sources.entities import corpus_identity

    assert corpus_identity("the author", "named", index.by_id[a].key) == "author"
    assert MemoryStore is not None


def test_report_named_check_on_descriptions():
    from sourcetrace.sources.entities import looks_named

    for desc in ("One Republican", "agency", "the outlet", "report", "Judge", "Democratic leaders",
                 "Some officials", "the author"):
        assert not looks_named(desc), desc
    for name in ("Donald Trump", "the White House", "Twitter", "Republican National Committee",
                 "Trump's tweet", "The New York Times", "Judge Ann Lee", "Congress"):
        assert looks_named(name), name


def test_report_majority_kind_ties_are_shown():
    from sourcetrace.sources.entities import majority_ties

    assert majority_ties({"person": 2, "organization": 2, "media": 1}) == ("organization", "person")
    assert majority_ties({"person": 3, "organization": 2}) == ("person",)
    rows = [("x.com", 1, 7, "Twitter", "named", "social", 1, None, "org:twitter"),
            ("x.com", 2, 7, "Twitter", "named", "organization", 1, None, "org:twitter")]
    from sourcetrace.corpus.store import aggregate_entities

    [row] = aggregate_entities(rows, {7: ("Twitter", None, None, None)})
    assert row.kind_tied == ("organization", "social") and row.to_dict()["kind_tied"]


def test_report_exports_join_on_source_id_with_act_and_integer_parent(stories, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from sourcetrace.corpus import runner
    from sourcetrace.corpus.counted import ALL

    frames = {}
    for table in ("articles", "attributions", "sources"):
        cols = {}
        for fmt in ("jsonl", "csv", "parquet"):
            path = str(tmp_path / f"{table}.{fmt}")
            runner.export(stories, path, format=fmt, table=table, selection=ALL)
            frame = (pd.read_json(path, lines=True) if fmt == "jsonl" else
                     pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path))
            cols[fmt] = list(frame.columns)
            frames[(table, fmt)] = frame
        assert cols["jsonl"] == cols["csv"] == cols["parquet"] == list(runner.COLUMNS[table]), table
    att, src = frames[("attributions", "parquet")], frames[("sources", "parquet")]
    assert str(att["parent"].dtype) == "Int64" and str(att["source_id"].dtype) == "Int64"
    assert att["act"].notna().all() and set(att["act"]) == {"speech", "belief"}
    assert att["parent"].notna().sum() == 3          # the nested ones, as integers
    joined = att.merge(src, on=["article_id", "source_id"], how="left", suffixes=("", "_src"))
    assert len(joined) == len(att) and joined["name"].notna().all()
    assert (joined["entity_id"].dropna() == joined["entity_id_src"].dropna()).all()
    # the default export counts speech only, and says so on every row and in the metadata
    import pyarrow.parquet as pq

    path = str(tmp_path / "speech.parquet")
    n = runner.export(stories, path, format="parquet", table="attributions")
    assert n == len(att) - 1 and set(pd.read_parquet(path)["counted_acts"]) == {"speech"}
    assert b"speech" in pq.read_schema(path).metadata[b"sourcetrace.counted"]


def test_report_api_takes_the_acts_and_names_them(stories):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from sourcetrace.config import DEFAULT
    from sourcetrace.web.app import create_app

    with TestClient(create_app(DEFAULT, store=stories.path), base_url="http://127.0.0.1") as client:
        default = client.get("/api/report")
        every = client.get("/api/report", params={"acts": "all", "min_confidence": "0"})
        assert default.status_code == every.status_code == 200
        assert default.headers["x-sourcetrace-counted"] == "counted: speech; confidence >= 0.6"
        assert every.json()["counted"]["all_acts"]
        a = lambda r: sum(g["attributions"]["count"] for g in r.json()["groups"])  # noqa: E731
        assert a(every) == a(default) + 1
        assert client.get("/api/sources", params={"acts": "gossip"}).status_code == 400
        hits = client.get("/api/search", params={"q": "plan", "limit": 2})
        assert int(hits.headers["x-total-count"]) > 2 and len(hits.json()) == 2
        eid = client.get("/api/sources", params={"identity": "named"}).json()[0]["entity_id"]
        page = client.get(f"/api/entities/{eid}", params={"acts": "all"})
        assert page.status_code == 200 and page.json()["by_outlet"]
        assert client.get("/api/entities/99999").status_code == 404


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
def test_report_sources_listing_leaves_out_voices_of_editors_notes(backend, tmp_path):
    from sourcetrace.corpus.counted import ALL
    from sourcetrace.corpus.store.memory import MemoryStore

    s = SqliteStore(str(tmp_path / "n.db")) if backend == "sqlite" else MemoryStore()
    s.add_many([story("b.org", "2024-02-01", [("Donald Trump", "named", "person", "speech", None)],
                      n=7, note="rampant xenophobe")])
    for sel in (None, ALL):
        names = {r.name for r in s.top_sources(limit=20, selection=sel)}
        assert "Donald Trump" in names and "rampant xenophobe" not in names
