"""Cue verbs over the dependency parse: indirect speech, beliefs, intentions, findings.

    "Kyiv claimed that some 300 troops had refused"   source=nsubj, cue=verb, content=ccomp
    "Democrats want to bring them"                    content=xcomp (with its object)
    "Police announce the suspect's name"              content=dobj (lexicon frame dobj)
    "it was reported that ..."                        passive: no source ("by X" is the source)
    "..., adding that ..."                            participle: no source, speaker=main subject
    "he said ... and added ..."                       conjunct: the subject is shared

``verb_frame`` says which complement a verb has; the lexicon lists, per verb,
the frames under which it is a cue (mined from PolNeAR train, then checked).
"""
from __future__ import annotations

from .base import CharSpan, Context, Proposal

# the rule names its proposals carry (each has a priority in base.PRIORITY)
RULE_NAMES = ("verb_ccomp", "verb_xcomp", "verb_dobj", "verb_prep", "passive",
              "parenthetical_verb", "raising_verb")

SUBJ = {"nsubj", "csubj"}
PASS_SUBJ = {"nsubjpass", "csubjpass"}
PHRASAL_PREPS = {"about", "on", "of", "to", "for", "against", "with", "in", "at", "over", "as",
                 "toward", "towards", "into", "from"}
# A clause or object cue with no subject found (an infinitive, an imperative) is an
# attribution in PolNeAR train in under 5% of cases: its confidence is scaled down.
NO_SOURCE_FACTOR = 0.2
RELATIVE_PRONOUNS = {"who", "that", "which", "whom", "whose", "what"}
OBJ_PREPS = {"for", "of", "to", "on", "with", "from", "over", "against", "about"}
OBJ_COMPLEMENTS = {"oprd", "ccomp", "xcomp", "attr", "acomp", "dobj"}
LEAD_DEPS = {"prep", "advmod", "npadvmod", "advcl"}
INHERIT_DEPS = {"advcl", "xcomp", "pcomp", "conj", "dep", "ccomp"}


def is_cue_verb(tok, ctx: Context):
    if tok.pos_ not in ("VERB", "AUX") or tok.i in ctx.bad_tokens:
        return None
    return ctx.lex.verbs.get(tok.lemma_.lower())


def is_passive(tok) -> bool:
    return any(c.dep_ in PASS_SUBJ or c.dep_ == "auxpass" for c in tok.children)


_LEFT_DEPS = {"aux", "auxpass", "neg", "advmod"}
_NOT_IN_CUE = {"when", "however", "so", "even", "then", "where", "how", "why", "as", "just",
               "only", "instead", "therefore", "thus", "meanwhile", "yet"}


def cue_token_ids(tok, with_prep=None, channel: frozenset[str] = frozenset()) -> list[int]:
    """The verb with its auxiliaries, negation and adverbs right before it ("has also
    said", "did not say", "to portray"), its particle ("point out"), a channel phrase
    right after it whose noun is in ``channel`` ("said in a statement") and, for a
    phrasal frame, its preposition ("talked about")."""
    ids = [tok.i]
    left = {c.i for c in tok.children if c.i < tok.i and c.dep_ in _LEFT_DEPS
            and c.lower_ not in _NOT_IN_CUE}
    i = tok.i - 1
    while i in left:
        ids.append(i)
        i -= 1
    for c in tok.children:
        if c.dep_ == "prt":
            ids.append(c.i)
        elif channel and c.dep_ == "prep" and c.lower_ == "in" and c.i == max(ids) + 1:
            obj = next((g for g in c.children if g.dep_ == "pobj"), None)
            if obj is not None and obj.lemma_.lower() in channel and obj.i <= c.i + 3:
                ids.extend(range(c.i, obj.i + 1))  # "said in a statement"
    head = tok.head
    if tok.dep_ == "xcomp" and head.lemma_ in ("go", "continue") and head.i < tok.i <= head.i + 4:
        ids.extend(range(head.i, tok.i))  # "went on to say", "continued to insist"
    if with_prep is not None:
        if with_prep.head.i != tok.i and with_prep.i > tok.i:
            ids.extend(range(tok.i + 1, with_prep.i + 1))  # "told the story of"
        else:
            ids.append(with_prep.i)
    return sorted(set(ids))


def token_spans(ctx: Context, ids) -> list[CharSpan]:
    """Contiguous runs of tokens as char spans."""
    doc = ctx.doc
    spans: list[list[int]] = []
    prev = None
    for i in sorted(ids):
        if prev is not None and i == prev + 1:
            spans[-1][1] = doc[i].idx + len(doc[i])
        else:
            spans.append([doc[i].idx, doc[i].idx + len(doc[i])])
        prev = i
    return [(s, e) for s, e in spans]


def _own_subject(tok):
    for c in tok.children:
        if c.dep_ in SUBJ:
            return c, False
    for c in tok.children:
        if c.dep_ in PASS_SUBJ:
            return c, True
    return None, False


def _agent(tok):
    for c in tok.children:
        if c.dep_ == "agent":
            for g in c.children:
                if g.dep_ == "pobj":
                    return g
    return None


def _quote_cut(ctx: Context, tok) -> set[int]:
    """Token indices inside quotations that do not hold the mention itself (a source
    never reaches into a quotation) and beyond the mention's paragraph."""
    lo, hi = tok.left_edge.i, tok.right_edge.i
    own = ctx.quote_at(tok.idx)
    ps, pe = ctx.paragraph(tok.idx)
    cut = set()
    for i in range(lo, hi + 1):
        pos = ctx.doc[i].idx
        q = ctx.quote_at(pos)
        if (q is not None and q != own) or not ps <= pos < pe:
            cut.add(i)
    return cut


def mention_span(ctx: Context, tok, exclude: set[int] | None = None) -> CharSpan:
    """The mention headed by ``tok``: its subtree, never into a quotation (a possessive
    keeps its ending, as PolNeAR marks it: "Trump's claim" -> "Trump's")."""
    cut = _quote_cut(ctx, tok) | (exclude or set())
    cut.discard(tok.i)
    return ctx.subtree_span(tok, cut)


def source_span(ctx: Context, tok, verb) -> CharSpan:
    """The source mention headed by ``tok`` for the cue ``verb``: a relative clause
    that holds a cue of its own ("Scott Reed, who added that ...") is left out, and
    so are a leading "even"/"also" and a trailing date ("on Monday")."""
    drop: set[int] = {verb.i}
    verbs = ctx.lex.verbs
    for c in tok.children:
        if c.dep_ == "relcl" and any(t.lemma_.lower() in verbs and t.pos_ == "VERB" for t in c.subtree):
            drop.update(t.i for t in c.subtree)
        elif c.dep_ == "advmod" and c.i < tok.i and c.i == tok.left_edge.i:
            drop.add(c.i)
        elif c.dep_ in ("prep", "npadvmod") and c.i > tok.i and any(
                t.ent_type_ in ("DATE", "TIME") for t in c.subtree):
            drop.update(t.i for t in c.subtree)
    # a dropped clause cuts everything after it (the span stays contiguous)
    after = [i for i in drop if i > tok.i]
    if after:
        drop.update(range(min(after), tok.right_edge.i + 1))
    return mention_span(ctx, tok, drop)


def subject(ctx: Context, verb, depth: int = 0):
    """(source span or None, speaker span or None) for a cue verb.

    PolNeAR gives a verb without a subject of its own the subject it shares:
    "Anderson said, adding that ..." -> Anderson; "Republicans choose to not
    believe" -> Republicans; "911 calls saying ..." -> 911 calls. Both spans are
    the same then; the source-resolution stage maps the mention to its fullest form.
    """
    subj, passive = _own_subject(verb)
    if subj is not None and not passive:
        if subj.lower_ in ("who", "that", "which") and verb.dep_ == "relcl":
            head = mention_span(ctx, verb.head, {t.i for t in verb.subtree})
            return (subj.idx, subj.idx + len(subj)), head
        span = source_span(ctx, subj, verb)
        return span, span
    if passive:
        agent = _agent(verb)
        if agent is not None:
            span = mention_span(ctx, agent)
            return span, span
        if depth == 0:
            return None, None
    if depth >= 4 or verb.head.i == verb.i:
        return None, None
    head = verb.head
    infinitive = any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children)
    if verb.dep_ in ("acl", "relcl") and head.pos_ in ("NOUN", "PROPN", "PRON") and not infinitive:
        span = mention_span(ctx, head, {t.i for t in verb.subtree})
        return span, span
    if verb.dep_ == "acl" and infinitive and head.head.i != head.i and head.head.pos_ in ("VERB", "AUX"):
        return subject(ctx, head.head, depth + 1)  # "He has 373 days left to define ..."
    if verb.dep_ in INHERIT_DEPS:
        while head.pos_ == "ADP" and head.head.i != head.i:  # "concluded by making ..."
            head = head.head
        if head.pos_ in ("VERB", "AUX"):
            return subject(ctx, head, depth + 1)
    return None, None


def verb_frame(tok, frames=frozenset({"ccomp", "xcomp", "dobj", "prep"}),
               content_nouns: frozenset[str] = frozenset()):
    """(frame, content tokens, extra cue token) for the first frame the verb has.

    ``content_nouns`` are objects whose of-object is the content ("told the story of X")."""
    kids = list(tok.children)
    if "ccomp" in frames:
        comp = [c for c in kids if c.dep_ == "ccomp" or (
            c.dep_ == "advcl" and c.i > tok.i
            and any(g.dep_ == "mark" and g.lower_ in ("if", "whether") for g in c.children))]
        if comp:  # (an if/whether clause the parser took for an adverbial: "asked if ...")
            return "ccomp", comp, None
    if "xcomp" in frames:
        comp = [c for c in kids if c.dep_ == "xcomp"]
        if comp:
            objs = [c for c in kids if c.dep_ in ("dobj", "dative") and c.i < comp[0].i]
            return "xcomp", objs + comp, None
    comp = [c for c in kids if c.dep_ == "dobj"]
    if comp and comp[0].lemma_.lower() in content_nouns:
        # "told the story of X": the cue runs to "of", X is the content
        for c in comp[0].children:
            if c.dep_ == "prep" and c.lower_ in ("of", "about"):
                objs = [g for g in c.children if g.dep_ in ("pobj", "pcomp")]
                if objs:
                    return "dobj", objs, c
    if "dobj" in frames:
        if comp:
            # "called it a great meeting", "found him competent": the object's complement too
            comp += [c for c in kids if c.i > comp[0].i and (
                c.dep_ in OBJ_COMPLEMENTS or c.lower_ == "as" or c.left_edge.lower_ == "as"
                or c.dep_ == "prep" and c.lower_ in OBJ_PREPS)]  # "praised X for Y"
            return "dobj", comp, None
        oprd = [c for c in kids if c.dep_ == "oprd" and c.i > tok.i]
        if oprd:  # "Sanders calls Clinton unqualified" parsed without an object
            return "dobj", oprd, None
    any_prep = "prep" in frames
    for c in kids:
        if c.dep_ == "prep" and c.i > tok.i and (
                f"prep-{c.lower_}" in frames or any_prep and c.lower_ in PHRASAL_PREPS):
            objs = [g for g in c.children if g.dep_ in ("pobj", "pcomp")]
            if objs:
                return "prep", objs, c
    return None, [], None


def _skip_lead(ctx: Context, tokens, lo: int, hi: int) -> int:
    """Drop a sentence adverbial before a comma at the start of a clause content
    ("In contrast, Clinton has ..." -> "Clinton has ...")."""
    doc = ctx.doc
    head = tokens[0]
    if len(tokens) != 1 or head.dep_ != "ccomp":
        return lo
    first = doc[lo]
    lead = next((c for c in head.children if c.i == lo and c.dep_ in LEAD_DEPS), None)
    if lead is None or first.lower_ in ("that", "if", "whether"):
        return lo
    j = lead.right_edge.i + 1
    if j < hi and doc[j].text == ",":
        return j + 1
    return lo


def _reports(t, verbs) -> bool:
    """A conjunct verb that reports on its own: a speech verb, a verb with a clause,
    or a verb whose complement frame is a strong cue ("... and praised efforts")."""
    entry = verbs[t.lemma_.lower()]
    if "quote" in entry.frames or any(c.dep_ == "ccomp" for c in t.children):
        return True
    frame, _, prep = verb_frame(t, entry.frames)
    if frame is None:
        return False
    return entry.conf(f"prep-{prep.lower_}" if prep is not None else frame) >= 0.8


def _has_that(tok) -> bool:
    return any(c.dep_ == "mark" and c.lower_ == "that" for c in tok.children)


def _own_cue(tok, verbs) -> bool:
    """Is the verb a cue under the frame it has here?"""
    entry = verbs.get(tok.lemma_.lower())
    if entry is None or tok.pos_ != "VERB":
        return False
    frame, _, _ = verb_frame(tok, entry.frames)
    return frame is not None or ("quote" in entry.frames)


def _cut_trailing_cue(ctx: Context, cue, lo: int, hi: int) -> int:
    """Where the parse hangs "..., describing X" or "... and warned that" off the
    reported clause, the participle or conjunct is the cue verb's own next
    attribution (PolNeAR marks it so): end the content before it and let that verb
    take the cue's subject."""
    doc = ctx.doc
    verbs = ctx.lex.verbs
    for i in range(lo + 3, hi + 1):
        t = doc[i]
        if t.pos_ != "VERB" or t.dep_ not in ("advcl", "conj") or t.lemma_.lower() not in verbs:
            continue
        if t.dep_ == "conj" and (_own_subject(t)[0] is not None or not _reports(t, verbs)):
            continue  # "... but had not seen the movie" stays in the content
        if t.dep_ == "advcl" and t.tag_ != "VBG":
            continue
        j = i - 1
        while j > lo and (doc[j].dep_ in ("advmod", "aux", "neg") or ctx._is_quote_mark(doc[j])):
            j -= 1
        if doc[j].text == "," or (doc[j].dep_ == "cc" and t.dep_ == "conj"):
            k = j - 1 if doc[j - 1].text != "," else j - 2
            q = ctx.quote_at(doc[j].idx)
            if k > lo and (q is None or q.end <= doc[j].idx + 3):
                ctx.reattach.setdefault(t.i, cue.i)
                return k
    return hi


def _cut_reporting_relative(ctx: Context, tokens, hi: int) -> int:
    """", where she brushed off the findings": a comma-set relative clause of an object
    that reports on its own subject ends the content (its cue is then top level)."""
    doc = ctx.doc
    verbs = ctx.lex.verbs
    for tok in tokens:
        if tok.dep_ != "dobj":
            continue
        for c in tok.children:
            if (c.dep_ == "relcl" and c.i > tok.i and doc[c.left_edge.i - 1].text == ","
                    and any(t.pos_ == "VERB" and t.lemma_.lower() in verbs and _own_subject(t)[0] is not None
                            and _own_subject(t)[0].lower_ not in RELATIVE_PRONOUNS for t in c.subtree)):
                return min(hi, c.left_edge.i - 2)
    return hi


def content_span(ctx: Context, tokens, exclude: set[int], cue=None) -> CharSpan | None:
    lo = min(t.left_edge.i for t in tokens)
    hi = max(t.right_edge.i for t in tokens)
    if cue is not None:
        hi = _cut_trailing_cue(ctx, cue, lo, hi)
        hi = _cut_reporting_relative(ctx, tokens, hi)
        if hi < lo:
            return None
    for i in range(tokens[0].i - 1, lo - 1, -1):
        if i in exclude:
            lo = i + 1
            break
    if lo > hi:
        return None
    lo = _skip_lead(ctx, tokens, lo, hi)
    s, e = ctx.trim_tokens(lo, hi)
    # a parse never carries a content across a paragraph break (title lines lack a period)
    ps, pe = ctx.paragraph((cue if cue is not None else tokens[0]).idx)
    s, e = max(s, ps), min(e, pe)
    if e <= s:
        return None
    # a quotation that starts inside the content is part of it, to its end
    for q in ctx.quotes_in(s, e):
        if q.start >= s and q.end > e:
            e = q.end
        elif q.start < s < q.end and q.end <= e + 2:
            s = min(s, q.start) if s - q.start <= 2 else s
    s, e = ctx.trim(s, e)
    return (s, e) if e > s else None


def parenthetical_content(ctx: Context, tok) -> list[CharSpan]:
    """"A new manager could set a new tone, he said." / "If X, he said, Y": the cue
    clause hangs off the reported clause (parataxis); the content is that clause
    without the cue clause, in one or two fragments."""
    head = tok.head
    lo, hi = head.left_edge.i, head.right_edge.i
    c_lo, c_hi = tok.left_edge.i, tok.right_edge.i
    frags = []
    if c_lo > lo:
        frags.append(ctx.trim_tokens(lo, c_lo - 1))
    if c_hi < hi:
        frags.append(ctx.trim_tokens(c_hi + 1, hi))
    out = []
    for s, e in frags:
        s, e = ctx.trim(s, e)
        if e - s > 3 and any(ch.isalnum() for ch in ctx.text[s:e]):
            out.append((s, e))
    return out


def _raising(ctx: Context, tok, entry) -> Proposal | None:
    """"Trump's supporters seemed equally unperturbed to voters": PolNeAR gives
    "seem"/"appear" the subject and the complement as content, and as source the one it
    seems to ("to the public", "among voters"). Without such a source the verb states
    how things look, a perception of a state that nobody reports: no proposal (on PolNeAR
    dev fewer than 4 in 10 of those matched a gold attribution)."""
    subj, _ = _own_subject(tok)
    comp = next((c for c in tok.children if c.dep_ in ("xcomp", "acomp", "attr", "oprd", "ccomp")
                 and c.i > tok.i), None)
    if comp is None:
        return None
    cue_ids = cue_token_ids(tok)
    spans = []
    if subj is not None and subj.lower_ not in ("it", "there"):
        spans.append(mention_span(ctx, subj, {tok.i}))
    span = content_span(ctx, [comp], set(cue_ids))
    if span is None:
        return None
    spans.append(span)
    source = None
    for c in tok.children:
        if c.dep_ == "prep" and c.lower_ in ("to", "among") and c.i > tok.i:
            obj = next((g for g in c.children if g.dep_ == "pobj"), None)
            if obj is not None:
                source = mention_span(ctx, obj)
    if source is None:
        return None  # "the plan seems unlikely": a state, reported by no one
    frame = "xcomp" if comp.dep_ == "xcomp" else "ccomp"
    return Proposal(cue=token_spans(ctx, cue_ids), content=spans, source=[source] if source else [],
                    kind="indirect", rule="raising_verb", confidence=entry.conf(frame),
                    speaker=source, cue_tokens=tuple(cue_ids))


def _not_a_report(ctx: Context, tok, frame: str, comp, prep) -> bool:
    """A cue verb in a frame where it names, labels, charges or ships rather than reports:

    naming     "named their son Misha", "a law called the Safe Streets Act", "named after",
               "known as" / "known for" (naming_verbs, with a proper-name complement or as
               a participle; "called the decision a disgrace" stays)
    legal      "charged with fraud" (legal_preps after the verb), "declared bankruptcy",
               "filed suit" (legal_objects)
    product    "released the new iPhone" (release_objects: what a release reports)
    in quotes  "'My men were refusing to go back,' he said": a verb inside a quotation
               with an object or infinitive frame is the quoted story, not a report
    """
    words = ctx.lex.word_set
    lemma = tok.lemma_.lower()
    if lemma in words("naming_verbs"):
        if prep is not None and prep.lower_ in ("after", "as", "for"):
            return True
        if any(c.dep_ == "prep" and c.lower_ == "after" for c in tok.children):
            return True  # "named after his grandfather"
        named = [c for c in tok.children if c.dep_ in ("oprd", "attr", "xcomp", "appos")]
        named += [g for c in tok.children if c.dep_ == "dobj" for g in c.children
                  if g.dep_ == "appos"]  # "named their son Misha"
        if any(c.pos_ == "PROPN" or c.ent_type_ for c in named):
            return True  # a name as the complement: "named their son Misha"
        if tok.dep_ == "acl" and tok.tag_ == "VBN":
            return True  # "a law called ...", "a man named ..."
        if frame == "passive" and not named and lemma != "call":
            return True  # "was named in the lawsuit"
        if lemma in words("label_verbs") and (frame == "passive" or is_passive(tok)):
            return True  # "was dubbed the debate winner"
    if lemma == "know" and prep is not None and prep.lower_ in ("as", "for"):
        return True
    if prep is not None and prep.lower_ in words(f"legal_preps:{lemma}"):
        return True
    if frame == "dobj" and any(o.lemma_.lower() in words("legal_objects") for o in comp):
        return True  # "declared bankruptcy", "filed suit"
    if lemma in words("product_verbs") and frame == "dobj":
        objs = [c for c in comp if c.dep_ in ("dobj", "nsubjpass")] or list(comp)
        if objs and not any(o.lemma_.lower() in words("release_objects") for o in objs):
            return True
    if frame in ("xcomp", "dobj", "prep") and ctx.quote_at(tok.idx) is not None:
        return True
    return False


def propose(ctx: Context) -> list[Proposal]:
    out = []
    content_nouns = ctx.lex.word_set("content_nouns")
    channel = ctx.lex.word_set("cue_channel_nouns")
    raising = ctx.lex.word_set("raising_verbs")
    doc = ctx.doc
    for i in ctx.with_lemma(ctx.lex.hashes["verbs"]):
        tok = doc[i]
        if tok.i in ctx.claimed:
            continue
        entry = is_cue_verb(tok, ctx)
        if entry is None:
            continue
        if tok.lemma_.lower() in raising:
            if ctx.quote_at(tok.idx) is not None:
                continue  # "it seems" inside a quotation is the quoted story
            p = _raising(ctx, tok, entry)
            if p is not None:
                out.append(p)
            continue
        passive = is_passive(tok) or (
            tok.tag_ == "VBN" and tok.dep_ in ("advcl", "acl") and _own_subject(tok)[0] is None)
        frame, comp, prep = verb_frame(tok, entry.frames, content_nouns)
        cue_ids = cue_token_ids(tok, prep, channel)
        spans = None
        if frame is None:
            subj, is_pass = _own_subject(tok)
            as_clause = tok.dep_ == "advcl" and any(
                c.dep_ == "mark" and c.lower_ == "as" for c in tok.children) and not any(
                c.dep_ in ("dobj", "ccomp", "xcomp", "dative") for c in tok.children)
            if (tok.dep_ == "parataxis" or as_clause) and (
                    "quote" in entry.frames or "ccomp" in entry.frames) and (not passive or as_clause):
                # "..., he said, ..." and "As The Hill reported, ...": the clause around
                spans = parenthetical_content(ctx, tok)
                frame = "parenthetical"
                if not spans:
                    continue
            elif (tok.dep_ == "relcl" and "dobj" in entry.frames and subj is not None and not is_pass
                  and subj.lower_ not in RELATIVE_PRONOUNS and tok.head.pos_ in ("NOUN", "PROPN", "PRON")):
                # "the only regret he acknowledged", "what Sroka called": the antecedent
                spans = [mention_span(ctx, tok.head, {t.i for t in tok.subtree})]
                frame = "dobj"
            elif passive and subj is not None and "passive" in entry.frames:
                frame, comp = "passive", [subj]
                if subj.lower_ in ("it", "this", "that"):
                    continue
            else:
                continue
        if _not_a_report(ctx, tok, frame, comp, prep):
            continue
        if spans is None and frame == "ccomp":
            # "said that X, and that Y" / "said X but had not seen Y": a conjunct of the
            # cue verb that is no cue of its own continues the content
            last = max(c.i for c in comp)
            comp = comp + [c for c in tok.children if c.dep_ == "conj" and c.i > last
                           and (_has_that(c) or not _own_cue(c, ctx.lex.verbs))]
        if spans is None:
            groups = [comp]
            if frame == "ccomp" and any(c.i < tok.i for c in comp) and any(c.i > tok.i for c in comp):
                # "Mr. Trump is so reckless, the vice president said, that if ...": one
                # fragment on each side of the cue
                groups = [[c for c in comp if c.i < tok.i], [c for c in comp if c.i > tok.i]]
            spans = []
            for group in groups:
                span = content_span(ctx, group, set(cue_ids),
                                    cue=tok if frame in ("ccomp", "dobj", "xcomp") else None)
                if span is not None:
                    spans.append(span)
            if not spans:
                continue
        if frame == "passive" or passive:
            source = speaker = None
            agent = _agent(tok)
            if agent is not None:
                source = speaker = mention_span(ctx, agent)
        elif tok.i in ctx.reattach:  # "X said that ..., describing ...": X's next cue
            source, speaker = subject(ctx, doc[ctx.reattach[tok.i]])
        else:
            source, speaker = subject(ctx, tok)
        if source is not None and any(source[0] < e and s < source[1] for s, e in spans):
            continue  # a bad parse: source and content overlap
        kind = "mixed" if any(ctx.quotes_in(*sp) for sp in spans) else "indirect"
        rule = {"ccomp": "verb_ccomp", "xcomp": "verb_xcomp", "dobj": "verb_dobj",
                "prep": "verb_prep", "passive": "passive", "parenthetical": "parenthetical_verb"}[frame]
        if passive and frame == "ccomp":
            rule = "passive"
        conf_key = f"prep-{prep.lower_}" if prep is not None else (
            "quote" if frame == "parenthetical" else frame)
        shares = source is None and frame != "passive" and not passive and (
            tok.tag_ == "VBG" or tok.dep_ in ("conj", "advcl"))
        confidence = entry.conf(conf_key)
        if source is None and not shares and frame in ("ccomp", "dobj") and not passive:
            confidence *= NO_SOURCE_FACTOR  # "to say that ...": rarely an attribution of its own
        out.append(Proposal(
            cue=token_spans(ctx, cue_ids), content=spans,
            source=[source] if source else [], kind=kind, rule=rule,
            confidence=confidence, speaker=speaker, cue_tokens=tuple(cue_ids),
            shares_subject=shares))
    return out
