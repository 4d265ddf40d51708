"""Long and odd inputs through spaCy: tokenizing in linear time, capping sentences,
cutting a long text into paragraph chunks and joining the parsed chunks into one Doc,
and the per-document time budget.

    make_doc(nlp, text)            ``nlp.make_doc`` in time linear in the text
    split_chunks(text, size)       pieces of about ``size`` characters that join back
    long_doc(nlp, text, ...)       a long text parsed chunk by chunk, as one Doc
    Deadline(budget)               the time one document may still take
"""
from __future__ import annotations

import re
import time

from ..errors import DocumentTimeoutError

CHUNK_CHARS = 50_000  # a text longer than this goes through spaCy in chunks of about this size
_RUN_CHARS = 80       # a run of this many non-space characters is tokenized in pieces ...
_RUN_PIECE = 40       # ... of this many characters
_MAX_SENTENCE_TOKENS = 150  # tokens without a sentence end before one is forced
_SENTENCE_ENDS = frozenset((".", "!", "?"))
_ROLE_SCORES = "sourcetrace_role_scores"  # the role tagger's per-token scores (user_data)
_ROLE_LABELS = "sourcetrace_role_labels"  # and their labels
_LONG_RUN = re.compile(r"\S{%d,} ?" % _RUN_CHARS)


def make_doc(nlp, text: str):
    """``nlp.make_doc(text)`` in time linear in the text; ``doc.text == text``.

    spaCy's tokenizer strips a word's prefixes and suffixes one at a time, each
    time searching the rest of the word, so a run of punctuation without spaces
    ("?" x 4,000) takes time quadratic in its length, and gives one token per
    character. A run of ``_RUN_CHARS`` non-space characters or more (never a word
    of prose) becomes one token per ``_RUN_PIECE`` characters instead; the rest of
    the text is tokenized as usual and the parts joined into one Doc. The text,
    and so every offset, is unchanged; ordinary news is tokenized exactly as before.
    """
    if not _LONG_RUN.search(text):
        return _cap_sentences(nlp.make_doc(text))
    from spacy.tokens import Doc

    parts = []
    pos = 0
    for m in _LONG_RUN.finditer(text):
        if m.start() > pos:
            parts.append(nlp.make_doc(text[pos:m.start()]))
        run = m.group()
        space = run.endswith(" ")
        run = run.rstrip(" ")
        words = [run[i:i + _RUN_PIECE] for i in range(0, len(run), _RUN_PIECE)]
        parts.append(Doc(nlp.vocab, words=words, spaces=[False] * (len(words) - 1) + [space]))
        pos = m.end()
    if pos < len(text):
        parts.append(nlp.make_doc(text[pos:]))
    doc = Doc.from_docs(parts, ensure_whitespace=False, exclude=["user_data", "spans", "tensor"])
    if doc.text != text:  # pragma: no cover - from_docs keeps the text; guard the offsets
        doc = nlp.make_doc(text)
    return _cap_sentences(doc)


def _cap_sentences(doc):
    """Start a sentence after ``_MAX_SENTENCE_TOKENS`` tokens without a full stop, a
    question or exclamation mark or a line break (before the parser, which keeps
    it): the attribution stages look at a cue's whole sentence, so one giant
    sentence would make them quadratic. News sentences stay far below the cap."""
    n = 0
    for tok in doc:
        if n >= _MAX_SENTENCE_TOKENS and not tok.is_space:
            tok.is_sent_start = True
            n = 0
        n += 1
        if tok.text in _SENTENCE_ENDS or (tok.is_space and "\n" in tok.text):
            n = 0
    return doc


def split_chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """``text`` cut into consecutive pieces of at most about ``size`` characters that
    join back into it: after a blank line where there is one in the second half of
    the window, else after a line break, a full stop, a space; a cut falls after the
    whole run of white space, so that each piece starts a paragraph or a sentence."""
    pieces: list[str] = []
    start, n = 0, len(text)
    while n - start > size:
        lo, hi = start + size // 2, start + size
        cut = -1
        for mark in ("\n\n", "\n", ". ", " "):
            found = text.rfind(mark, lo, hi)
            if found >= 0:
                cut = found + len(mark)
                break
        if cut < 0:
            cut = hi
        while cut < n and text[cut].isspace():
            cut += 1
        pieces.append(text[start:cut])
        start = cut
    if start < n:
        pieces.append(text[start:])
    return pieces


def long_doc(nlp, text: str, deadline: "Deadline", *, size: int = CHUNK_CHARS,
             skip: str | None = None):
    """A long text through every spaCy component but the attribution one, chunk by
    chunk, joined into one Doc whose text is ``text`` (the role tagger's labels and
    scores joined too). ``skip``: a component left out here (the attribution one, which
    then runs on the whole Doc)."""
    import numpy
    from spacy.tokens import Doc

    done = []
    chunks = (make_doc(nlp, piece) for piece in split_chunks(text, size))
    disable = [skip] if skip and skip in nlp.pipe_names else []
    for chunk in nlp.pipe(chunks, batch_size=2, disable=disable):
        done.append(chunk)
        deadline.check("spaCy")
    doc = Doc.from_docs(done, ensure_whitespace=False, exclude=["user_data", "spans", "tensor"])
    if Doc.has_extension("roles") and done and all(d._.roles is not None for d in done):
        doc._.roles = tuple(label for d in done for label in d._.roles)
        scores = [d.user_data.get(_ROLE_SCORES) for d in done]
        if all(s is not None for s in scores):
            doc.user_data[_ROLE_SCORES] = numpy.concatenate(scores)
        if _ROLE_LABELS in done[0].user_data:
            doc.user_data[_ROLE_LABELS] = done[0].user_data[_ROLE_LABELS]
    return doc


class Deadline:
    """The time one document may still take (``Config.time_budget``; 0: no limit)."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.end = time.monotonic() + budget if budget else None

    def check(self, stage: str) -> None:
        if self.end is not None and time.monotonic() > self.end:
            raise DocumentTimeoutError(
                f"the article took longer than the time budget of {self.budget:g}s "
                f"(stopped after {stage})", hint="split it, or raise Config.time_budget")
