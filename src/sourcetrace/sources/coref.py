"""In-article coreference: a mention-ranking model over parse-based mentions.

    mentions = find_mentions(doc)              noun chunks, names, pronouns, possessives
    model = load_model()                       the packaged weights (models/coref.json)
    antecedents = model.rank(doc, mentions)    for each mention: its antecedent or None
    chains = chains_of(antecedents)            mention indices grouped, in text order

Each mention is a head token with its extent; each (candidate antecedent, mention)
pair becomes a handful of binary features (string, head, surname and alias match,
gender, number and entity-type agreement, distance in mentions and sentences, roles,
apposition, nesting, speakers of reporting verbs), conjoined with the mention's form
(personal pronoun, name, description, other pronoun). A linear scorer ranks the
candidates against a "new entity" option whose score reads the mention alone. The
weights are trained on GUM's train split (``sources/coref_train.py``; Zeldes 2017,
CC BY 4.0) and stored as JSON: feature name -> weight, so a missing feature is 0.

Everything here is plain Python over a spaCy Doc; nothing is loaded at import time.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import ModelError

WINDOW = 30          # candidate antecedents: the previous WINDOW mentions ...
NAME_WINDOW = 400    # ... and, for names and descriptions, matching ones this far back
MODEL_FILE = "coref.json"

PRONOUNS = {
    "he": ("m", "sg", 3), "him": ("m", "sg", 3), "his": ("m", "sg", 3), "himself": ("m", "sg", 3),
    "she": ("f", "sg", 3), "her": ("f", "sg", 3), "hers": ("f", "sg", 3), "herself": ("f", "sg", 3),
    "it": ("n", "sg", 3), "its": ("n", "sg", 3), "itself": ("n", "sg", 3),
    "they": ("", "pl", 3), "them": ("", "pl", 3), "their": ("", "pl", 3), "theirs": ("", "pl", 3),
    "themselves": ("", "pl", 3),
    "i": ("", "sg", 1), "me": ("", "sg", 1), "my": ("", "sg", 1), "mine": ("", "sg", 1),
    "myself": ("", "sg", 1),
    "we": ("", "pl", 1), "us": ("", "pl", 1), "our": ("", "pl", 1), "ours": ("", "pl", 1),
    "ourselves": ("", "pl", 1),
    "you": ("", "", 2), "your": ("", "", 2), "yours": ("", "", 2), "yourself": ("", "sg", 2),
}
_SKIP_PRON = {"there", "what", "whatever", "whoever", "anything", "something", "nothing",
              "everything", "anyone", "someone", "everyone", "nobody", "somebody", "anybody",
              "everybody", "one", "ones"}
_DETS = {"a", "an", "the", "this", "that", "these", "those", "its", "his", "her", "their"}
_PERSON_NER = {"PERSON"}
_ORG_NER = {"ORG", "NORP", "GPE", "FAC", "LOC"}
_NUMERIC = {"DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY"}
_REPORTING = {"say", "tell", "add", "state", "explain", "note", "claim", "argue", "write", "ask",
              "announce", "insist", "warn", "report", "describe", "recall", "suggest", "believe",
              "think", "admit", "deny", "confirm", "acknowledge", "predict", "testify"}
_PERSON_WORDS = {"man", "woman", "boy", "girl", "person", "people", "president", "minister",
                 "official", "spokesman", "spokeswoman", "spokesperson", "director", "lawyer",
                 "farmer", "father", "mother", "son", "daughter", "wife", "husband", "brother",
                 "sister", "leader", "chief", "governor", "mayor", "senator", "judge", "author",
                 "professor", "doctor", "resident", "student", "teacher", "worker", "officer",
                 "candidate", "member", "expert", "analyst", "scientist", "researcher",
                 "founder", "chairman", "executive", "manager", "secretary", "ambassador",
                 "soldier", "citizen", "child", "children", "friend", "colleague", "witness",
                 "victim", "defendant", "prosecutor", "attorney", "player", "coach", "writer",
                 "journalist", "reporter", "editor", "artist", "actor", "singer", "king", "queen"}
_MALE_WORDS = {"man", "boy", "father", "son", "husband", "brother", "king", "mr", "mr.", "sir",
               "spokesman", "chairman", "congressman", "businessman", "uncle", "grandfather"}
_FEMALE_WORDS = {"woman", "girl", "mother", "daughter", "wife", "sister", "queen", "mrs", "mrs.",
                 "ms", "ms.", "miss", "madam", "spokeswoman", "chairwoman", "congresswoman",
                 "businesswoman", "aunt", "grandmother"}


@dataclass(frozen=True)
class Mention:
    """One mention: its head token and the token extent [start, end) it covers."""

    head: int
    start: int
    end: int
    form: str            # "pron" (personal pronoun) | "name" | "desc" | "other" (other pronoun)
    sent: int
    text: str            # the words of the extent, lower case, determiners dropped
    head_text: str       # the head word, lower case
    ner: str             # the entity label of the head ("" when none)
    gender: str          # "m" | "f" | "n" | ""
    number: str          # "sg" | "pl" | ""
    person: int          # 1, 2, 3
    role: str            # "subj" | "obj" | "poss" | "other"
    speaker: bool        # the subject of a reporting verb ("X said")
    definite: bool
    name_words: tuple[str, ...] = ()   # the capitalised words of a name (lower case)
    quoted: bool = False                # inside quotation marks
    main: bool = False                  # the subject of its sentence's root verb


# --------------------------------------------------------------------------- mentions

def _extent(tok, ents_of):
    """The token extent of the mention headed by ``tok``: its entity for a name, the
    pronoun alone, else the noun phrase up to the head's right dependents (without
    relative clauses, clauses in commas and the apposition, which are mentions of
    their own)."""
    if tok.pos_ == "PRON":
        return tok.i, tok.i + 1
    ent = ents_of.get(tok.i)
    left = tok.i
    for child in tok.lefts:
        if child.dep_ in {"punct", "cc"}:
            continue
        left = min(left, child.left_edge.i)
    right = tok.i
    for child in tok.rights:
        if child.dep_ in {"relcl", "acl", "appos", "punct", "cc", "conj", "advcl", "parataxis"}:
            break
        right = max(right, child.right_edge.i)
    if ent is not None:
        left, right = min(left, ent.start), max(right, ent.end - 1)
    doc = tok.doc
    while left < right and (doc[left].is_punct or doc[left].is_space):
        left += 1
    while right > left and (doc[right].is_punct or doc[right].is_space):
        right -= 1
    return left, right + 1


_OPEN = {"“", "``", "‘"}
_CLOSE = {"”", "''", "’"}


def _quoted(doc) -> list[bool]:
    """Per token: inside quotation marks (curly or straight; straight ones toggle, and a
    paragraph break closes an open quotation)."""
    out, inside = [], False
    for tok in doc:
        t = tok.text
        if t in _OPEN:
            inside = True
        elif t in _CLOSE and t != "’":
            inside = False
        elif t == '"':
            inside = not inside
        elif tok.is_space and "\n" in t:
            inside = False
        out.append(inside)
    return out


def _gender_of_words(words, first_names) -> str:
    for w in words:
        if w in _MALE_WORDS:
            return "m"
        if w in _FEMALE_WORDS:
            return "f"
    for w in words:
        g = first_names.get(w)
        if g:
            return g
    return ""


def find_mentions(doc, first_names: dict[str, str] | None = None) -> list[Mention]:
    """Every noun, name and pronoun of the Doc as a mention (a name's words once, at its
    head), in text order."""
    if first_names is None:
        from .wordlists import lexicons

        first_names = lexicons().first_names
    ents_of = {}
    for ent in doc.ents:
        for i in range(ent.start, ent.end):
            ents_of[i] = ent
    sent_of = {}
    for k, sent in enumerate(doc.sents):
        for i in range(sent.start, sent.end):
            sent_of[i] = k
    quoted = _quoted(doc)
    out: list[Mention] = []
    for tok in doc:
        pos = tok.pos_
        low = tok.lower_
        ent = ents_of.get(tok.i)
        if pos == "NUM" and ent is not None and ent.root.i == tok.i and ent.label_ in _NUMERIC:
            pass                # "2014", "five": a date or a number that GUM-style text refers to
        elif pos not in {"NOUN", "PROPN", "PRON"} and not (pos == "DET" and low in PRONOUNS):
            continue
        if pos == "PRON" and (low in _SKIP_PRON or tok.dep_ == "expl"):
            continue
        if ent is not None and tok.i != ent.root.i and ent.root.i < ent.end:
            continue            # a word inside a name other than its head
        if ent is None and tok.dep_ == "compound" and pos == "PROPN" and tok.head.pos_ == "PROPN":
            continue            # "Charles" in "Charles Bolden" (no entity found)
        start, end = _extent(tok, ents_of)
        if low in PRONOUNS:
            form = "pron"
            gender, number, person = PRONOUNS[low]
        elif pos in {"PRON", "DET", "NUM"}:
            form, gender, number, person = "other", "", "", 3
        else:
            form = "name" if pos == "PROPN" or (ent is not None and ent.label_ in
                                                _PERSON_NER | _ORG_NER) else "desc"
            number = "pl" if tok.tag_ in {"NNS", "NNPS"} else "sg"
            person, gender = 3, ""
        words = [t.lower_ for t in doc[start:end] if not t.is_punct and not t.is_space]
        while words and words[0] in _DETS:
            words = words[1:]
        name_words: tuple[str, ...] = ()
        if form == "name":
            span = doc[ent.start:ent.end] if ent is not None else doc[start:tok.i + 1]
            name_words = tuple(t.lower_ for t in span if t.text[:1].isupper() and t.is_alpha)
        if form in {"name", "desc"}:
            gender = _gender_of_words([t.lower_.rstrip(".") for t in doc[start:tok.i + 1]]
                                      + list(name_words[:1]), first_names)
            if not gender and ent is not None and ent.label_ in _ORG_NER:
                gender = "n"
        dep = tok.dep_
        role = ("subj" if dep in {"nsubj", "nsubjpass", "csubj"} else
                "obj" if dep in {"dobj", "pobj", "iobj", "attr", "dative"} else
                "poss" if dep == "poss" else "other")
        speaker = role == "subj" and tok.head.lemma_.lower() in _REPORTING
        definite = any(c.dep_ in {"det", "poss"} and c.lower_ in {"the", "this", "that", "these",
                                                                    "those"} or c.dep_ == "poss"
                       for c in tok.children)
        main = role == "subj" and (tok.head.dep_ == "ROOT" or tok.head.head.dep_ == "ROOT"
                                   and tok.head.dep_ in {"ccomp", "conj", "xcomp"})
        out.append(Mention(tok.i, start, end, form, sent_of.get(tok.i, 0), " ".join(words),
                           low, ent.label_ if ent is not None else "", gender, number, person,
                           role, speaker, definite, name_words, quoted[tok.i], main))
    return _share_name_gender(out)


def _share_name_gender(mentions: list[Mention]) -> list[Mention]:
    """A bare surname takes the gender the article gives the full name ("Maria Lopez" ...
    "Lopez"), when every gendered full name with that surname agrees."""
    by_surname: dict[str, set[str]] = {}
    for m in mentions:
        if m.form == "name" and m.ner == "PERSON" and m.gender in {"m", "f"} and m.name_words:
            by_surname.setdefault(m.name_words[-1], set()).add(m.gender)
    out = []
    for m in mentions:
        if m.form == "name" and not m.gender and m.name_words:
            genders = by_surname.get(m.name_words[-1], set())
            if len(genders) == 1:
                m = dataclasses.replace(m, gender=next(iter(genders)))
        out.append(m)
    return out


# --------------------------------------------------------------------------- features

def _bucket(n: int, edges=(0, 1, 2, 3, 5, 8, 12, 20, 40)) -> int:
    for k, e in enumerate(edges):
        if n <= e:
            return k
    return len(edges)


def _acronym(a: Mention, b: Mention) -> bool:
    short, long = (a, b) if len(a.head_text) < len(b.head_text) else (b, a)
    letters = "".join(w[0] for w in long.name_words if w not in {"of", "the", "and"})
    return len(short.head_text) >= 2 and len(letters) >= 2 and short.head_text == letters


def anaphor_features(m: Mention, seen_text: bool, seen_head: bool) -> list[str]:
    """What the mention alone says about being new (the "new entity" option's features)."""
    f = [f"N:{m.form}", f"N:{m.form}:def={m.definite}", f"N:{m.form}:seen={seen_text}",
         f"N:{m.form}:seenh={seen_head}", f"N:{m.form}:role={m.role}",
         f"N:{m.form}:p{m.person}", f"N:{m.form}:ner={m.ner or '-'}"]
    if m.form == "pron":
        f.append(f"N:pron={m.head_text}")
    if m.form == "other":
        f.append(f"N:other={m.head_text}")
    return f


def pair_features(a: Mention, m: Mention, md: int) -> list[str]:
    """Features of ``a`` (earlier) as the antecedent of ``m``; ``md`` the distance in mentions."""
    f: list[str] = []
    add = f.append
    add(f"forms={a.form}>{m.form}")
    sd = m.sent - a.sent
    add(f"sd={_bucket(sd)}")
    add(f"md={_bucket(md)}")
    if a.text and a.text == m.text:
        add("exact")
    if a.head_text == m.head_text:
        add("head")
        if m.form == "pron":
            add(f"samepron={m.head_text}")
    if m.form == "name" and a.form == "name":
        if m.name_words and a.name_words:
            if set(m.name_words) <= set(a.name_words) or set(a.name_words) <= set(m.name_words):
                add("name_sub")
            if m.name_words[-1] == a.name_words[-1]:
                add("surname")
            if m.name_words[0] == a.name_words[0] and len(m.name_words) > 1 \
                    and len(a.name_words) > 1 and m.name_words[-1] != a.name_words[-1]:
                add("firstname_clash")
        if _acronym(a, m):
            add("acronym")
    elif m.form == "desc" and a.form in {"name", "desc"}:
        if m.head_text in a.text.split():
            add("head_in_ante")
    # agreement
    if a.gender and m.gender:
        add("gender_agree" if a.gender == m.gender else f"gender_clash")
    elif m.gender in {"m", "f"}:
        if a.ner == "PERSON" or a.head_text in _PERSON_WORDS:
            add("gender_person_unknown")
        elif a.ner in _ORG_NER:
            add("gender_vs_org")
    if a.number and m.number:
        add("num_agree" if a.number == m.number else "num_clash")
    if m.form == "pron" or a.form == "pron":
        p = m if m.form == "pron" else a
        o = a if p is m else m
        add(f"pp{p.person}:{o.form}:{o.ner or ('per' if o.head_text in _PERSON_WORDS else '-')}"
            f":{p.gender or '-'}")
    if a.person != m.person:
        add("person_clash")
    if a.ner and m.ner:
        add("ner_agree" if a.ner == m.ner else "ner_clash")
    # position and syntax
    if sd == 0:
        add(f"same_sent:{a.role}>{m.role}")
        if a.start <= m.start and m.end <= a.end or m.start <= a.start and a.end <= m.end:
            add("nested")
    else:
        add(f"roles:{a.role}>{m.role}")
    if a.speaker:
        add("a_speaker")
    if m.speaker and a.speaker:
        add("both_speakers")
    return f


def _agrees(a: Mention, m: Mention) -> bool:
    """Gender, number and person do not clash (unknown agrees with anything)."""
    if a.gender and m.gender and a.gender != m.gender:
        return False
    if a.number and m.number and a.number != m.number:
        return False
    if m.form == "pron" and m.gender in {"m", "f"} and a.ner and a.ner != "PERSON":
        return False
    return a.person == m.person or (a.form != "pron" and m.person == 3)


def _conj(m: Mention, feats: list[str]) -> list[str]:
    key = m.form if m.form != "pron" else f"pron{m.person}"
    return feats + [f"{key}|{x}" for x in feats]


def candidates(mentions: list[Mention], j: int) -> list[int]:
    """Indices of the candidate antecedents of mention ``j`` (most recent first)."""
    m = mentions[j]
    near = [i for i in range(j - 1, max(-1, j - 1 - WINDOW), -1)
            if not (m.start <= mentions[i].start and mentions[i].end <= m.end)
            and not (mentions[i].start <= m.start and m.end <= mentions[i].end)]
    if m.form in {"name", "desc"}:
        seen = set(near)
        for i in range(j - 1 - WINDOW, max(-1, j - 1 - NAME_WINDOW), -1):
            a = mentions[i]
            if i in seen:
                continue
            if a.head_text == m.head_text or (m.name_words and a.name_words
                                              and m.name_words[-1] == a.name_words[-1]):
                near.append(i)
    return near


def features_for(mentions: list[Mention], j: int, seen: tuple[set, set] | None = None):
    """(candidate indices, their feature lists, the new-entity features) for mention ``j``."""
    m = mentions[j]
    cands = candidates(mentions, j)
    if seen is None:
        texts = {mentions[i].text for i in range(j)}
        heads = {mentions[i].head_text for i in range(j)}
    else:
        texts, heads = seen
    rows = []
    compatible = subjects = 0
    for i in cands:           # most recent first: the rank among compatible candidates
        a = mentions[i]
        feats = pair_features(a, m, j - i)
        ok = _agrees(a, m)
        if ok:
            feats.append(f"crank={min(compatible, 3)}")
            compatible += 1
            if a.role == "subj":
                feats.append(f"csubj_rank={min(subjects, 2)}")
                subjects += 1
        else:
            feats.append("incompatible")
        feats.append(f"quote={int(a.quoted)}{int(m.quoted)}")
        if a.main:
            feats.append("a_main")
        rows.append(_conj(m, feats))
    new = _conj(m, anaphor_features(m, m.text in texts, m.head_text in heads))
    return cands, rows, new


# --------------------------------------------------------------------------- the model

class CorefModel:
    """A linear mention ranker: weights by feature name."""

    def __init__(self, weights: dict[str, float], meta: dict | None = None) -> None:
        self.weights = weights
        self.meta = meta or {}

    def score(self, feats: list[str]) -> float:
        w = self.weights
        return sum(w.get(x, 0.0) for x in feats)

    def rank_one(self, mentions: list[Mention], j: int, seen=None,
                 allowed=None) -> tuple[int | None, float]:
        """The best antecedent of mention ``j`` (None: a new entity) and its probability;
        ``allowed(i)`` may rule candidates out."""
        cands, rows, new = features_for(mentions, j, seen)
        if allowed is not None:
            keep = [k for k, i in enumerate(cands) if allowed(i)]
            cands, rows = [cands[k] for k in keep], [rows[k] for k in keep]
        scores = [self.score(r) for r in rows]
        s_new = self.score(new)
        top = max(scores + [s_new])
        z = sum(math.exp(s - top) for s in scores) + math.exp(s_new - top)
        if not scores or s_new >= max(scores):
            return None, math.exp(s_new - top) / z
        k = max(range(len(scores)), key=scores.__getitem__)
        return cands[k], math.exp(scores[k] - top) / z

    def rank(self, mentions: list[Mention]) -> list[int | None]:
        """The antecedent of every mention (None: the first of its entity), left to right.

        One rule joins the scores: a "he" or "she" never goes to an entity that the
        article already calls by the other gender (a gendered first name, honorific or
        noun in one of its names, else one of its pronouns)."""
        out: list[int | None] = []
        texts: set[str] = set()
        heads: set[str] = set()
        root: list[int] = []
        named: dict[int, str] = {}      # entity root -> gender from its names and nouns
        spoken: dict[int, str] = {}     # entity root -> gender from its pronouns
        for j, m in enumerate(mentions):
            allowed = None
            if m.gender in {"m", "f"}:
                def allowed(i, g=m.gender):
                    r = root[i]
                    have = named.get(r) or spoken.get(r)
                    return have in (None, g, "")
            a = self.rank_one(mentions, j, (texts, heads), allowed)[0]
            out.append(a)
            r = j if a is None else root[a]
            root.append(r)
            if m.gender in {"m", "f", "n"}:
                target = spoken if m.form == "pron" else named
                target.setdefault(r, m.gender)
            texts.add(m.text)
            heads.add(m.head_text)
        return out

    def to_json(self) -> str:
        return json.dumps({"meta": self.meta, "weights": {k: round(v, 5) for k, v in
                                                          sorted(self.weights.items()) if
                                                          abs(v) >= 1e-5}}, indent=0)

    @classmethod
    def from_file(cls, path: Path | str) -> "CorefModel":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls({str(k): float(v) for k, v in data["weights"].items()}, data.get("meta"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"coreference weights {path} could not be read ({exc})",
                             hint="reinstall sourcetrace, or retrain them with "
                                  "`python train/train_coref.py`") from exc


def model_path():
    return resources.files("sourcetrace") / "models" / MODEL_FILE


def has_model() -> bool:
    return model_path().is_file()


@functools.lru_cache(maxsize=1)
def load_model() -> CorefModel:
    """The packaged coreference weights (``models/coref.json``)."""
    with resources.as_file(model_path()) as path:
        return CorefModel.from_file(path)


def chains_of(antecedents: list[int | None]) -> list[list[int]]:
    """Mention indices grouped into entities (each list in text order)."""
    root: list[int] = []
    for j, a in enumerate(antecedents):
        root.append(j if a is None else root[a])
    groups: dict[int, list[int]] = {}
    for j, r in enumerate(root):
        groups.setdefault(r, []).append(j)
    return list(groups.values())


class _Before:
    """The texts (or heads) of the mentions before index ``j``: ``x in _Before(first, j)``."""

    def __init__(self, first: dict[str, int], j: int) -> None:
        self.first, self.j = first, j

    def __contains__(self, key: str) -> bool:
        return self.first.get(key, self.j) < self.j


class DocCoref:
    """Coreference on one Doc, computed lazily: only the mentions asked about (and the
    antecedents their chains pass through) are ranked, so that an article costs a few
    rankings per speaker rather than one per noun."""

    MAX_STEPS = 8

    def __init__(self, doc, model: CorefModel | None = None) -> None:
        self.doc = doc
        self.model = model or load_model()
        self.mentions = find_mentions(doc)
        self.by_head = {m.head: j for j, m in enumerate(self.mentions)}
        self.first_text: dict[str, int] = {}
        self.first_head: dict[str, int] = {}
        for j, m in enumerate(self.mentions):
            self.first_text.setdefault(m.text, j)
            self.first_head.setdefault(m.head_text, j)
        self._ante: dict[int, tuple[int | None, float]] = {}

    def _gender(self, i: int, depth: int = 0) -> str:
        m = self.mentions[i]
        if m.gender or depth > 2 or m.form != "pron":
            return m.gender
        a = self.antecedent(i, depth + 1)[0]
        return self._gender(a, depth + 1) if a is not None else ""

    def antecedent(self, j: int, depth: int = 0, exclude=None) -> tuple[int | None, float]:
        """The ranked antecedent of mention ``j`` (None: new) and its probability;
        ``exclude(mention)`` rules candidates out (then nothing is cached)."""
        if exclude is None and j in self._ante:
            return self._ante[j]
        m = self.mentions[j]

        def allowed(i, g=m.gender):
            if exclude is not None and exclude(self.mentions[i]):
                return False
            return g not in {"m", "f"} or self._gender(i, depth + 1) in ("", g)
        seen = (_Before(self.first_text, j), _Before(self.first_head, j))
        found = self.model.rank_one(self.mentions, j, seen, allowed)
        if exclude is None:
            self._ante[j] = found
        return found

    def named(self, head: int, exclude=None) -> tuple[int | None, list[int], float]:
        """Follow the chain back from the mention headed by token ``head`` to the first
        name it reaches: (that mention's index or None, the mention indices passed
        through in order, the product of the link probabilities). ``exclude(mention)``
        rules out antecedents of the first link (e.g. mentions inside quotations)."""
        j = self.by_head.get(head)
        if j is None:
            return None, [], 0.0
        path, prob = [j], 1.0
        for step in range(self.MAX_STEPS):
            m = self.mentions[path[-1]]
            if m.form == "name" and len(path) > 1:
                return path[-1], path, prob
            a, p = self.antecedent(path[-1], exclude=exclude if step == 0 else None)
            if a is None:
                return None, path, prob
            path.append(a)
            prob *= p
        return None, path, prob
