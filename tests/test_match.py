"""Claim matching: confirmation checks keep distinct claims apart; the index finds neighbours."""
from __future__ import annotations

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
