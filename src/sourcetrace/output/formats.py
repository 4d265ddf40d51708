"""Writers (and a reader) for the output formats of ``sourcetrace analyze``.

    text    the terminal view (render.py): highlighted article and tables
    json    ``Analysis.to_dict()``, pretty-printed (docs/json-schema.md)
    jsonl   the same on one line, for appending to a JSONL file
    brat    BRAT standoff annotation (.ann) as the PolNeAR corpus writes it

BRAT, as PolNeAR writes it (and as ``../shared/bench/polnear_to_jsonl.py`` reads it):

    T1<TAB>Source 120 131<TAB>Ann Lee
    T2<TAB>Cue 132 136<TAB>said
    T3<TAB>Content 137 150;170 190<TAB>first fragment second fragment
    T4<TAB>Attribution 132 136<TAB>said
    E1<TAB>Attribution:T4 Source:T1 Cue:T2 Content:T3
    #1<TAB>AnnotatorNotes E1<TAB>kind=direct; rule=quote.split; confidence=0.95

* One text-bound annotation (T) per role of an attribution; a role with several
  fragments is one discontinuous annotation, ``s e;s e``, whose quoted text is the
  fragments joined by one space. A span shared by attributions (one source of
  several cues) is written once and referenced by each event.
* One event (E) per attribution. Its trigger is an ``Attribution`` annotation on the
  cue (on the content when there is no cue); an attribution without a source is an
  ``Attribution-no-source`` event. The first argument is the trigger; Source, Cue and
  Content follow.
* Boilerplate spans are ``Discard`` annotations, as PolNeAR marks text the annotators
  skipped.
* Annotator notes (#) carry what BRAT has no place for: kind, rule, confidence and,
  for a nested attribution, ``nested in E<n>`` (PolNeAR itself annotates only the
  outermost attributions).
* Span texts are written verbatim, newlines included, as in PolNeAR's files: a line
  that does not start with an annotation id continues the previous line's text.

``read_brat(ann, text)`` reads such a file back (and PolNeAR's own files: numbered
argument repeats such as ``Content2`` are merged into their role).
"""
from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import IO, Iterable

from ..errors import ConfigError, RecordError, os_reason
from ..model import Analysis, Attribution, Span

FORMATS = ("text", "json", "jsonl", "brat", "html")

_ROLES = (("source", "Source"), ("cue", "Cue"), ("content", "Content"))
_LINE_ID = re.compile(r"^(?:[TERAMN#]\d+|\*)\t")
_NOTE_PARENT = re.compile(r"\bnested in E(\d+)\b")
_NOTE_FIELD = re.compile(r"\b(kind|rule|confidence)=([^;]*)")


# --------------------------------------------------------------------------- json


def to_json(analysis: Analysis) -> str:
    """The Analysis as pretty-printed JSON (one document, trailing newline)."""
    return json.dumps(analysis.to_dict(), ensure_ascii=False, indent=2) + "\n"


def to_jsonl(analysis: Analysis) -> str:
    """The Analysis as one JSON line (trailing newline)."""
    return json.dumps(analysis.to_dict(), ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- brat


def _fragments(spans: tuple[Span, ...]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted((s.start, s.end) for s in spans))


def to_brat(analysis: Analysis) -> str:
    """The attributions (and boilerplate) of ``analysis`` as a BRAT .ann file."""
    text = analysis.text
    lines: list[str] = []
    t_ids: dict[tuple[str, tuple[tuple[int, int], ...]], str] = {}

    def textbound(kind: str, frags: tuple[tuple[int, int], ...], *, share: bool = True) -> str:
        key = (kind, frags)
        if share and key in t_ids:
            return t_ids[key]
        tid = f"T{len(lines) + 1}"
        offsets = ";".join(f"{s} {e}" for s, e in frags)
        quoted = " ".join(text[s:e] for s, e in frags)
        lines.append(f"{tid}\t{kind} {offsets}\t{quoted}")
        if share:
            t_ids[key] = tid
        return tid

    events: list[str] = []
    notes: list[str] = []
    for i, att in enumerate(analysis.attributions):
        args: list[str] = []
        for role, kind in _ROLES:
            frags = _fragments(getattr(att, role))
            if frags:
                args.append(f"{kind}:{textbound(kind, frags)}")
        if not args:  # an attribution with no span at all cannot be written
            continue
        event_type = "Attribution" if att.source else "Attribution-no-source"
        anchor = _fragments(att.cue) or _fragments(att.content) or _fragments(att.source)
        trigger = textbound(event_type, anchor, share=False)
        eid = f"E{i + 1}"
        events.append(f"{eid}\t{event_type}:{trigger} {' '.join(args)}")
        note = [f"kind={att.kind}"]
        if att.rule:
            note.append(f"rule={att.rule}")
        note.append(f"confidence={att.confidence:g}")
        if att.parent is not None:
            note.append(f"nested in E{att.parent + 1}")
        notes.append(f"#{len(notes) + 1}\tAnnotatorNotes {eid}\t{'; '.join(note)}")
    for span in analysis.boilerplate:
        textbound("Discard", ((span.start, span.end),))
    out = lines + events + notes
    return "\n".join(out) + "\n" if out else ""


def _records(ann: str) -> list[str]:
    records: list[str] = []
    for line in ann.removesuffix("\n").split("\n"):
        if _LINE_ID.match(line) or not records:
            records.append(line)
        else:  # the text of a span that contains a newline goes on
            records[-1] += "\n" + line
    return [r for r in records if r]


def read_brat(ann: str, text: str) -> Analysis:
    """Read a BRAT .ann file over ``text`` into an Analysis (attributions, boilerplate).

    Raises RecordError when a line cannot be parsed or a span's quoted text does
    not match ``text`` (the .ann belongs to another text).
    """
    spans: dict[str, tuple[str, tuple[Span, ...]]] = {}
    events: list[tuple[str, str, dict[str, list[str]]]] = []
    notes: dict[str, str] = {}
    for rec in _records(ann):
        try:
            if rec.startswith("T"):
                tid, head, quoted = rec.split("\t", 2)
                kind, offsets = head.split(" ", 1)
                frags = tuple(tuple(int(x) for x in f.split()) for f in offsets.split(";"))
                if any(len(f) != 2 or not 0 <= f[0] <= f[1] <= len(text) for f in frags):
                    raise ValueError(f"offsets {offsets!r} outside the text")
                if " ".join(text[s:e] for s, e in frags) != quoted:
                    raise RecordError(f"BRAT span {tid} does not match the text",
                                      hint="give the .txt file the .ann was written for")
                spans[tid] = (kind, tuple(Span.of(text, s, e) for s, e in frags))
            elif rec.startswith("E"):
                eid, args = rec.split("\t")[:2]
                parts = args.split()
                event_type = parts[0].split(":")[0]
                roles: dict[str, list[str]] = defaultdict(list)
                for arg in parts[1:]:
                    role, tid = arg.split(":")
                    roles[re.sub(r"\d+$", "", role).lower()].append(tid)
                events.append((eid, event_type, roles))
            elif rec.startswith("#"):
                _, head, note = rec.split("\t", 2)
                notes[head.split()[-1]] = note
        except RecordError:
            raise
        except (ValueError, IndexError) as exc:
            raise RecordError(f"cannot read BRAT line {rec[:60]!r}: {exc}",
                              hint="the file is not BRAT standoff") from exc
    index = {eid: i for i, (eid, _, _) in enumerate(events)}
    attributions = []
    for eid, _event_type, roles in events:
        try:
            parts = {role: tuple(sorted(s for tid in roles.get(role, ()) for s in spans[tid][1]))
                     for role, _ in _ROLES}
        except KeyError as exc:
            raise RecordError(f"BRAT event {eid} refers to an unknown span {exc}") from exc
        note = notes.get(eid, "")
        fields = dict(_NOTE_FIELD.findall(note))
        parent = _NOTE_PARENT.search(note)
        attributions.append(Attribution(
            source=parts["source"], cue=parts["cue"], content=parts["content"],
            kind=fields.get("kind", "indirect").strip(),
            rule=fields.get("rule", "brat").strip(),
            confidence=float(fields.get("confidence", 1.0)),
            parent=index.get(f"E{parent.group(1)}") if parent else None,
        ))
    boilerplate = tuple(sorted(s for kind, frags in spans.values() if kind == "Discard"
                               for s in frags))
    return Analysis(text=text, attributions=tuple(attributions), boilerplate=boilerplate)


# --------------------------------------------------------------------------- writing


def render(analysis: Analysis, fmt: str) -> str:
    """The Analysis in ``fmt`` (json, jsonl, brat, html) as a string; text: plain, no colour.

    html is one self-contained page (inline CSS and JS, no external assets) that can be
    mailed to a colleague: the same view as the web UI (render_html.py).
    """
    if fmt == "json":
        return to_json(analysis)
    if fmt == "jsonl":
        return to_jsonl(analysis)
    if fmt == "brat":
        return to_brat(analysis)
    if fmt == "html":
        from .html import render_analysis_html

        return render_analysis_html(analysis, standalone=True)
    if fmt == "text":
        buffer = io.StringIO()
        write(analysis, "text", buffer)
        return buffer.getvalue()
    raise ConfigError(f"unknown output format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")


def write(analysis: Analysis, fmt: str, stream: IO[str]) -> None:
    """Write the Analysis to an open text stream (the terminal view for ``text``)."""
    if fmt == "text":
        from .text import print_analysis

        print_analysis(analysis, file=stream)
        return
    stream.write(render(analysis, fmt))
    stream.flush()


def check_output(path: str | Path, *, force: bool = False, inputs: Iterable[str | Path] = (),
                 append: bool = False, corpus: Iterable[str | Path | None] = ()) -> Path:
    """output.files.check_output: never a corpus nor an input, an existing file only
    with ``force`` (or ``append``). Returns it as a Path."""
    from .files import check_output as guard

    return guard(path, force=force, inputs=inputs, corpus=corpus, append=append)


def write_file(analysis: Analysis, fmt: str, path: str | Path, *, force: bool = False,
               inputs: Iterable[str | Path] = (),
               corpus: Iterable[str | Path | None] = ()) -> list[Path]:
    """Write the Analysis to ``path``; returns the files written.

    An existing ``path`` is an error unless ``force`` (``jsonl`` appends a line to it);
    a path that is one of ``inputs`` or a corpus is always refused (output.files). For
    ``brat`` with a path ending in ``.ann``, the text the offsets point into is written
    beside it as ``.txt`` (BRAT reads the pair) when that file is absent; one already
    there must hold exactly that text (it is then left alone), else nothing is written
    and the error names it. Everything is checked before anything is written, and the
    files are written to temporary files renamed over their names at the end, so that
    a failure leaves nothing behind.
    """
    from .files import Outputs

    path = Path(path)
    if fmt not in FORMATS:
        raise ConfigError(f"unknown output format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    out = Outputs(force=force, inputs=inputs, corpus=corpus)
    out.check(path, append=fmt == "jsonl")
    txt = path.with_suffix(".txt") if fmt == "brat" and path.suffix == ".ann" else None
    text_bytes = analysis.text.encode("utf-8")
    write_txt = False
    if txt is not None:
        try:
            same = txt.exists() and txt.stat().st_size == len(text_bytes) \
                and txt.read_bytes() == text_bytes
        except OSError:
            same = False
        if txt.exists() and not same:
            raise ConfigError(f"{txt} exists and does not hold this article's text: the .ann "
                              "offsets would point into the wrong text, so nothing was written",
                              hint="give -o a name whose .txt is free, e.g. -o "
                                   f"{path.with_name(path.stem + '-sourcetrace.ann')}")
        write_txt = not txt.exists()
        if write_txt:
            out.check(txt)
    written = [path]
    with out:
        tmp = out.path(path, append=fmt == "jsonl")
        try:
            with tmp.open("a" if fmt == "jsonl" else "w", encoding="utf-8", newline="") as f:
                write(analysis, fmt, f)
            if txt is not None:
                if write_txt:
                    out.path(txt).write_bytes(text_bytes)
                written.append(txt)
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {os_reason(exc)}",
                              hint="check that the folder exists and is writable") from exc
    return written
