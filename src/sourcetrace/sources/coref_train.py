"""Training and evaluating the coreference ranker (``sources/coref.py``) on GUM.

    docs = read_gum(folder, split)           GUM's CoNLL files: tokens, sentences, chains
    model = train(docs_train, seed=0)        a linear mention ranker (numpy, a few minutes)
    report = evaluate(model, docs_test)      CoNLL F1 (MUC, B3, CEAF-e), pronoun accuracy

GUM (Zeldes 2017, CC BY 4.0 annotations) marks every mention, singletons included,
with its entity type. The Docs are parsed by spaCy on GUM's own tokens; a gold mention
is identified with its syntactic head in that parse, so that gold and predicted
mentions are compared by head token ("head match"). Chains are scored both with the
singletons (GUM's convention) and without them (OntoNotes').
"""
from __future__ import annotations

import json
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import coref
from .coref_metrics import counts, scores

_ELEMENT = re.compile(r"(\()?([a-z]+)-(\d+)(?:-([^()]*))?(\))?")


@dataclass
class GumDoc:
    name: str
    words: list[str]
    sent_starts: list[bool]
    chains: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # id -> [(start, end)]
    types: dict[str, str] = field(default_factory=dict)


def read_split_names(folder: Path) -> dict[str, str]:
    """Document name -> "train" | "dev" | "test" from ``splits.md`` (unlisted: train)."""
    out: dict[str, str] = {}
    section = None
    for line in (folder / "splits.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        m = re.match(r"\s*\*\s+(GUM_\S+)", line)
        if m and section in {"dev", "test"}:
            out[m.group(1)] = section
    return out


def read_conll(path: Path) -> GumDoc:
    words: list[str] = []
    starts: list[bool] = []
    chains: dict[str, list[tuple[int, int]]] = {}
    types: dict[str, str] = {}
    open_: dict[str, list[int]] = {}
    new_sent = True
    name = path.stem
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            new_sent = True
            continue
        parts = line.split("\t")
        i = len(words)
        words.append(parts[1])
        starts.append(new_sent)
        new_sent = False
        col = parts[2] if len(parts) > 2 else "_"
        if col == "_":
            continue
        for m in _ELEMENT.finditer(col):
            opening, etype, eid, _, closing = m.groups()
            if opening:
                open_.setdefault(eid, []).append(i)
                types[eid] = etype
            if closing:
                stack = open_.get(eid)
                if stack:
                    chains.setdefault(eid, []).append((stack.pop(), i + 1))
    return GumDoc(name, words, starts, chains, types)


def read_gum(folder: Path | str, split: str) -> list[GumDoc]:
    folder = Path(folder)
    names = read_split_names(folder)
    out = []
    for path in sorted((folder / "conll").glob("*.conll")):
        if names.get(path.stem, "train") == split:
            out.append(read_conll(path))
    return out


def parse(nlp, gum: GumDoc):
    from spacy.tokens import Doc

    doc = Doc(nlp.vocab, words=gum.words, sent_starts=gum.sent_starts)
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    return doc


def _head(doc, start: int, end: int) -> int:
    span = doc[start:end]
    outside = [t for t in span if t.head.i < start or t.head.i >= end or t.head.i == t.i]
    for t in outside:
        if t.pos_ in {"NOUN", "PROPN", "PRON", "NUM"}:
            return t.i
    nouns = [t for t in span if t.pos_ in {"NOUN", "PROPN", "PRON"}]
    if nouns:
        return nouns[-1].i
    return outside[0].i if outside else start


def gold_chains(doc, gum: GumDoc) -> list[list[int]]:
    """Gold entities as lists of head token indices (a head claimed twice is kept once,
    by its first entity)."""
    taken: set[int] = set()
    out = []
    for eid, spans in gum.chains.items():
        heads = []
        for s, e in sorted(spans):
            h = _head(doc, s, e)
            if h not in taken:
                taken.add(h)
                heads.append(h)
        if heads:
            out.append(heads)
    return out


# --------------------------------------------------------------------------- training

class _Vocab(dict):
    """Feature name -> index, grown while examples are made."""

    def ids(self, feats):
        return [self.setdefault(f, len(self)) for f in feats]


def _examples(doc, gum: GumDoc, vocab: _Vocab):
    """Per mention: (flat feature ids of the candidates then of the new-entity option,
    the row offsets, the indices of the gold rows: its gold antecedents among the
    candidates, else the new-entity row)."""
    import numpy as np

    mentions = coref.find_mentions(doc)
    entity_of = {}
    for k, chain in enumerate(gold_chains(doc, gum)):
        for h in chain:
            entity_of[h] = k
    texts: set[str] = set()
    heads: set[str] = set()
    out = []
    for j, m in enumerate(mentions):
        cands, rows, new = coref.features_for(mentions, j, (texts, heads))
        texts.add(m.text)
        heads.add(m.head_text)
        e = entity_of.get(m.head)
        gold = [k for k, i in enumerate(cands)
                if e is not None and entity_of.get(mentions[i].head) == e]
        flat, offsets = [], []
        for r in rows + [new]:
            offsets.append(len(flat))
            flat.extend(vocab.ids(r))
        out.append((np.array(flat, dtype=np.int32), np.array(offsets, dtype=np.int32),
                    np.array(gold if gold else [len(rows)], dtype=np.int32)))
    return out


def speaker_examples(doc, items, vocab: _Vocab):
    """Training examples from speaker references: ``items`` are (start character of a
    pronoun that speaks, the surname of the person it refers to). The gold antecedents
    are the candidate names with that surname; a pronoun without one among its
    candidates gives no example."""
    import numpy as np

    mentions = coref.find_mentions(doc)
    by_char = {doc[m.head].idx: j for j, m in enumerate(mentions)}
    first_text: dict[str, int] = {}
    first_head: dict[str, int] = {}
    for j, m in enumerate(mentions):
        first_text.setdefault(m.text, j)
        first_head.setdefault(m.head_text, j)
    out = []
    for start, surname in items:
        j = by_char.get(start)
        if j is None or mentions[j].form != "pron":
            continue
        seen = (coref._Before(first_text, j), coref._Before(first_head, j))
        cands, rows, new = coref.features_for(mentions, j, seen)
        gold = [k for k, i in enumerate(cands)
                if mentions[i].form == "name" and mentions[i].name_words
                and mentions[i].name_words[-1] == surname]
        if not gold:
            continue
        flat, offsets = [], []
        for r in rows + [new]:
            offsets.append(len(flat))
            flat.extend(vocab.ids(r))
        out.append((np.array(flat, dtype=np.int32), np.array(offsets, dtype=np.int32),
                    np.array(gold, dtype=np.int32)))
    return out


def train(examples, vocab: dict[str, int], *, epochs: int = 8, lr: float = 0.2,
          seed: int = 0, log=print) -> coref.CorefModel:
    """Mention-ranking log-likelihood (the gold antecedents, or "new", against every
    candidate) with AdaGrad over sparse binary features; deterministic given ``seed``."""
    import numpy as np

    w = np.zeros(len(vocab))
    g2 = np.full(len(vocab), 1e-8)
    rng = random.Random(seed)
    order = list(range(len(examples)))
    for epoch in range(epochs):
        rng.shuffle(order)
        loss = 0.0
        for n in order:
            flat, offsets, target = examples[n]
            s = np.add.reduceat(w[flat], offsets)
            s -= s.max()
            p = np.exp(s)
            p /= p.sum()
            pt = p[target]
            q = np.zeros(len(s))
            q[target] = pt / pt.sum()
            loss -= float(np.log(pt.sum() + 1e-12))
            grad = p - q                                  # d loss / d score of each row
            per = np.repeat(grad, np.diff(np.append(offsets, len(flat))))
            uniq, inv = np.unique(flat, return_inverse=True)
            gg = np.bincount(inv, weights=per)
            g2[uniq] += gg * gg
            w[uniq] -= lr * gg / np.sqrt(g2[uniq])
        log(f"epoch {epoch + 1}/{epochs}: loss {loss / len(examples):.4f}")
    names = {i: f for f, i in vocab.items()}
    return coref.CorefModel({names[i]: float(v) for i, v in enumerate(w) if v != 0.0},
                            {"epochs": epochs, "lr": lr, "seed": seed, "features": len(vocab)})


# --------------------------------------------------------------------------- evaluation

_THIRD = {"he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself",
          "they", "them", "their", "theirs", "themselves"}


def evaluate(model: coref.CorefModel, parsed) -> dict:
    """CoNLL scores with and without singletons, mention recall, and the accuracy of
    third-person pronouns' antecedents (a pronoun with an earlier gold mention of its
    entity counts as right when the model links it to any earlier mention of that entity)."""
    with_s, without_s = [], []
    found = total_gold = 0
    pron_right = pron_total = 0
    for doc, gum in parsed:
        mentions = coref.find_mentions(doc)
        ante = model.rank(mentions)
        pred = [[mentions[i].head for i in c] for c in coref.chains_of(ante)]
        gold = gold_chains(doc, gum)
        with_s.append(counts(gold, pred))
        without_s.append(counts([c for c in gold if len(c) > 1], [c for c in pred if len(c) > 1]))
        heads = {m.head for m in mentions}
        total_gold += sum(len(c) for c in gold)
        found += sum(1 for c in gold for h in c if h in heads)
        entity_of = {h: k for k, c in enumerate(gold) for h in c}
        for j, m in enumerate(mentions):
            if m.head_text not in _THIRD or m.head not in entity_of:
                continue
            e = entity_of[m.head]
            if not any(h < m.head for h in gold[e]):
                continue
            pron_total += 1
            a = ante[j]
            if a is not None and entity_of.get(mentions[a].head) == e:
                pron_right += 1
    return {"with_singletons": scores(with_s), "without_singletons": scores(without_s),
            "mention_recall": found / total_gold if total_gold else 0.0,
            "pronoun_accuracy": pron_right / pron_total if pron_total else 0.0,
            "pronouns": pron_total, "documents": len(parsed)}


def run(gum_folder: Path | str, output: Path | str, *, cache: Path | str | None = None,
        epochs: int = 8, seed: int = 0, log=print, extra=None, extra_weight: int = 1) -> dict:
    """Parse GUM (train, dev and test), train, evaluate on dev and test, write the weights to
    ``output``; the parsed features of train are cached in ``cache`` (resumable)."""
    import pickle

    from ..pipeline import load_base

    nlp = load_base()
    started = time.monotonic()
    train_docs = read_gum(gum_folder, "train")
    test_docs = read_gum(gum_folder, "test")
    cache_path = Path(cache) if cache else None
    if cache_path is not None and cache_path.is_file():
        vocab, examples = pickle.loads(cache_path.read_bytes())
        vocab = _Vocab(vocab)
        log(f"read {len(examples)} training mentions from {cache_path}")
    else:
        vocab, examples = _Vocab(), []
        for n, gum in enumerate(train_docs):
            examples.extend(_examples(parse(nlp, gum), gum, vocab))
        log(f"{len(train_docs)} train documents, {len(examples)} mentions, {len(vocab)} "
            f"features ({time.monotonic() - started:.0f}s)")
        if cache_path is not None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache_path.write_bytes(pickle.dumps((dict(vocab), examples)))
    trained_on = "GUM train split (six genres, 84 documents)"
    if extra is not None:
        # more examples (e.g. news speakers), each counted ``extra_weight`` times
        more, what = extra(nlp, vocab)
        examples = list(examples) + more * extra_weight
        trained_on += f" + {len(more)} {what} (x{extra_weight})"
        log(f"{len(more)} {what}")
    model = train(examples, vocab, epochs=epochs, seed=seed, log=log)
    model.meta.update({"trained_on": trained_on,
                       "source": "GUM, Zeldes 2017; annotations CC BY 4.0"})
    parsed = [(parse(nlp, gum), gum) for gum in test_docs]
    report = evaluate(model, parsed)
    dev = evaluate(model, [(parse(nlp, gum), gum) for gum in read_gum(gum_folder, "dev")])
    report["dev"] = {"conll_with_singletons": dev["with_singletons"]["conll"]["f1"],
                     "conll_without_singletons": dev["without_singletons"]["conll"]["f1"],
                     "pronoun_accuracy": dev["pronoun_accuracy"]}
    report["train_seconds"] = round(time.monotonic() - started, 1)
    Path(output).write_text(model.to_json() + "\n", encoding="utf-8")
    log(json.dumps(report, indent=1))
    return report
