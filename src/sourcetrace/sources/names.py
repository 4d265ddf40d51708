"""Names as written: determiners and possessives stripped, first names and surnames,
and the titles and appositions written with a name."""
from __future__ import annotations

import re

from .wordlists import _words, lexicons

_DETERMINERS = {"a", "an", "the", "this", "that", "these", "those", "some", "any"}


def title_before(ent) -> str | None:
    """Words written before a name inside its noun phrase ("former Defense Secretary Ash Carter")."""
    root = ent.root
    toks = []
    for child in root.lefts:
        if child.i >= ent.start:
            continue
        if child.dep_ in {"compound", "amod", "nmod", "npadvmod", "poss", "nummod"}:
            toks.extend(t for t in child.subtree if t.i < ent.start)
    if not toks:
        return None
    toks = sorted(set(toks), key=lambda t: t.i)
    # only the contiguous run that ends at the name
    run = []
    for t in reversed(toks):
        if run and t.i != run[0].i - 1:
            break
        run.insert(0, t)
    words = [t.text for t in run if not t.is_space and t.pos_ not in {"DET", "PUNCT"} or t.text == "."]
    text = " ".join(w for w in words if w.strip())
    return text.replace(" .", ".").strip() or None


def appositive_role(child) -> str | None:
    """An apposition that describes a person ("a former British ambassador to the country")."""
    span = child.doc[child.left_edge.i:child.right_edge.i + 1]
    if len(span) > 25 or child.pos_ not in {"NOUN", "PROPN"}:
        return None
    if child.pos_ == "PROPN" and not any(t.dep_ == "det" for t in child.lefts):
        lex = lexicons()
        words = _words(span.text)
        if not any(w in lex.kinds["official_title"] or w in lex.kinds["org_role"] or w in lex.kinds["media"] for w in words):
            return None
    return _strip_det(span.text)


def _strip_det(text: str) -> str:
    words = text.strip().split()
    while words and words[0].lower() in _DETERMINERS:
        words = words[1:]
    return " ".join(words).strip(" ,;:")


def _clean_name(text: str) -> str:
    text = re.sub(r"(?:'s|’s|'|’)$", "", text.strip())
    return _strip_det(text)


def _first_name(name: str) -> str | None:
    words = [w for w in _clean_name(name).split() if w[:1].isupper()]
    honor = lexicons().honorifics
    while words and (words[0].lower().rstrip(".") in honor or words[0].endswith(".") and len(words[0]) <= 5):
        words = words[1:]
    return words[0].lower() if len(words) >= 2 else None


def _surname(name: str) -> str:
    words = [w for w in re.split(r"\s+", _clean_name(name)) if w and w[0].isalpha()]
    if not words:
        return ""
    last = words[-1]
    if last.lower().rstrip(".") in {"jr", "sr", "ii", "iii", "iv"} and len(words) > 1:
        last = words[-2]
    return last.lower().strip(".,")
