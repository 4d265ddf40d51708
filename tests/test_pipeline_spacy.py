"""The pipeline as loaded: paragraph boundaries before the parser, components in order."""
from sourcetrace import pipeline as pipeline_mod
from sourcetrace.config import Config


def test_pipeline_title_without_full_stop_ends_its_sentence():
    nlp = pipeline_mod.load_for(Config(rules_only=True))
    doc = nlp("Dock workers vote to extend strike as talks stall\n\nUnion officials said they "
              "expected to meet the authority again next week.")
    first = next(doc.sents)
    assert first.text.strip() == "Dock workers vote to extend strike as talks stall"


def test_pipeline_single_line_breaks_do_not_split_sentences():
    nlp = pipeline_mod.load_for(Config(rules_only=True))
    doc = nlp("The minister said on Tuesday that the\nbudget would pass.")
    assert len(list(doc.sents)) == 1


def test_pipeline_pipeline_order():
    names = pipeline_mod.load_for(Config()).pipe_names
    assert names.index(pipeline_mod.PARAGRAPHS) < names.index("parser")
    assert names[-1] == "sourcetrace_attributions"
    assert "sourcetrace_paragraphs" not in pipeline_mod.load_base().pipe_names
