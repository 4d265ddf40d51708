"""SQLite specifics: Alembic revisions applied once and in order (a failed one leaves the
corpus as it was), bad files, round trip of generated analyses (hypothesis), and
open_store's choice of backend."""
from __future__ import annotations

import sqlite3
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sourcetrace.corpus import store as store_mod
from sourcetrace.corpus.store import migrate
from sourcetrace.errors import StoreError
from sourcetrace.model import Analysis, Assertion, Attribution, Source, Span
from sourcetrace.corpus.store import ArticleRecord, open_store
from sourcetrace.corpus.store.memory import MemoryStore
from sourcetrace.corpus.store.sqlite import SqliteStore


def packaged_revisions() -> list[int]:
    return sorted(int(r.revision) for r in migrate.scripts().walk_revisions())


@pytest.fixture
def extra_revisions(tmp_path, monkeypatch):
    """write(name, down, body): a revision file in a folder of its own that the store
    reads beside the packaged ones."""
    folder = tmp_path / "more_versions"
    folder.mkdir()
    monkeypatch.setattr(migrate, "VERSIONS", [*migrate.VERSIONS, str(folder)])

    def write(rev: str, down: str, body: str) -> None:
        (folder / f"{rev}_test.py").write_text(
            f"from alembic import op\n\nrevision = {rev!r}\ndown_revision = {down!r}\n\n\n"
            "def upgrade():\n" + textwrap.indent(textwrap.dedent(body), "    "), encoding="utf-8")

    return write


def test_store_sqlite_revision_files_are_one_line_of_history():
    """The store reads the revisions from their file names (no Alembic import to open an
    up-to-date corpus): they must be Alembic's history, in order, each after the last."""
    scripts = migrate.scripts()
    assert scripts.get_heads() == [migrate.head()]
    chain = [r.revision for r in reversed(list(scripts.walk_revisions()))]
    assert chain == migrate.revisions()
    assert [scripts.get_revision(r).down_revision for r in chain] == [None, *chain[:-1]]


def test_store_sqlite_migrations_recorded_once(tmp_path):
    path = str(tmp_path / "c.db")
    versions = packaged_revisions()
    assert versions[0] == 1 and 8 in versions
    with SqliteStore(path) as s:
        assert s.migrations() == versions
    with SqliteStore(path) as s:  # reopening applies nothing twice
        assert s.migrations() == versions
    rows = sqlite3.connect(path).execute("SELECT version_num FROM sourcetrace_version").fetchall()
    assert rows == [(migrate.head(),)]


def test_store_sqlite_new_migration_applied_in_order(tmp_path, extra_revisions):
    path = str(tmp_path / "c.db")
    SqliteStore(path).close()
    head, before = migrate.head(), packaged_revisions()
    extra_revisions("1000", head, """
        op.execute("CREATE TABLE t2 (x INTEGER)")
        op.execute("INSERT INTO t2 VALUES (2)")
    """)
    extra_revisions("1001", "1000", 'op.execute("CREATE TABLE t3 (x INTEGER)")\n')
    with SqliteStore(path) as s:
        assert s.migrations() == before + [1000, 1001]
        assert s.read_sql("SELECT x FROM t2") == [(2,)]


def test_store_sqlite_failed_migration_rolls_back(tmp_path, extra_revisions):
    path = str(tmp_path / "c.db")
    SqliteStore(path).close()
    head = migrate.head()
    extra_revisions("1000", head, """
        op.execute("CREATE TABLE ok (x)")
        op.execute("NOT SQL")
    """)
    with pytest.raises(StoreError, match="schema"):
        SqliteStore(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version_num FROM sourcetrace_version").fetchall() == [(head,)]
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ok'").fetchall()


def test_store_sqlite_refuses_another_programs_database(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="no sourcetrace corpus"):
        SqliteStore(str(path))
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert names == {"notes"}


def test_store_sqlite_bad_paths_are_store_errors(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        SqliteStore(str(tmp_path / "missing" / "c.db"))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 50)
    with pytest.raises(StoreError, match="cannot open"):
        SqliteStore(str(junk))


def test_store_open_store_picks_the_backend(tmp_path, monkeypatch):
    assert isinstance(open_store(":memory:"), MemoryStore)
    s = open_store(str(tmp_path / "x.db"))
    assert isinstance(s, SqliteStore)
    s.close()
    monkeypatch.chdir(tmp_path)
    s = open_store(None)
    assert s.path == store_mod.DEFAULT_DB and (tmp_path / "sourcetrace.db").exists()
    s.close()


# -- round trip of generated analyses ------------------------------------------------

@st.composite
def analyses(draw):
    text = draw(st.text(min_size=1, max_size=80))
    n = len(text)

    def span():
        a = draw(st.integers(0, n))
        b = draw(st.integers(a, n))
        return Span.of(text, a, b)

    def spans(max_size=2):
        return tuple(span() for _ in range(draw(st.integers(0, max_size))))

    words = st.text(max_size=12)
    maybe = st.none() | words
    sources = tuple(Source(id=i, name=draw(words), mentions=spans(), identity=draw(maybe),
                           kind=draw(maybe), role=draw(maybe), channel=draw(maybe),
                           hearsay_depth=draw(st.integers(1, 4)),
                           attributions=tuple(draw(st.lists(st.integers(0, 5), max_size=3))),
                           evidence=tuple((k, draw(words)) for k in
                                          draw(st.lists(st.sampled_from(["kind", "identity"]),
                                                        unique=True))))
                    for i in range(draw(st.integers(0, 3))))
    atts = tuple(Attribution(source=spans(), cue=spans(1), content=spans(3),
                             kind=draw(st.sampled_from(["direct", "indirect", "mixed"])),
                             rule=draw(words), confidence=draw(st.floats(0, 1)),
                             parent=draw(st.none() | st.integers(0, 3)), speaker=draw(maybe),
                             speaker_span=draw(st.none() | st.just(span())),
                             source_id=draw(st.none() | st.integers(0, 2)))
                 for _ in range(draw(st.integers(0, 3))))
    scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | words
    meta = draw(st.dictionaries(st.sampled_from(["title", "url", "date", "outlet", "id"]), scalars))
    profile = draw(st.none() | st.dictionaries(words, st.integers() | st.floats(allow_nan=False)
                                               | words, max_size=3))
    assertions = tuple(Assertion(span(), draw(st.sampled_from(["checkworthy", "opinion"])),
                                 spans(), draw(words)) for _ in range(draw(st.integers(0, 2))))
    return Analysis(text=text, attributions=atts, sources=sources, assertions=assertions,
                    boilerplate=spans(), meta=meta, profile=profile,
                    warnings=tuple(draw(st.lists(words, max_size=2))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(analyses())
def test_store_round_trip_of_any_analysis(analysis):
    for s in (SqliteStore(":memory:"), MemoryStore()):
        article_id = s.add(ArticleRecord(analysis=analysis, input="gen", raw="<p>raw</p>"))
        got = s.get(article_id)
        assert got.analysis == analysis
        assert got.analysis.to_json() == analysis.to_json()
        assert got.raw_input == "<p>raw</p>"
        s.close()


def test_store_sqlite_relink_entities_relinks_every_article(tmp_path):
    text = "Anna Kovalenko said the bridge was closed."
    src = Source(id=0, name="Anna Kovalenko", mentions=(Span(0, 14),), kind="person",
                 identity="named", attributions=(0,))
    att = Attribution(source=(Span(0, 14),), cue=(Span(15, 19),), content=(Span(20, 42),),
                      kind="indirect", rule="test", confidence=0.9, source_id=0)
    analysis = Analysis(text=text, attributions=(att,), sources=(src,))
    with SqliteStore(str(tmp_path / "c.db")) as s:
        first = s.add(ArticleRecord(analysis=analysis, input="a"))
        second = s.add(ArticleRecord(analysis=analysis, input="b", content_hash="other"))
        before = {i: s.entity_links(i) for i in (first, second)}
        assert s.relink_entities() == 2
        after = {i: s.entity_links(i) for i in (first, second)}
    assert {link[1] for links in after.values() for link in links.values()} == {"Anna Kovalenko"}
    assert [sorted(v) for v in after.values()] == [sorted(v) for v in before.values()]
