"""Unit tests of the rule-based attribution extractor, one behaviour each, on small
hand-written sentences parsed with the real English model (loaded once per session)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sourcetrace import attribution
from sourcetrace.attribution import Proposal, assemble, lexicon
from sourcetrace.attribution.quotes import find_quotes
from sourcetrace.model import Span


@pytest.fixture(scope="session")
def nlp():
    from sourcetrace.pipeline import load_base

    return load_base()


@pytest.fixture(scope="session")
def run(nlp):
    from sourcetrace.pipeline import register_extensions as register

    register()

    def _run(text, boilerplate=()):
        doc = nlp(text)
        doc._.boilerplate = tuple(boilerplate)
        return attribution.extract(doc)

    return _run


def texts(spans):
    return [s.text for s in spans]


def by_cue(atts, cue):
    found = [a for a in atts if " ".join(texts(a.cue)) == cue]
    assert found, f"no attribution with cue {cue!r} in {[texts(a.cue) for a in atts]}"
    return found[0]


# --- direct quotations ------------------------------------------------------------

def test_attribution_quote_with_cue_after_it(run):
    a = by_cue(run('Intro line.\n\n"We won the vote fair and square," she said.'), "said")
    assert texts(a.source) == ["she"]
    assert texts(a.content) == ['"We won the vote fair and square,"']
    assert a.kind == "direct" and a.rule == "quote+speech_verb" and a.parent is None


def test_attribution_quote_split_around_cue_is_one_attribution(run):
    atts = run("Intro line.\n\n“We won the vote,” she said, “and it was not close at all.”")
    a = by_cue(atts, "said")
    assert texts(a.content) == ["“We won the vote,”", "“and it was not close at all.”"]
    assert len([x for x in atts if x.parent is None]) == 1


def test_attribution_following_quote_in_paragraph_continues_it(run):
    a = by_cue(run('Intro line.\n\n"It was a long night," said Bob Smith. "We are all tired now."'), "said")
    assert texts(a.source) == ["Bob Smith"]
    assert texts(a.content) == ['"It was a long night,"', '"We are all tired now."']


def test_attribution_cue_colon_quote(run):
    a = by_cue(run("Intro line.\n\nShe added: “Ordinary people see it as a brother nation.”"), "added")
    assert texts(a.source) == ["She"] and a.rule == "cue_colon_quote"
    assert texts(a.content) == ["“Ordinary people see it as a brother nation.”"]


def test_attribution_multi_paragraph_quote_is_one_content(run):
    text = ('Intro line.\n\nThe mayor said:\n\n"The first thing is the budget. It is late.\n\n'
            '"The second thing is the roads, which are broken."\n\nThe council met later.')
    a = by_cue(run(text), "said")
    assert len(a.content) == 1
    assert a.content[0].text.startswith('"The first thing') and a.content[0].text.endswith('broken."')


def test_attribution_floating_quote_goes_to_previous_speaker(run):
    text = ('Intro line.\n\n"We will appeal the ruling," the lawyer said.\n\n'
            '"This is not over by any means."\n\nThe court closed.')
    atts = run(text)
    a = by_cue(atts, "said")
    assert texts(a.content)[-1] == '"This is not over by any means."'
    assert len([x for x in atts if x.parent is None]) == 1


def test_attribution_single_quoted_quotation_british_style(run):
    atts = run("Intro line.\n\n'We won the vote fair and square,' she said. 'It was not close.'")
    a = by_cue(atts, "said")
    assert texts(a.content) == ["'We won the vote fair and square,'", "'It was not close.'"]
    assert run("Intro line.\n\nPutin's 'nuclear plan' was mocked by everyone.") == ()


def test_attribution_quotes_find_unclosed_paragraphs_and_doubled_apostrophes():
    text = "He said ''yes, indeed'' and left.\n\n“First part.\n\n“Second part.”\n\nNo quote here."
    found = [text[q.start:q.end] for q in find_quotes(text)]
    assert found == ["''yes, indeed''", "“First part.\n\n“Second part.”"]


# --- indirect speech, beliefs, findings ----------------------------------------------

def test_attribution_indirect_speech_keeps_that_in_content(run):
    a = by_cue(run("Intro line.\n\nThe senator said that the bill would pass next week."), "said")
    assert texts(a.source) == ["The senator"]
    assert texts(a.content) == ["that the bill would pass next week"]
    assert a.kind == "indirect" and a.rule == "verb_ccomp"


def test_attribution_belief_and_poll_finding(run):
    atts = run("Intro line.\n\nMost voters think the economy is improving. "
               "A new poll shows that Clinton leads in Ohio.")
    assert texts(by_cue(atts, "think").content) == ["the economy is improving"]
    poll = by_cue(atts, "shows")
    assert texts(poll.source) == ["A new poll"] and texts(poll.content) == ["that Clinton leads in Ohio"]


def test_attribution_intention_with_infinitive(run):
    a = by_cue(run("Intro line.\n\nThe governor wants to raise taxes on the rich."), "wants")
    assert texts(a.source) == ["The governor"] and texts(a.content) == ["to raise taxes on the rich"]


def test_attribution_told_object_is_not_content(run):
    a = by_cue(run("Intro line.\n\nThe minister told reporters that the talks had failed."), "told")
    assert texts(a.source) == ["The minister"]
    assert texts(a.content) == ["that the talks had failed"]


def test_attribution_cue_includes_auxiliaries_and_adverbs(run):
    atts = run("Intro line.\n\nThe company has also said that profits fell.")
    a = by_cue(atts, "has also said")
    assert texts(a.content) == ["that profits fell"]


def test_attribution_tweeted_with_quote(run):
    a = by_cue(run("Intro line.\n\n“They know what it is about,” Ms Thomas tweeted."), "tweeted")
    assert texts(a.source) == ["Ms Thomas"]


def test_attribution_parenthetical_cue_content_around_it(run):
    a = by_cue(run("Intro line.\n\nA new manager could set a new tone for the campaign, he said."), "said")
    assert texts(a.source) == ["he"]
    assert texts(a.content) == ["A new manager could set a new tone for the campaign"]


# --- according to, noun cues, passives ---------------------------------------------------

def test_attribution_according_to_cue_with_source_after(run):
    atts = run("Intro line.\n\nAccording to the Pentagon, the troops refused their orders.")
    a = by_cue(atts, "According to")
    assert texts(a.source) == ["the Pentagon"] and texts(a.content) == ["the troops refused their orders"]
    atts = run("Intro line.\n\nThe troops refused their orders, according to the Pentagon.")
    a = by_cue(atts, "according to")
    assert texts(a.content) == ["The troops refused their orders"]


def test_attribution_there_are_reports_has_no_source(run):
    a = by_cue(run("Intro line.\n\nThere are reports, too, of soldiers deserting their units."),
               "There are reports, too, of")
    assert a.source == () and texts(a.content) == ["soldiers deserting their units"]
    assert a.rule == "there_are_reports"


def test_attribution_noun_cue_claim_that(run):
    a = by_cue(run("Intro line.\n\nTrump's claim that the election was rigged drew criticism."), "claim")
    assert texts(a.source) == ["Trump's"]  # PolNeAR keeps the possessive ending
    assert texts(a.content) == ["that the election was rigged"]


def test_attribution_passive_without_source(run):
    a = by_cue(run("Intro line.\n\nIt was reported that the plant would close."), "was reported")
    assert a.source == () and texts(a.content) == ["that the plant would close"]


def test_attribution_in_a_poll_is_a_source_phrase(run):
    a = by_cue(run("Intro line.\n\nIn a CNN poll released Monday, Clinton led Trump by four points."), "In")
    assert a.rule == "in_source" and texts(a.source) == ["a CNN poll released Monday"]
    assert texts(a.content) == ["Clinton led Trump by four points"]


def test_attribution_as_reported_clause(run):
    a = by_cue(run("Intro line.\n\nAs The Hill reported, the senator was accused of lying."), "reported")
    assert texts(a.source) == ["The Hill"]
    assert texts(a.content) == ["the senator was accused of lying"]


def test_attribution_made_clear_and_noun_frames(run):
    atts = run("Intro line.\n\nHe made clear on Tuesday that he intends to run. "
               "Her decision to open the borders was bold.")
    a = by_cue(atts, "made clear")
    assert texts(a.content) == ["that he intends to run"]
    d = by_cue(atts, "decision")
    assert texts(d.source) == ["Her"] and texts(d.content) == ["to open the borders"]


def test_attribution_seem_takes_subject_and_complement(run):
    a = by_cue(run("Intro line.\n\nThe economy appears to many analysts to be slowing."),
               "appears")
    assert texts(a.source) == ["many analysts"]
    assert texts(a.content)[0] == "The economy"


def test_attribution_seem_without_anyone_it_seems_to_is_no_attribution(run):
    assert run("Intro line.\n\nTrump's supporters seemed equally unperturbed.") == ()
    assert run("The economy appears to be slowing down.") == ()


def test_attribution_clause_on_both_sides_of_cue(run):
    a = by_cue(run("Intro line.\n\nMr. Trump is so reckless, the vice president said, that if his son "
                   "had planned to enlist he would have been worried."), "said")
    assert texts(a.source) == ["the vice president"]
    assert [c.text[:9] for c in a.content] == ["Mr. Trump", "that if h"]


# --- colons: transcripts and headlines --------------------------------------------------

def test_attribution_transcript_speaker_colon(run):
    atts = run("Interview with the candidate.\n\nWALLACE: Is the economy getting better?\n\n"
               "TRUMP: It is doing great, believe me.")
    colons = [a for a in atts if texts(a.cue) == [":"]]
    assert [texts(a.source) for a in colons] == [["WALLACE"], ["TRUMP"]]
    assert texts(colons[1].content) == ["It is doing great, believe me"]


def test_attribution_headline_colon_and_title_case_verb(run):
    a = by_cue(run("Issa: Clinton’s ‘Honesty Is In Question’.\n\nBody text here."), ":")
    assert texts(a.source) == ["Issa"] and a.rule == "headline_colon"
    a = by_cue(run("Ben Carson Slams Hillary And The Media.\n\nBody text here."), "Slams")
    assert texts(a.source) == ["Ben Carson"] and texts(a.content) == ["Hillary And The Media"]


# --- shared subjects, nesting, boilerplate -----------------------------------------------

def test_attribution_participle_shares_the_subject(run):
    atts = run("Intro line.\n\nThe mayor said the budget was late, adding that the roads were broken.")
    a = by_cue(atts, "adding")
    assert texts(a.source) == ["The mayor"] and a.speaker_span.text == "The mayor"
    assert texts(a.content) == ["that the roads were broken"]


def test_attribution_nested_inside_quote_has_parent(run):
    atts = run("Intro line.\n\n“He could not go home because his commander told him he would "
               "shoot him,” the adviser said.")
    outer = by_cue(atts, "said")
    inner = by_cue(atts, "told")
    assert outer.parent is None
    assert inner.parent == atts.index(outer)
    assert texts(inner.source) == ["his commander"]


def test_attribution_boilerplate_is_never_mined(run):
    text = "Intro line.\n\nThe mayor said that taxes will rise.\n\nShare this: Bob said that it is free."
    start = text.index("Share this")
    atts = run(text, boilerplate=(Span.of(text, start, len(text)),))
    assert [texts(a.cue) for a in atts] == [["said"]]
    assert atts[0].cue[0].start < start


def test_attribution_spans_slice_the_text_in_order(run):
    text = ('Intro line.\n\n"We won," she said. According to the count, turnout rose. '
            "The mayor thinks it helped, adding that more will vote next time.")
    atts = run(text)
    assert len(atts) >= 3
    starts = []
    for a in atts:
        for s in a.source + a.cue + a.content:
            assert text[s.start:s.end] == s.text
        assert 0.0 <= a.confidence <= 1.0 and a.rule and a.kind in ("direct", "indirect", "mixed")
        starts.append(min(s.start for s in a.source + a.cue + a.content))
    assert starts == sorted(starts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([
    "said", "he", "“", "”", '"', "'", "‘", "’", "''", ":", ",", ".", "\n", "\n\n", "according to",
    "There are reports of", "the mayor", "that", "thinks", "war", "WALLACE:", "—", "(", ")",
    "adding", "told", "him", "  ", "é", "\u00a0"]), max_size=40))
def test_attribution_never_fails_and_spans_slice_text(run, words):
    text = " ".join(words)
    for a in run(text):
        for s in a.source + a.cue + a.content:
            assert 0 <= s.start <= s.end <= len(text) and text[s.start:s.end] == s.text
        assert a.parent is None or isinstance(a.parent, int)


def test_attribution_unparsed_doc_is_a_clear_error():
    import spacy

    from sourcetrace.errors import ModelError

    with pytest.raises(ModelError, match="parsed Doc"):
        attribution.extract(spacy.blank("en")("He said it would rain."))


def test_attribution_empty_and_plain_texts_give_nothing(run):
    assert run("") == ()
    assert run("The sun rose over the hills and the river ran on.") == ()


# --- component, proposer hook, lexicons -------------------------------------------------

def test_attribution_component_sets_doc_extension():
    import spacy

    from sourcetrace.pipeline import load

    nlp = load()
    assert "sourcetrace_attributions" in nlp.pipe_names
    doc = nlp("Intro line.\n\nThe senator said that the bill would pass.")
    assert [[c["text"] for c in a["cue"]] for a in doc._.attributions] == [["said"]]
    assert isinstance(nlp.get_pipe("sourcetrace_attributions").lexicons, lexicon.Lexicons)
    assert spacy.__version__.startswith("3.8")


def test_attribution_learned_proposer_feeds_the_grouping(nlp):
    from sourcetrace.pipeline import register_extensions as register

    register()
    text = "Intro line.\n\nThe mayor said that taxes rise."
    doc = nlp(text)
    doc._.boilerplate = ()

    def proposer(ctx):
        s = text.index("said")
        c = text.index("that")
        return [Proposal(cue=[(s, s + 4)], content=[(c, len(text) - 1)], source=[(13, 22)],
                         rule="model:test", confidence=0.42)]

    (a,) = attribution.extract(doc, proposer=proposer)
    assert a.rule == "model:test" and a.confidence == 0.42
    assert texts(a.source) == ["The mayor"] and texts(a.content) == ["that taxes rise"]
    assert assemble is attribution.group.assemble


def test_attribution_lexicons_parse_with_valid_confidences():
    lex = lexicon.load()
    assert "say" in lex.verbs and "ccomp" in lex.verbs["say"].frames
    assert "report" in lex.nouns and "there" in lex.nouns["report"].frames
    assert "hopeful" in lex.adjectives
    for table in (lex.verbs, lex.nouns, lex.adjectives):
        for entry in table.values():
            assert entry.frames and all(0.0 <= c <= 1.0 for c in entry.frames.values())
    assert "said:say" in lex.word_set("irregular")


# --- cues that name, label, charge or ship rather than report ------------------------

@pytest.mark.parametrize("text", [
    "The couple named their son Misha after his grandfather.",
    "His dog, called Rex, barked at the mailman all night.",
    "The new law, called the Safe Streets Act, took effect on Monday.",
    "The bakery was named after the founder's mother.",
    "The group was named in the lawsuit filed on Tuesday.",
    "The town, known as the gateway to the lakes, grew fast.",
    "He was charged with fraud and money laundering last year.",
    "Apple released the new iPhone on Friday in six countries.",
    "The casino company declared bankruptcy in 1991.",
    "He was dubbed the debate winner on social media.",
])
def test_attribution_naming_legal_and_product_verbs_are_no_cues(run, text):
    assert [texts(a.cue) for a in run(text)] == []


@pytest.mark.parametrize("text, cue", [
    ("The mayor called the decision a disgrace.", "called"),
    ("The company released a statement saying the plant would close.", "released"),
    ("Prosecutors charged that the firm hid its losses.", "charged"),
])
def test_attribution_report_uses_of_the_same_verbs_stay(run, text, cue):
    by_cue(run(text), cue)


def test_attribution_verb_inside_a_quotation_is_no_nested_attribution(run):
    atts = run('"My men were refusing to go back to the front," Andrusiv said.')
    assert [texts(a.cue) for a in atts] == [["said"]]
    nested = run('"I told him they were lying," she said.')
    assert by_cue(nested, "told").parent == 0  # a report inside the quotation stays


def test_attribution_priorities_name_every_rule_and_nothing_else():
    from sourcetrace.attribution import RULES
    from sourcetrace.attribution.base import PRIORITY

    assert {name for module in RULES for name in module.RULE_NAMES} == set(PRIORITY)


def test_attribution_misspelt_rule_name_fails_loudly(monkeypatch):
    from sourcetrace.attribution import RULES, base

    with pytest.raises(ValueError, match="'verb_comp'"):
        Proposal(cue=[(0, 4)], content=[(5, 9)], rule="verb_comp")   # in a rule module
    monkeypatch.setitem(base.PRIORITY, "verb_comp", 60)              # in the priorities
    with pytest.raises(ValueError, match="verb_comp"):
        base.check_rule_names(RULES)
    monkeypatch.delitem(base.PRIORITY, "verb_comp")
    monkeypatch.delitem(base.PRIORITY, "verb_ccomp")                  # a rule without one
    with pytest.raises(ValueError, match="verb_ccomp"):
        base.check_rule_names(RULES)
