"""Sources: speakers resolved within the article, and the article's source registry.

    resolve_sources(doc, attributions) -> (attributions, sources)

For every attribution the speaking mention is its ``speaker_span`` when the
extractor set one (an implicit source: "..., adding that"), else its ``source``
span, else none at all. Mentions are then merged into sources, in text order:

* a relative pronoun ("who", "which") stands for the noun it modifies;
* a personal pronoun goes to the most recent compatible antecedent among the
  earlier sources and the people that are sentence subjects (gender from the
  pronoun, honorifics and earlier pronouns; number from the tag); mentions inside
  the quotation being attributed are skipped, and "I"/"we" inside another
  attribution's content is that attribution's speaker (inside a quotation with no
  attribution, no one: never the author); where the rules find no antecedent, and
  for descriptions, the trained coreference chain (``coref``) leads to the name it
  reaches, and a title in a lede ("its mayor") to the name written with it in the
  next sentences; every link goes to the source's ``chain`` and evidence;
* a name merges with an earlier source of the same name, or the same surname for
  people ("Ms Thomas" = "Rosemary Thomas"); nothing else is merged, so "Kyiv" and
  "Ukraine's government" stay apart unless the text equates them by apposition;
* a document issued "by X" speaks for X ("a report issued ... by the command").

Each source is typed on two axes, every decision with its evidence:

    identity  named | described | anonymous | unspecified
    kind      person | official | organization | media | document | social

and gets its role (apposition or title), channel (Telegram, a tweet, "told
Al-Jazeera" = relayed through another outlet) and hearsay depth (1 + the number
of attributions its words are nested in; the smallest over its attributions).
The word lists are data: ``lexicons/sources_*.txt``. Nothing here is tied to a
particular article.

The spaCy layer: ``resolve_sources`` is a plain function; the
``sourcetrace_sources`` component (pipeline.py) runs it, then the assertion finder
and the profile, and sets ``doc._.sources``, ``doc._.assertions``, ``doc._.profile``
(and the resolved ``doc._.attributions``).

The package, one job a module (each imports only those listed before it):

    wordlists  the word lists (lexicons), read once, and lookups in them
    names      names as written: surnames, first names, titles and appositions
    context    per-document lookups (sentences, quotations, people's titles, gender)
    mentions   the speaking mention of each attribution: pronoun, name or description
    coref      the trained coreference ranker (mentions, features, chains; models/coref.json)
    classify   identity, kind and role of a source, with evidence
    channel    channel and hearsay depth of attributions
    registry   clusters of mentions turned into ``Source`` records
    resolve    ``resolve_sources``: mentions merged into the registry

Training and scoring the ranker (not used at run time): ``coref_train`` (GUM, and
``train/train_coref.py``) and ``coref_metrics`` (MUC, B3, CEAF-e).

and the two per-article stages that come after the sources:

    assertions what the outlet asserts in its own voice (``find_assertions``)
    profile    the article's sourcing profile and transparency score (``build_profile``)
"""
from __future__ import annotations

from .channel import attribution_channel, hearsay_depths
from .context import quote_regions, sentence_bounds
from .names import appositive_role, title_before
from .resolve import resolve_sources
from .wordlists import lexicons, phrase_regex

__all__ = [
    "appositive_role",
    "attribution_channel",
    "hearsay_depths",
    "lexicons",
    "phrase_regex",
    "quote_regions",
    "resolve_sources",
    "sentence_bounds",
    "title_before",
]
