"""Claim matching: confirmation checks keep distinct claims apart; the index finds neighbours."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sourcetrace.crossoutlet.claims import Claim
from sourcetrace.errors import ConfigError
from sourcetrace.crossoutlet.match import (
    ClaimIndex,
    Matcher,
    MatchEvidence,
    MatchOptions,
    confirm,
    extract_dates,
    extract_entities,
    extract_numbers,
    negation_count,
    pair_features,
    pair_score,
    polarity_conflict,
    scorer_model,
)
from sourcetrace.model import Span


@pytest.fixture(scope="session")
def embedder():
    from sourcetrace.crossoutlet.embed import get_embedder

    return get_embedder()          # one per process: the same object in every test file

# Hand-written hard negatives: the same topic and nearly the same words, another claim.
HARD_NEGATIVES = [
    ("Some 300 Russian troops refused to obey orders", "Some 3,000 Russian troops refused to obey orders", "numbers"),
    ("Some 300 Russian troops refused to obey orders", "Some 300 Russian troops agreed to obey orders", "polarity"),
    ("The senate will pass the bill before the election", "The senate will not pass the bill before the election", "negation"),
    ("The strike on Kharkiv killed 12 people on Tuesday", "The strike on Kharkiv killed 12 people on Thursday", "dates"),
    ("Clinton leads by 5 points in Ohio", "Clinton leads by 5 points in Florida", "entities"),
    ("The senator said he will not support Trump", "The senator said he will support Trump", "negation"),
    ("Unemployment fell to 4.9 percent in January", "Unemployment fell to 4.9 percent in February", "dates"),
    ("The company denied paying the bribe", "The company admitted paying the bribe", "polarity"),
    ("Inflation rose to 2.1% last year", "Inflation rose to 1.2% last year", "numbers"),
    ("The talks collapsed in 2015", "The talks collapsed in 2016", "dates"),
    ("He never met the Russian ambassador", "He met the Russian ambassador", "negation"),
    ("Rubio won the Minnesota caucuses", "Rubio lost the Minnesota caucuses", "polarity"),
    ("Some 1.5 million people fled the city", "Some 15 million people fled the city", "numbers"),
]

# Paraphrases that must survive the checks (numbers, dates and names written differently).
SAME = [
    ("Some 3,000 Russian troops refused to obey orders", "About 3000 Russian soldiers refused to follow orders"),
    ("1.5 million people fled the city", "1,500,000 people have fled the city"),
    ("Clinton collapsed at the Sept. 11 memorial", "Hillary Clinton collapsed at the September 11 memorial ceremony"),
    ("He said he had no plans to run", "He has no plans to run for office"),
    ("Trump said Mexico will pay for the wall", "Mexico will pay for the wall, Donald Trump said"),
]


@pytest.mark.parametrize("a,b,check", HARD_NEGATIVES)
def test_match_hard_negative_is_rejected_by_the_right_check(a, b, check):
    evidence = confirm(a, b, cosine=0.97)
    assert not evidence.same
    assert check in evidence.failed, evidence.explain()


@pytest.mark.parametrize("a,b", SAME)
def test_match_paraphrase_passes_every_check(a, b):
    evidence = confirm(a, b, cosine=0.9)
    assert evidence.same, evidence.explain()


def test_match_low_cosine_is_rejected_first():
    evidence = confirm("a b c", "a b c", cosine=0.1)
    assert not evidence.same and evidence.failed == ("cosine",)


def test_match_numbers_normalise_separators_and_scales():
    assert extract_numbers("3,000 troops and 1.5 million people, 12% and twenty") == \
        {3000.0, 1_500_000.0, 12.0, 20.0}
    assert extract_numbers("one of them") == frozenset()


def test_match_dates_read_months_days_years_and_weekdays():
    dates, spans = extract_dates("On Sept. 11, 2016 and on Monday, 3 March")
    assert dates == {"m9-d11", "y2016", "monday", "m3-d3"}
    # the day numbers of dates are not quantities
    assert extract_numbers("On Sept. 11, 2016", skip=spans) == frozenset()


def test_match_may_the_verb_is_not_a_month():
    assert extract_dates("He said it may rain")[0] == frozenset()


def test_match_negation_counts_contractions():
    assert negation_count("He didn't go and won't go") == 2
    assert negation_count("He went") == 0


def test_match_polarity_finds_antonym_pairs_either_way():
    assert polarity_conflict("troops refused orders", "troops agreed to orders") == ("refused", "agreed")
    assert polarity_conflict("troops agreed", "troops refused") == ("agreed", "refused")
    assert polarity_conflict("troops refused, then agreed", "troops agreed") is None


def test_match_entities_skip_sentence_openers_and_possessives():
    assert extract_entities("The senator said Hillary Clinton's plan failed in Ohio") == \
        {"hillary", "clinton", "ohio"}


def test_match_evidence_explains_each_check():
    text = confirm("300 troops refused", "3,000 troops refused", 0.95).explain()
    assert "numbers CONFLICT: {300} vs {3000}" in text


def test_match_options_validate():
    with pytest.raises(ConfigError):
        MatchOptions(neighbours=0)
    with pytest.raises(ConfigError):
        MatchOptions(min_cosine=2)
    with pytest.raises(ConfigError):
        MatchOptions(min_score=1.5)


EXCERPT = ("Russia hacked the emails of the Democratic National Committee",
           "that Russia hacked the emails of the Democratic National Committee last year")
OTHER_WORDS = ("Russia hacked the emails of the Democratic National Committee",
               "officials doubted claims that Russia was involved in hacking Democratic emails")


def test_match_features_count_the_words_one_claim_adds():
    f = pair_features(*EXCERPT, 0.8)
    assert f["unmatched"] == 3 and f["unmatched_words"] == ["that", "last", "year"]
    g = pair_features(*OTHER_WORDS, 0.8)
    assert g["unmatched"] == 5 and "doubted" in g["unmatched_words"]


def test_match_score_falls_with_unmatched_words_and_rises_with_cosine():
    f, g = pair_features(*EXCERPT, 0.8), pair_features(*OTHER_WORDS, 0.8)
    assert pair_score(f) > pair_score(g)
    assert pair_score(pair_features(*OTHER_WORDS, 0.9)) > pair_score(g)


def test_match_score_check_is_in_the_evidence_and_decides_at_its_threshold():
    evidence = confirm(*OTHER_WORDS, 0.8)
    assert evidence.score == pytest.approx(pair_score(pair_features(*OTHER_WORDS, 0.8)))
    assert "score" in [c.name for c in evidence.checks]
    assert "doubted" in evidence.explain()
    strict = confirm(*OTHER_WORDS, 0.8, MatchOptions(min_score=round(evidence.score + 0.01, 3)))
    assert not strict.same and strict.failed == ("score",)
    assert confirm(*OTHER_WORDS, 0.8, MatchOptions(use_scorer=False)).score is None


def test_match_evidence_round_trips_with_its_score():
    evidence = confirm(*EXCERPT, 0.8)
    again = MatchEvidence.from_dict(evidence.to_dict())
    assert again.same == evidence.same and again.score == pytest.approx(evidence.score, abs=1e-4)
    assert MatchEvidence.from_dict({"cosine": 0.9, "same": True, "checks": []}).score is None


def test_match_scorer_model_is_data_and_matches_the_default_options():
    model = scorer_model()
    assert len(model["features"]) == len(model["coefficients"]) == 3
    assert set(model["features"]) <= set(pair_features("a b", "a c", 0.5))
    assert 0 < model["threshold"] < 1
    assert MatchOptions().min_cosine == model["min_cosine"]


def _unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_match_index_returns_nearest_by_cosine():
    rng = np.random.default_rng(0)
    vectors = np.stack([_unit(rng.normal(size=384)) for _ in range(50)])
    index = ClaimIndex()
    index.add([f"c{i}" for i in range(50)], vectors)
    hits = index.search(vectors[7], 3)[0]
    assert hits[0][0] == "c7" and hits[0][1] == pytest.approx(1.0, abs=1e-2)
    assert len(hits) == 3 and hits[0][1] >= hits[1][1] >= hits[2][1]


def test_match_index_ignores_known_ids_and_checks_shapes():
    index = ClaimIndex()
    v = np.stack([_unit(np.ones(384))])
    index.add(["x"], v)
    index.add(["x"], v)
    assert len(index) == 1
    with pytest.raises(ConfigError):
        index.add(["y"], np.ones((1, 10), dtype=np.float32))


def test_match_index_save_and_load(tmp_path):
    rng = np.random.default_rng(1)
    vectors = np.stack([_unit(rng.normal(size=384)) for _ in range(20)])
    index = ClaimIndex()
    index.add([f"c{i}" for i in range(20)], vectors)
    index.save(str(tmp_path / "claims.usearch"))
    loaded = ClaimIndex.load(str(tmp_path / "claims.usearch"))
    assert loaded.search(vectors[3], 1)[0][0][0] == "c3"


def _claim(cid, article, text):
    return Claim(id=cid, article_id=article, text=text, span=Span(0, len(text)))


def test_match_matcher_finds_same_claim_in_other_articles(embedder):
    claims = [
        _claim("a#1", "a", "Some 300 Russian troops refused to obey orders near Avdiivka"),
        _claim("b#1", "b", "About 300 Russian soldiers refused to follow orders near Avdiivka"),
        _claim("c#1", "c", "Some 3,000 Russian troops refused to obey orders near Avdiivka"),
        _claim("d#1", "d", "The central bank raised interest rates on Wednesday"),
        _claim("a#2", "a", "Some 300 Russian troops refused to obey orders near Avdiivka, it said"),
    ]
    matcher = Matcher(embedder=embedder)
    matcher.add(claims)
    found = matcher.matches_for(claims[0])
    assert [m.other_id for m in found] == ["b#1"]          # not c (3,000), not a#2 (same article)
    rejected = {m.other_id: m for m in matcher.matches_for(claims[0], keep_rejected=True)}
    assert "numbers" in rejected["c#1"].evidence.failed


def test_match_empty_query_is_a_clear_error(embedder):
    with pytest.raises(ConfigError):
        Matcher(embedder=embedder).match_text("  ")


@pytest.mark.slow
def test_match_labelled_polnear_pairs_stay_above_the_floor(embedder):
    """bench/labels/claim_pairs.jsonl (read by a person) and claim_pairs_edited.jsonl
    (a claim and a copy with a changed number, a negation, another actor, or
    synonyms): score and thresholds as shipped (fitted on the "tune" halves), scored
    on the "test" halves. Measured: P 0.923, R 0.872 on both; P 0.875, R 0.741 on the
    read pairs alone; 94% of the hard negatives rejected (bench/RESULTS.md)."""
    import sys

    from conftest import POLNEAR_DEV, ROOT, _need

    _need(POLNEAR_DEV)
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import eval_match
    finally:
        sys.path.pop(0)
    articles = eval_match.load_articles(POLNEAR_DEV.parent)
    read = eval_match.load_pairs(articles)
    edited = eval_match.load_edited_pairs(articles)
    assert len(read) >= 300 and sum(p["hard"] for p in read) >= len(read) / 2
    assert sum(p["label"] == "different" for p in edited) >= 150
    assert sum(p["label"] == "same" for p in edited) >= 150
    test = [p for p in read + edited if p["split"] == "test"]
    eval_match.add_cosines(test, embedder)
    predict = eval_match.matcher_predict(MatchOptions())
    score = eval_match.prf(test, predict)
    assert score["precision"] >= 0.88 and score["recall"] >= 0.80, score
    alone = eval_match.prf([p for p in test if "edits" not in p], predict)
    assert alone["precision"] >= 0.85 and alone["recall"] >= 0.72, alone
    hard = [p for p in test if p["hard"]]
    rejected = sum(not predict(p) for p in hard) / len(hard)
    assert rejected >= 0.9, rejected


# ---------------------------------------------------------------------------
# Ranked retrieval (retrieve.py) with the cross-encoder reranker (rerank.py)

RETRIEVAL_CLAIMS = [
    ("c1", "Some 300 Russian troops refused to obey orders near Okhtyrka"),
    ("c2", "The strike on Kharkiv killed 12 people on Tuesday"),
    ("c3", "The central bank raised interest rates by a quarter point"),
    ("c4", "Belarusian troops were ordered to change into Russian uniforms"),
    ("c5", "The senate will pass the bill before the election"),
    ("c6", "Unemployment fell to 4.9 percent in January"),
    ("c7", "Millennials overwhelmingly believe that climate change is real"),
]


@pytest.fixture(scope="module")
def claims_collection(embedder):
    from sourcetrace.crossoutlet.retrieve import Collection

    col = Collection()
    ids, texts = zip(*RETRIEVAL_CLAIMS)
    col.add(list(ids), list(texts), embedder.encode(list(texts)),
            records=[{"n": i} for i in range(len(ids))])
    return col


def test_retrieve_paraphrase_in_other_words_is_same_and_first(claims_collection):
    from sourcetrace.crossoutlet.retrieve import SAME, retrieve

    found = retrieve("About 300 Russian soldiers refused to follow orders near Okhtyrka",
                     claims_collection, top=5)
    assert found.hits[0].id == "c1" and found.hits[0].verdict == SAME
    assert found.verdict == SAME
    assert [h.rank for h in found.hits] == [1, 2, 3, 4, 5]
    probs = [h.probability for h in found.hits]
    assert probs == sorted(probs, reverse=True) and all(0.0 <= p <= 1.0 for p in probs)
    assert all(h.verdict != SAME for h in found.hits[1:])
    assert found.hits[0].record == {"n": 0}


@pytest.mark.xfail(strict=True, reason="the reranker reads 'would not follow' as a negation "
                   "of 'refused to obey' (negated copies were its negatives): a known miss")
def test_retrieve_paraphrase_that_negates_an_antonym_is_same(claims_collection):
    from sourcetrace.crossoutlet.retrieve import SAME, retrieve

    found = retrieve("About 300 Russian soldiers would not follow orders near Okhtyrka",
                     claims_collection, top=3)
    assert found.hits[0].id == "c1" and found.hits[0].verdict == SAME


@pytest.mark.parametrize("query,expected", [
    ("Some 3,000 Russian troops refused to obey orders near Okhtyrka", "numbers"),
    ("The strike on Kharkiv killed 12 people on Thursday", "dates"),
    ("The senate will not pass the bill before the election", "negation"),
])
def test_retrieve_changed_number_date_or_negation_contradicts(claims_collection, query, expected):
    from sourcetrace.crossoutlet.retrieve import CONTRADICTS, SAME, retrieve

    found = retrieve(query, claims_collection, top=3)
    first = found.hits[0]
    assert first.verdict == CONTRADICTS and first.conflicts[0].startswith(expected)
    assert found.verdict != SAME


def test_retrieve_no_confirmed_match_still_lists_the_closest(claims_collection):
    from sourcetrace.crossoutlet.retrieve import NO_MATCH, retrieve

    found = retrieve("The price of wheat doubled in Egypt last spring", claims_collection, top=4)
    assert found.verdict == NO_MATCH and len(found.hits) == 4
    assert all(h.verdict != "same" and h.probability < 0.5 for h in found.hits)
    assert found.to_dict()["verdict"] == "no confirmed match"


def test_retrieve_exclude_leaves_the_claim_itself_out(claims_collection, embedder):
    from sourcetrace.crossoutlet.retrieve import retrieve

    text = RETRIEVAL_CLAIMS[1][1]
    found = retrieve(text, claims_collection, exclude={"c2"}, vector=embedder.encode([text])[0])
    assert "c2" not in [h.id for h in found.hits]


def test_retrieve_lexical_candidate_reaches_the_reranker():
    """A claim the dense search ranks low but that shares the query's rare words is a
    candidate (reciprocal rank fusion), with its lexical rank."""
    from sourcetrace.crossoutlet.retrieve import Collection, retrieve

    class Fixed:              # a reranker that scores every pair alike: order from fusion
        same_threshold, related_threshold, min_logit, same_margin = 0.9, 0.05, 0.0, 1.0

        def score(self, query, texts):
            return np.zeros(len(texts), dtype=np.float32)

        def rank_score(self, logits, cosines):
            return np.asarray(logits, dtype=np.float64)

        def probability(self, logits, cosines):
            return np.full(len(logits), 0.1)

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 384)).astype(np.float32)
    col = Collection()
    col.add([f"d{i}" for i in range(50)],
            ["filler words about nothing in particular"] * 49 + ["the zyrtec okhtyrka claim"],
            vectors)
    query_vector = -vectors[49]             # dense search ranks d49 last
    found = retrieve("okhtyrka zyrtec", col, top=5, depth=5, vector=query_vector,
                     reranker=Fixed())
    hit = {h.id: h for h in found.hits}["d49"]
    assert hit.lexical_rank == 1 and hit.dense_rank is None


def test_lexical_index_ranks_rare_words_first():
    from sourcetrace.crossoutlet.retrieve import LexicalIndex

    idx = LexicalIndex()
    idx.add(["a", "b", "c"], ["troops refused orders", "troops marched", "troops troops"])
    assert idx.search("refused troops", 3)[0][0] == "a"
    assert idx.search("nothing shared", 3) == []
    idx.add(["a"], ["other text"])                # an id already indexed is kept as it was
    assert len(idx) == 3


def test_store_search_text_sqlite_indexes_new_claims_lazily(tmp_path):
    from sourcetrace.corpus.store import ArticleRecord, open_store
    from sourcetrace.corpus.store.search import search_text
    from sourcetrace.model import Analysis

    with open_store(str(tmp_path / "s.db")) as store:
        assert 8 in store.migrations()
        assert search_text(store, "claims", "troops", 5) == []
        aid = store.add(ArticleRecord(analysis=Analysis(text="x"), input="a.txt"))
        store.add_claim_batch(aid, b"", 0, claims=[
            ("1#a0", json.dumps({"text": "Some 300 troops refused to obey orders"}), b"\0" * 768),
            ("1#a1", json.dumps({"text": "The bridge reopened"}), b"\0" * 768)])
        found = search_text(store, "claims", "soldiers refusing orders", 5)
        assert [cid for cid, _ in found] == ["1#a0"]      # stemmed: refusing ~ refused
        assert search_text(store, "claims", "the of and", 5) == []
        store.add_factchecks([("f1", json.dumps({"claim": "Troops refused orders",
                                                 "rating": "False"}), b"\0" * 768)])
        assert [i for i, _ in search_text(store, "factchecks", "orders", 5)] == ["f1"]


def test_store_search_text_postgres_uses_the_text_search_index():
    import os

    dsn = os.environ.get("SOURCETRACE_TEST_POSTGRES")
    if not dsn:
        pytest.skip("SOURCETRACE_TEST_POSTGRES is not set: set it to a postgresql:// DSN")
    import psycopg
    from psycopg.conninfo import make_conninfo

    from sourcetrace.corpus.store import ArticleRecord
    from sourcetrace.corpus.store.postgres import PostgresStore
    from sourcetrace.corpus.store.search import search_text
    from sourcetrace.model import Analysis

    schema = "sourcetrace_search_test"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    store = PostgresStore(make_conninfo(dsn, options=f"-c search_path={schema}"))
    try:
        assert 8 in store.migrations()
        aid = store.add(ArticleRecord(analysis=Analysis(text="x"), input="a.txt"))
        store.add_claim_batch(aid, b"", 0, claims=[
            ("1#a0", json.dumps({"text": "Some 300 troops refused to obey orders"}), b"\0" * 768),
            ("1#a1", json.dumps({"text": "The bridge reopened"}), b"\0" * 768)])
        found = search_text(store, "claims", "soldiers refusing orders", 5)
        assert [cid for cid, _ in found] == ["1#a0"]
        assert search_text(store, "claims", "the of and", 5) == []
        store.add_factchecks([("f1", json.dumps({"claim": "Troops refused orders",
                                                 "rating": "False"}), b"\0" * 768)])
        assert [i for i, _ in search_text(store, "factchecks", "orders", 5)] == ["f1"]
    finally:
        store.close()


def test_store_search_text_memory_store_has_none():
    from sourcetrace.corpus.store import open_store
    from sourcetrace.corpus.store.search import search_text

    assert search_text(open_store(":memory:"), "claims", "troops", 5) is None


def test_reranker_calibration_is_monotonic_in_the_logit():
    from sourcetrace.crossoutlet.rerank import get_reranker

    r = get_reranker()
    probs = r.probability(np.array([-4.0, 0.0, 4.0]), np.array([0.7, 0.7, 0.7]))
    assert probs[0] < probs[1] < probs[2]
    assert 0.0 < r.related_threshold < r.same_threshold < 1.0
    logits = r.score("Some 300 troops refused orders",
                     ["About 300 soldiers would not obey orders", "The bridge reopened"])
    assert logits[0] > logits[1]


# ---------------------------------------------------------------------------
# trace on the 84 PolNeAR dev articles (../shared): a module-scoped store, built once

POLNEAR_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "polnear" / "dev.jsonl"


@pytest.fixture(scope="module")
def dev_store(tmp_path_factory):
    if not POLNEAR_DEV.exists():
        pytest.skip("../shared/data/polnear is absent: the PolNeAR dev trace tests need it")
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import eval_trace

    folder = tmp_path_factory.mktemp("dev")
    db = str(folder / "dev.db")
    eval_trace.build_store(db, folder)
    return db


@pytest.mark.slow
def test_trace_climate_change_is_real_finds_the_dev_article_that_states_it(dev_store):
    from typer.testing import CliRunner

    from sourcetrace.cli import _register_commands, app
    from sourcetrace.corpus.store import open_store

    _register_commands()
    done = CliRunner().invoke(app, ["trace", "climate change is real", "--db", dev_store,
                                    "-f", "json"])
    assert done.exit_code == 0, done.output[-2000:]
    data = json.loads(done.output)
    assert data["verdict"] == "same"
    with open_store(dev_store) as store:
        texts = {str(a.id): a.text for a in store.iter_articles()}
    same = [h for h in data["ranked"] if h["verdict"] == "same"]
    assert any("climate change is real" in texts[h["record"]["article_id"]] for h in same)
    probs = [h["probability"] for h in data["ranked"]]
    assert probs == sorted(probs, reverse=True)


@pytest.mark.slow
def test_trace_paraphrases_of_dev_claims_stay_above_floors(dev_store):
    """bench/labels/trace_paraphrases.jsonl: paraphrases found, near misses not marked same
    (floors under the figures in bench/RESULTS.md)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import eval_trace

    result = eval_trace.evaluate(dev_store)["trace"]
    assert result["recall"] >= TRACE_RECALL_FLOOR, result
    assert result["precision"] >= TRACE_PRECISION_FLOOR, result


TRACE_RECALL_FLOOR = 0.58     # measured 0.6129 (19 of 31), bench/RESULTS.md
TRACE_PRECISION_FLOOR = 0.76  # measured 0.79 (5 of 31 near misses marked same), RESULTS.md


CLEF_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "clef2020-claims"


@pytest.mark.slow
@pytest.mark.skipif(not CLEF_DIR.exists(), reason="../shared/data/clef2020-claims is absent")
def test_retrieval_clef_dev_stays_above_floors():
    """CLEF 2020 Task 2 dev: MAP@5 and P@1 of the ranked retrieval over the 10,375
    fact-checks (floors just under bench/RESULTS.md: 0.8395 and 0.7766), better than the
    MiniLM cosine alone."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import eval_match

    dev = eval_match.clef_scores("dev")
    assert dev["MAP@5"] >= 0.82 and dev["P@1"] >= 0.76, dev
    assert dev["MAP@5"] > dev["dense_only_MAP@5"]


def test_retrieve_searches_exactly_without_building_the_graph(monkeypatch):
    """Past EXACT_UP_TO claims a one-shot retrieval still searches exactly (one matrix
    product) rather than building the HNSW graph, which costs a minute at 300,000 claims."""
    from sourcetrace.crossoutlet.match import ClaimIndex
    from sourcetrace.crossoutlet.retrieve import Collection, retrieve

    class Flat:
        same_threshold, related_threshold, min_logit, same_margin = 0.9, 0.05, 0.0, 1.0

        def score(self, query, texts):
            return np.zeros(len(texts), dtype=np.float32)

        def rank_score(self, logits, cosines):
            return np.asarray(cosines, dtype=np.float64)

        def probability(self, logits, cosines):
            return np.asarray(cosines, dtype=np.float64) / 2 + 0.5

    monkeypatch.setattr(ClaimIndex, "EXACT_UP_TO", 10)
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(60, 384)).astype(np.float32)
    col = Collection()
    col.add([f"v{i}" for i in range(60)], [f"text {i}" for i in range(60)], vectors)
    found = retrieve("text", col, top=3, vector=vectors[7], reranker=Flat())
    assert found.hits[0].id == "v7" and not col.index.has_graph


def test_actor_checks_tell_other_actors_and_swapped_roles_from_rewordings():
    """match.entity_conflict / match.role_swap: another named actor or the same two actors
    in swapped roles make another claim (retrieve.conflicts, verdict `related`, never
    `same`), while a passive, a reordered report or a name given in part does not."""
    from sourcetrace.crossoutlet.match import entity_conflict, role_swap
    from sourcetrace.crossoutlet.retrieve import RELATED, SAME, conflicts, verdict

    swap = ("Russia accused Ukraine of shelling the nuclear plant",
            "Ukraine accused Russia of shelling the nuclear plant")
    assert role_swap(*swap) == ("russia", "ukraine")
    assert entity_conflict(*swap) is None
    assert role_swap("Ukraine was accused by Russia of shelling the plant",
                     "Russia accused Ukraine of shelling the plant") is None
    assert role_swap("Trump said Clinton lied about her emails",
                     "Clinton lied about her emails, Trump said") is None
    assert role_swap("Donald Trump beat Hillary Clinton in Ohio", "Clinton beat Trump in Ohio")
    other = ("Obama signed the bill on Friday", "Bush signed the bill on Friday")
    assert entity_conflict(*other) and role_swap(*other) is None
    assert entity_conflict("Hillary Clinton used a private server",
                           "Clinton used a private email server") is None
    assert entity_conflict("Large sections of the city are divided by race",
                           "Big parts of the city are split along lines of race") is None

    class Reranker:
        same_threshold, min_logit = 0.25, -1.0

    for a, b in (swap, other):
        found = conflicts(a, b)
        assert found and found[0].split(":")[0] in ("actors", "roles")
        assert verdict(0.95, 0.97, found, Reranker(), logit=4.0) == RELATED
    assert verdict(0.95, 0.97, conflicts(*swap[:1] * 2), Reranker(), logit=4.0) == SAME
