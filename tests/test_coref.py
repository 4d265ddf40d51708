"""The coreference ranker: the CoNLL metrics on a worked example, GUM's reader, the
packaged model on small texts, and its floor on GUM's test split."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcetrace.sources import coref
from sourcetrace.sources.coref_metrics import b_cubed, ceaf_e, conll_f1, counts, muc, scores

ROOT = Path(__file__).resolve().parents[1]
GUM = ROOT.parent / "shared" / "data" / "gum-coref"
FLOOR = {"conll_with_singletons": 0.62, "pronoun_accuracy": 0.72}


def test_coref_metrics_worked_example():
    # Pradhan et al. (2014), the reference scorer's worked example: key {a b c} {d e f g},
    # response {a b} {c d} {f g h i}: MUC 0.40/0.40, B3 R 0.42 P 0.50, CEAF-e R 0.65 P 0.43
    key = [{"a", "b", "c"}, {"d", "e", "f", "g"}]
    response = [{"a", "b"}, {"c", "d"}, {"f", "g", "h", "i"}]
    assert muc(key, response) == pytest.approx((0.4, 0.4, 0.4))
    r, p, _ = b_cubed(key, response)
    assert (r, p) == pytest.approx((35 / 84, 0.5))
    r, p, f = ceaf_e(key, response)
    assert (r, p) == pytest.approx((0.65, 0.65 * 2 / 3))
    assert conll_f1(key, response)["conll"] == pytest.approx((0.4 + 0.4545 + 0.52) / 3, abs=1e-3)


def test_coref_metrics_perfect_and_corpus_sums():
    key = [[1, 2, 3], [4], [5, 6]]
    assert conll_f1(key, key) == pytest.approx({"muc": 1, "b3": 1, "ceafe": 1, "conll": 1})
    # all in one entity: MUC recall is perfect, precision is not
    r, p, _ = muc(key, [[1, 2, 3, 4, 5, 6]])
    assert r == 1 and p == pytest.approx(3 / 5)
    total = scores([counts(key, key), counts([[7, 8]], [[7], [8]])])
    assert total["muc"]["r"] == pytest.approx(3 / 4)


def test_coref_gum_reader_nested_brackets(tmp_path):
    from sourcetrace.sources.coref_train import read_conll

    path = tmp_path / "GUM_news_x.conll"
    path.write_text("# begin document GUM_news_x\n0\tNASA\t(person-2-Bolden(organization-1-NASA)\n"
                    "1\tchief\t_\n2\tBolden\tperson-2-Bolden)\n3\tsaid\t_\n\n0\tHe\t(person-2)\n"
                    "1\tleft\t_\n# end document\n", encoding="utf-8")
    doc = read_conll(path)
    assert doc.words == ["NASA", "chief", "Bolden", "said", "He", "left"]
    assert doc.sent_starts == [True, False, False, False, True, False]
    assert sorted(doc.chains["2"]) == [(0, 3), (4, 5)] and doc.chains["1"] == [(0, 1)]
    assert doc.types == {"1": "organization", "2": "person"}


@pytest.fixture(scope="module")
def nlp():
    from sourcetrace.pipeline import load_base

    return load_base()


def _antecedent_text(nlp, text: str, pronoun: str, occurrence: int = 0) -> str | None:
    doc = nlp(text)
    mentions = coref.find_mentions(doc)
    model = coref.load_model()
    ante = model.rank(mentions)
    k = [j for j, m in enumerate(mentions) if doc[m.head].text == pronoun][occurrence]
    chain = next(c for c in coref.chains_of(ante) if k in c)
    names = [doc[mentions[j].start:mentions[j].end].text for j in chain
             if mentions[j].form == "name"]
    return names[0] if names else None


def test_coref_packaged_model_loads():
    model = coref.load_model()
    assert len(model.weights) > 100 and "GUM" in model.meta.get("trained_on", "")


def test_coref_pronoun_follows_gender(nlp):
    text = ("Maria Lopez met Tom Berg at the plant on Monday. Berg wanted a new contract. "
            "She said the talks would go on.")
    assert _antecedent_text(nlp, text, "She") == "Maria Lopez"


def test_coref_surname_joins_full_name(nlp):
    text = "Anna Kovalenko leads the council. Critics met the mayor on Friday. Kovalenko said no."
    doc = nlp(text)
    mentions = coref.find_mentions(doc)
    chains = coref.chains_of(coref.load_model().rank(mentions))
    heads = {doc[mentions[j].head].text: k for k, c in enumerate(chains) for j in c}
    assert heads["Kovalenko"] == heads[[doc[m.head].text for m in mentions][0]]


@pytest.mark.skipif(not (GUM / "conll").is_dir(), reason=f"{GUM} is absent: the GUM floor needs it")
def test_coref_gum_test_floor(nlp):
    from sourcetrace.sources.coref_train import evaluate, parse, read_gum

    docs = read_gum(GUM, "test")
    assert len(docs) == 12
    report = evaluate(coref.load_model(), [(parse(nlp, g), g) for g in docs])
    assert report["with_singletons"]["conll"]["f1"] >= FLOOR["conll_with_singletons"], json.dumps(report)
    assert report["pronoun_accuracy"] >= FLOOR["pronoun_accuracy"], json.dumps(report)
