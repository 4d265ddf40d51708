"""Source entities: no non-referring source, descriptions resolved to names, how the
article refers to a source, entities across the corpus (store backends), the gazetteer,
and the `sources` command through the real entry point."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import sourcetrace
from sourcetrace.corpus.store import ArticleRecord, open_store
from sourcetrace.errors import InputError
from sourcetrace.sources.entities import EntityIndex, Gazetteer, entity_key, majority, person_parts


def _analysis(text: str):
    return sourcetrace.analyze(text)


def test_entities_generic_you_and_caption_words_are_not_sources():
    a = _analysis('You can\'t talk about change, the senator said. "You know it," you say.\n\n'
                  'WATCH said the mayor was late. Ann Lee said the plan failed.')
    names = {s.name for s in a.sources}
    assert not names & {"You", "you", "WATCH", ""}
    for s in a.sources:
        if s.identity == "unspecified" and s.name == "unspecified":
            assert dict(s.evidence)["identity"]
    assert any(s.name == "Ann Lee" for s in a.sources)


def test_entities_author_voice_typed_as_author():
    a = _analysis("I think the plan is bad. Ann Lee said it failed.")
    author = [s for s in a.sources if s.name == "the author"]
    assert author and author[0].role == "the article's author"
    assert dict(author[0].entity)["key"] == "author"


def test_entities_title_resolves_to_the_person_named_earlier():
    a = _analysis("President Barack Obama spoke in Honolulu on Monday.\n\n"
                  '"It is a slow-moving issue," the president said.')
    att = [x for x in a.attributions if "slow-moving" in a.span_text(x.content)][0]
    src = a.sources[att.source_id]
    assert src.name == "Barack Obama"
    assert "president" in dict(src.evidence)["resolution"]


def test_entities_referred_as_from_pronouns_and_honorifics_never_from_names():
    a = _analysis('Ms Thomas said the talks failed. "We tried," she added. '
                  "Robin Park said the vote was close.")
    thomas = [s for s in a.sources if "Thomas" in s.name][0]
    assert thomas.referred_as == "she" and "referred_as" in dict(thomas.evidence)
    park = [s for s in a.sources if s.name == "Robin Park"][0]
    assert park.referred_as is None


def test_entities_keys_drop_titles_and_middle_initials():
    assert person_parts("President Donald J. Trump") == ("donald", "trump")
    assert person_parts("Mr. Trump") == (None, "trump")
    assert entity_key("Donald J. Trump", "named", person=True)[0] == "person:donald trump"
    assert entity_key("Trump", "named", person=True)[0] == "person:~trump"
    assert entity_key("the White House", "named", person=False)[0] == "org:white house"
    assert entity_key("unspecified", "unspecified", person=False) is None
    assert majority({"person": 21, "media": 1}) == "person"


class _S:
    def __init__(self, sid, key, name):
        self.id, self.name, self.entity, self.evidence = sid, name, (("key", key), ("name", name)), ()


def test_entities_index_bare_surname_joins_the_full_name_either_order():
    idx = EntityIndex()
    bare = idx.link([_S(0, "person:~trump", "Trump")])[0].entity_id
    full = idx.link([_S(0, "person:donald trump", "Donald Trump")])[0].entity_id
    _, merged, _ = idx.drain()
    assert merged == [(bare, full)]
    assert idx.link([_S(0, "person:~trump", "Trump")])[0].entity_id == full


def test_entities_index_merged_id_never_reused_within_one_article():
    # a bare surname, then its full name (which takes the bare entity), then a new entity,
    # all in one article: the new entity must not get the merged-away id
    idx = EntityIndex()
    links = idx.link([_S(0, "person:~lee", "Lee"), _S(1, "person:ann lee", "Ann Lee"),
                      _S(2, "org:city council", "the city council")])
    new, merged, _ = idx.drain()
    (bare, full), = merged
    assert len({e.id for e in new}) == len(new)
    assert links[2].entity_id not in {bare, full} and links[2].entity_id in idx.by_id


def test_entities_store_survives_a_bare_surname_merged_by_a_later_full_name(tmp_path):
    # article 1 names only "Lee"; article 2 has "Lee" and then "Ann Lee" as two sources:
    # the full name takes the bare entity while article 2's links still point at it
    # (regression: KeyError in link_entities ended the whole ingest)
    from sourcetrace.model import Analysis, Source

    def article(*names):
        return Analysis(text=" ".join(names), sources=tuple(
            Source(id=i, name=n, identity="named", kind="person",
                   entity=(("key", "person:~lee" if n == "Lee" else "person:ann lee"), ("name", n)))
            for i, n in enumerate(names)))

    s = open_store(str(tmp_path / "m.db"))
    try:
        s.add_many([ArticleRecord(analysis=article("Lee"), input="in0", outlet="a.com")])
        s.add_many([ArticleRecord(analysis=article("Lee", "Ann Lee"), input="in1", outlet="b.com")])
        rows = s.top_sources(limit=10)
        assert [r.name for r in rows] == ["Ann Lee"] and rows[0].articles == 2
    finally:
        s.close()


def test_entities_index_bare_surname_follows_the_dominant_full_name():
    idx = EntityIndex()
    for _ in range(4):
        hillary = idx.link([_S(0, "person:hillary clinton", "Hillary Clinton")])[0].entity_id
    bill = idx.link([_S(0, "person:bill clinton", "Bill Clinton")])[0].entity_id
    assert hillary != bill
    assert idx.link([_S(0, "person:~clinton", "Clinton")])[0].entity_id == hillary


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    s = open_store(":memory:" if request.param == "memory" else str(tmp_path / "e.db"))
    yield s
    s.close()


ARTICLES = [
    ("a.com", "Donald Trump said the wall would rise. Trump added that it was big."),
    ("b.org", 'President Trump said taxes would fall. "You never know," you say.'),
    ("b.org", "Mr. Trump said the deal was good. Hillary Clinton said it was bad."),
    ("c.net", "Clinton said the plan would work. The White House said it agreed."),
]


def test_entities_store_one_row_per_person_with_majority_kind(store):
    store.add_many(ArticleRecord(analysis=_analysis(t), input=f"in{i}", outlet=o)
                   for i, (o, t) in enumerate(ARTICLES))
    top = store.top_sources(limit=50)
    names = [r.name for r in top]
    assert "Trump" not in names and "Clinton" not in names
    trump = [r for r in top if r.name == "Donald Trump"][0]
    assert trump.articles == 3 and set(trump.aliases) >= {"Donald Trump", "Trump"}
    assert trump.kind == majority(trump.kind_counts) and sum(trump.kind_counts.values()) == 3
    assert trump.outlets == {"b.org": 2, "a.com": 1}
    assert not any(r.identity == "unspecified" or r.name.lower() in {"you", "unspecified", ""} for r in top)
    assert [r.name for r in store.top_sources(by="outlet", outlet="c.net")] == ["Hillary Clinton", "White House"]


def test_entities_gazetteer_pins_kind_and_external_id(store, tmp_path):
    gaz = tmp_path / "g.csv"
    gaz.write_text("name,aliases,kind,role,id\nDonald Trump,Trump|Donald J. Trump,official,president,Q22686\n",
                   encoding="utf-8")
    store.gazetteer = Gazetteer.load(gaz)
    store.add_many(ArticleRecord(analysis=_analysis(t), input=f"in{i}", outlet=o)
                   for i, (o, t) in enumerate(ARTICLES[:2]))
    trump = [r for r in store.top_sources() if r.name == "Donald Trump"][0]
    assert (trump.kind, trump.external_id, trump.role) == ("official", "Q22686", "president")
    assert trump.articles == 2


def test_entities_gazetteer_bad_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "g.jsonl"
    bad.write_text('{"name": "A"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputError):
        Gazetteer.load(bad)
    with pytest.raises(InputError):
        Gazetteer.load(tmp_path / "missing.csv")
    kinds = tmp_path / "k.csv"
    kinds.write_text("name,kind\nA,martian\n", encoding="utf-8")
    with pytest.raises(InputError):
        Gazetteer.load(kinds)


def test_entities_cli_sources_json_csv_and_export(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for i, (_, t) in enumerate(ARTICLES):
        (d / f"a{i}.txt").write_text(t, encoding="utf-8")
    db = str(tmp_path / "c.db")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "sourcetrace", *args], capture_output=True, text=True,
                              timeout=300)

    assert run("ingest", str(d), "--db", db, "--no-progress").returncode == 0
    out = run("sources", "--db", db, "--format", "jsonl", "--limit", "20", "--acts", "all",
              "--min-confidence", "0")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0]["name"] == "Donald Trump" and "Trump" in rows[0]["aliases"]
    assert {"identity_counts", "kind_counts", "referred_as", "outlets", "entity_id"} <= set(rows[0])
    csv_out = run("sources", "--db", db, "--format", "csv", "--acts", "all")
    assert csv_out.stdout.splitlines()[0].startswith("group,entity_id,name,aliases")
    exp = run("export", "--db", db, "--table", "sources", "--format", "jsonl", "--acts", "all",
              "--min-confidence", "0")
    assert exp.returncode == 0, exp.stderr
    srcs = [json.loads(line) for line in exp.stdout.splitlines() if line.strip()]
    trump_rows = [r for r in srcs if r["entity"] == "Donald Trump"]
    assert len({r["entity_id"] for r in trump_rows}) == 1 and len(trump_rows) >= 3


def test_entities_api_and_web_page_show_entities_with_aliases():
    from fastapi.testclient import TestClient

    from sourcetrace.config import DEFAULT
    from sourcetrace.web.app import create_app

    store = open_store(":memory:")
    store.add_many(ArticleRecord(analysis=_analysis(t), input=f"in{i}", outlet=o)
                   for i, (o, t) in enumerate(ARTICLES))
    with TestClient(create_app(DEFAULT, store=store), base_url="http://127.0.0.1") as c:
        resp = c.get("/api/sources")
        assert resp.status_code == 200, resp.text
        rows = resp.json()
        trump = [r for r in rows if r["name"] == "Donald Trump"][0]
        assert "Trump" in trump["aliases"] and trump["articles"] == 3 and trump["kind_counts"]
        assert not any(r["name"] in {"unspecified", "You", "you"} for r in rows)
        page = c.get("/sources")
        assert page.status_code == 200
        assert "Donald Trump" in page.text and "Also written" in page.text


SPEAKER_FLOORS = {"speaker_share": 0.88, "pair_precision": 0.95, "pair_recall": 0.55}


@pytest.mark.slow
def test_entities_speaker_references_and_pairs_floor_on_hand_labels():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    dev = root.parent / "shared" / "data" / "polnear" / "dev.jsonl"
    if not dev.exists():
        pytest.skip(f"{dev} is absent: the speaker labels point into PolNeAR dev")
    sys.path.insert(0, str(root / "bench"))
    try:
        import eval_sources
    finally:
        sys.path.pop(0)
    report = eval_sources.evaluate_speakers(dev)
    assert report["items"] >= 50
    for key, floor in SPEAKER_FLOORS.items():
        assert report["all"][key] >= floor, (key, report["all"], report["errors"])


def test_entities_cli_analyze_with_gazetteer_gives_the_external_id(tmp_path):
    art = tmp_path / "a.txt"
    art.write_text("President Trump said the wall would rise. Ann Lee said it would not.", encoding="utf-8")
    gaz = tmp_path / "g.jsonl"
    gaz.write_text(json.dumps({"name": "Donald Trump", "aliases": ["Trump"], "kind": "official",
                               "id": "Q22686"}) + "\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "sourcetrace", "analyze", str(art), "--format", "json",
                          "--entities", str(gaz)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    srcs = {s["name"]: s for s in json.loads(out.stdout)["sources"]}
    trump = [s for n, s in srcs.items() if "Trump" in n][0]
    assert trump["entity"]["external_id"] == "Q22686" and trump["kind"] == "official"
    assert srcs["Ann Lee"]["entity"]["key"] == "person:ann lee"
    assert "external_id" not in srcs["Ann Lee"]["entity"]
