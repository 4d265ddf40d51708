"""Corrections: an article's analysis out to an annotation tool and back.

    to_labelstudio(analysis, id)      a Label Studio task (JSON) with the analysis as its
                                      prediction, ready to correct
    label_config()                    the Label Studio labeling config for those tasks
    read_labelstudio(task)            a corrected task (or a Label Studio export, a list
                                      of tasks) back into an Analysis: the last annotation,
                                      else the prediction
    read_labelstudio_tasks(export, corrected=True)
                                      every task of an export; with ``corrected`` a task
                                      nobody annotated (predictions only) is refused
    to_brat(analysis)                 BRAT standoff (output/formats.py) plus attributes:
                                      Identity and SourceKind on each source (on the event
                                      when the source has no span), Kind and Act on each
                                      attribution event
    read_brat(ann, text)              the same back, sources included
    to_training(analysis, id)         a PolNeAR-style record ({id, text, attributions})
                                      for ``sourcetrace train --data``

A Label Studio task, one region per fragment of every attribution:

    {"id": 1, "data": {"text": ..., "article": "a1"},
     "predictions": [{"model_version": "sourcetrace", "result": [
        {"id": "a0-cue-0", "type": "labels", "from_name": "role", "to_name": "text",
         "value": {"start": 120, "end": 124, "text": "said", "labels": ["Cue"]}},
        {"id": "a0-cue-0", "type": "choices", "from_name": "kind", ...
         "value": {"start": 120, "end": 124, "text": "said", "choices": ["direct"]}},
        {"id": "a0-source-0", "type": "choices", "from_name": "identity", ...},
        {"id": "a0-source-0", "type": "textarea", "from_name": "source", ...
         "value": {..., "text": ["2"]}},           # the source's id: mentions of one voice
        {"type": "relation", "from_id": "a0-cue-0", "to_id": "a0-source-0",
         "direction": "right", "labels": ["source"]}, ...]}]}

* An attribution is its anchor region (its first cue fragment, else its first content
  fragment, else its source) and every region related to it; the per-region choices
  ``kind`` and ``act`` sit on the anchor, ``identity`` and ``source_kind`` and the
  ``source`` id on each source region.
* Deleting a region's relation, or the region, removes it from its attribution;
  deleting every region of an attribution removes the attribution. Offsets are
  Python ``str`` indices into the task's text and are checked against it on import.
* Sources are rebuilt from the source regions: regions with the same ``source`` id
  are one voice; the identity and kind of a voice are those of its first region.
* Nesting: a relation labelled ``nested`` from an attribution's anchor to its parent's
  anchor ({"type": "relation", "from_id": "a3-cue-0", "to_id": "a1-cue-0",
  "labels": ["nested"]}) keeps ``parent`` through the round trip; it never joins the two
  attributions' regions. Delete it to make the attribution top-level.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from ..errors import RecordError
from ..model import ACTS, IDENTITIES, KINDS, SOURCE_KINDS, Analysis, Attribution, Source, Span

_ROLES = ("source", "cue", "content")
_LABELS = {"source": "Source", "cue": "Cue", "content": "Content"}
_ROLE_OF = {v: k for k, v in _LABELS.items()}
_TO = "text"
NESTED = "nested"   # the relation from an attribution's anchor to its parent's


# --------------------------------------------------------------------------- Label Studio

def label_config() -> str:
    """The Label Studio labeling config (XML) that the exported tasks are made for."""
    def choices(name: str, values, when: str) -> str:
        opts = "".join(f'<Choice value="{v}"/>' for v in values)
        return (f'  <Choices name="{name}" toName="{_TO}" perRegion="true" '
                f'visibleWhen="region-selected" whenLabelValue="{when}">{opts}</Choices>\n')

    labels = "".join(f'<Label value="{v}"/>' for v in _LABELS.values())
    return ("<View>\n"
            f'  <Labels name="role" toName="{_TO}">{labels}</Labels>\n'
            f'  <Text name="{_TO}" value="$text"/>\n'
            f'  <Relations><Relation value="source"/><Relation value="cue"/>'
            f'<Relation value="content"/><Relation value="{NESTED}"/></Relations>\n'
            + choices("kind", KINDS, "Cue")
            + choices("act", ACTS, "Cue")
            + choices("identity", IDENTITIES, "Source")
            + choices("source_kind", SOURCE_KINDS, "Source")
            + f'  <TextArea name="source" toName="{_TO}" perRegion="true" '
              f'visibleWhen="region-selected" whenLabelValue="Source"/>\n'
            + "</View>\n")


def _region(rid: str, span: Span, text: str, from_name: str, kind: str, value: Any) -> dict:
    # Label Studio's per-region text area keeps what was typed in value.text (a list)
    key = "text" if kind == "textarea" else kind
    return {"id": rid, "type": kind, "from_name": from_name, "to_name": _TO,
            "origin": "prediction",
            "value": {"start": span.start, "end": span.end, "text": text[span.start:span.end],
                      key: value}}


def to_labelstudio(analysis: Analysis, article_id: str | int = 1) -> dict[str, Any]:
    """A Label Studio task whose prediction is ``analysis`` (attributions and sources)."""
    text = analysis.text
    result: list[dict[str, Any]] = []
    anchors: dict[int, str] = {}
    for i, att in enumerate(analysis.attributions):
        regions = [(role, k, span) for role in _ROLES
                   for k, span in enumerate(sorted(getattr(att, role)))]
        if not regions:
            continue
        anchor = _anchor(regions)
        anchors[i] = f"a{i}-{anchor[0]}-{anchor[1]}"
        source = analysis.source_of(att)
        for role, k, span in regions:
            rid = f"a{i}-{role}-{k}"
            result.append(_region(rid, span, text, "role", "labels", [_LABELS[role]]))
            if (role, k) == anchor[:2]:
                result.append(_region(rid, span, text, "kind", "choices", [att.kind]))
                if getattr(att, "act", None):
                    result.append(_region(rid, span, text, "act", "choices", [att.act]))
            on_anchor = (role, k) == anchor[:2] and not att.source
            if (role == "source" or on_anchor) and source is not None:
                if source.identity:
                    result.append(_region(rid, span, text, "identity", "choices",
                                          [source.identity]))
                if source.kind:
                    result.append(_region(rid, span, text, "source_kind", "choices",
                                          [source.kind]))
                result.append(_region(rid, span, text, "source", "textarea",
                                      [str(source.id), source.name]))
        anchor_id = f"a{i}-{anchor[0]}-{anchor[1]}"
        for role, k, _span in regions:
            if (role, k) != anchor[:2]:
                result.append({"type": "relation", "from_id": anchor_id,
                               "to_id": f"a{i}-{role}-{k}", "direction": "right",
                               "labels": [role]})
    for i, att in enumerate(analysis.attributions):
        if att.parent is not None and i in anchors and att.parent in anchors:
            result.append({"type": "relation", "from_id": anchors[i],
                           "to_id": anchors[att.parent], "direction": "right",
                           "labels": [NESTED]})
    return {"id": article_id, "data": {"text": text, "article": str(article_id),
                                       **({"title": analysis.title} if analysis.title else {})},
            "predictions": [{"model_version": "sourcetrace", "result": result}]}


def _anchor(regions: list[tuple[str, int, Span]]) -> tuple[str, int, Span]:
    for role in ("cue", "content", "source"):
        for region in regions:
            if region[0] == role:
                return region
    raise AssertionError("no region")  # pragma: no cover - callers skip empty attributions


def _results(task: dict[str, Any]) -> list[dict[str, Any]]:
    annotations = [a for a in task.get("annotations") or ()
                   if not a.get("was_cancelled") and a.get("result") is not None]
    if annotations:
        return annotations[-1]["result"]
    predictions = task.get("predictions") or ()
    return predictions[-1].get("result") or [] if predictions else []


def read_labelstudio(task: dict[str, Any] | list | str) -> Analysis:
    """A Label Studio task (a dict, a one-task export list, or its JSON) as an Analysis.

    Raises RecordError when the task has no text, a region's offsets do not slice its
    text into the region's own text, or a label or choice is not one of ours.
    """
    if isinstance(task, str):
        try:
            task = json.loads(task)
        except ValueError as exc:
            raise RecordError(f"not Label Studio JSON: {exc}") from exc
    if isinstance(task, list):
        if len(task) != 1:
            raise RecordError(f"a Label Studio export of {len(task)} tasks: read one at a time",
                              hint="use read_labelstudio_tasks for a whole export")
        task = task[0]
    text = (task.get("data") or {}).get("text") if isinstance(task, dict) else None
    if not isinstance(text, str):
        raise RecordError("a Label Studio task without data.text",
                          hint="export the project as JSON (not JSON-MIN or CSV)")
    regions: dict[str, dict[str, Any]] = {}
    relations: list[tuple[str, str]] = []
    nested: list[tuple[str, str]] = []
    for item in _results(task):
        if item.get("type") == "relation":
            if NESTED in (item.get("labels") or ()):
                nested.append((item["from_id"], item["to_id"]))
            else:
                relations.append((item["from_id"], item["to_id"]))
            continue
        rid, value = item.get("id"), item.get("value") or {}
        try:
            start, end = int(value["start"]), int(value["end"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"Label Studio region {rid!r} has no offsets") from exc
        if not 0 <= start <= end <= len(text) or (
                isinstance(value.get("text"), str) and text[start:end] != value["text"]):
            raise RecordError(f"Label Studio region {rid!r} [{start}, {end}) does not match "
                              "the task's text", hint="offsets are character indices")
        region = regions.setdefault(rid, {"span": Span.of(text, start, end)})
        name = item.get("from_name")
        if item.get("type") == "labels":
            labels = value.get("labels") or []
            if len(labels) != 1 or labels[0] not in _ROLE_OF:
                raise RecordError(f"Label Studio region {rid!r} label {labels!r} is not one of "
                                  f"{', '.join(_LABELS.values())}")
            region["role"] = _ROLE_OF[labels[0]]
        elif item.get("type") == "choices":
            valid = {"kind": KINDS, "act": ACTS, "identity": IDENTITIES,
                     "source_kind": SOURCE_KINDS}.get(name)
            choice = (value.get("choices") or [None])[0]
            if valid is None or choice not in valid:
                raise RecordError(f"Label Studio region {rid!r}: {name}={choice!r} is not a "
                                  "choice of the sourcetrace labeling config")
            region[name] = choice
        elif item.get("type") == "textarea" and name == "source":
            typed = [str(t).strip() for t in value.get("text") or ()]
            region["source"] = typed[0] if typed else ""
            if len(typed) > 1 and typed[1]:
                region["source_name"] = typed[1]
    regions = {rid: r for rid, r in regions.items() if "role" in r}
    # an attribution: an anchor (a region no relation points to) and what it points to
    pointed = defaultdict(list)
    targets = set()
    for a, b in relations:
        if a in regions and b in regions:
            pointed[a].append(b)
            targets.add(b)
    groups = [[rid, *pointed[rid]] for rid in regions if rid not in targets]
    groups.sort(key=lambda g: min(regions[r]["span"].start for r in g))
    group_of = {rid: gi for gi, g in enumerate(groups) for rid in g}
    parents = {group_of[a]: group_of[b] for a, b in nested
               if a in group_of and b in group_of and group_of[a] != group_of[b]}
    return _assemble(text, [[regions[r] for r in g] for g in groups], parents)


def annotated(task: dict[str, Any]) -> bool:
    """Whether someone submitted an annotation of the task (not only the prediction)."""
    return any(not a.get("was_cancelled") and a.get("result") is not None
               for a in task.get("annotations") or ())


def read_labelstudio_tasks(export: list[dict[str, Any]] | str, *,
                           corrected: bool = False) -> list[tuple[str, Analysis]]:
    """Every task of a Label Studio JSON export: (its article id, its Analysis).
    ``corrected``: a task with no submitted annotation (predictions only: nobody looked
    at it) is a RecordError naming it, never read as a correction."""
    if isinstance(export, str):
        export = json.loads(export)
    if isinstance(export, dict):
        export = [export]
    if corrected:
        idle = [str((t.get("data") or {}).get("article", t.get("id"))) for t in export
                if isinstance(t, dict) and not annotated(t)]
        if idle:
            raise RecordError(f"{len(idle)} task(s) not corrected (predictions only, no "
                              f"annotation): {', '.join(idle[:5])}"
                              + (" ..." if len(idle) > 5 else ""),
                              hint="open each task in Label Studio, correct it and submit "
                                   "(an accepted prediction counts), then export again")
    return [(str((t.get("data") or {}).get("article", t.get("id"))), read_labelstudio(t))
            for t in export]


def _assemble(text: str, groups: list[list[dict[str, Any]]],
              parents: dict[int, int] | None = None) -> Analysis:
    """Attributions from groups of regions; sources from their source regions;
    ``parents``: group index -> its parent's group index (the nested relations)."""
    attributions: list[Attribution] = []
    voices: dict[str, dict[str, Any]] = {}
    owner: list[str | None] = []
    index_of: dict[int, int] = {}
    for gi, group in enumerate(groups):
        parts = {role: tuple(sorted(r["span"] for r in group if r["role"] == role))
                 for role in _ROLES}
        if not any(parts.values()):
            continue
        index_of[gi] = len(attributions)
        anchor = next((r for role in ("cue", "content", "source") for r in group
                       if r["role"] == role), group[0])
        src = next((r for r in group if r["role"] == "source"),
                   anchor if anchor.get("source") else None)
        key = None
        if src is not None:
            key = src.get("source") or f"@{src['span'].start}"
            voice = voices.setdefault(key, {"mentions": [], "identity": src.get("identity"),
                                            "name": src.get("source_name"),
                                            "kind": src.get("source_kind"), "atts": []})
            voice["mentions"].extend(r["span"] for r in group if r["role"] == "source")
            voice["atts"].append(len(attributions))
        owner.append(key)
        attributions.append(Attribution(
            source=parts["source"], cue=parts["cue"], content=parts["content"],
            kind=anchor.get("kind", "indirect"), rule="corrected", confidence=1.0,
            **({"act": anchor["act"]} if anchor.get("act") else {})))
    sources: list[Source] = []
    ids: dict[str, int] = {}
    for key, voice in voices.items():
        ids[key] = len(sources)
        mentions = tuple(sorted(set(voice["mentions"])))
        name = voice["name"] or (mentions[0].text if mentions else "unspecified")
        sources.append(Source(id=len(sources), name=name,
                              mentions=mentions, identity=voice["identity"],
                              kind=voice["kind"], attributions=tuple(voice["atts"])))
    attributions = [a if key is None else _with_source(a, ids[key], sources[ids[key]])
                    for a, key in zip(attributions, owner)]
    if parents:
        import dataclasses

        up = {index_of[c]: index_of[p] for c, p in parents.items()
              if c in index_of and p in index_of}
        for child, parent in up.items():
            seen, p = {child}, parent
            while p is not None and p not in seen:   # a cycle is no nesting: dropped
                seen.add(p)
                p = up.get(p)
            if p is None:
                attributions[child] = dataclasses.replace(attributions[child], parent=parent)
    return Analysis(text=text, attributions=tuple(attributions), sources=tuple(sources))


def _with_source(att: Attribution, sid: int, source: Source) -> Attribution:
    import dataclasses

    return dataclasses.replace(att, source_id=sid, speaker=source.name)


# --------------------------------------------------------------------------- BRAT

def to_brat(analysis: Analysis) -> str:
    """BRAT standoff (output/formats.py) with the sources' identity and kind and the
    attributions' kind and act as attributes, so that a corrected file keeps them:

        A1<TAB>Identity T1 named
        A2<TAB>SourceKind T1 official
        A3<TAB>Kind E1 direct
        A4<TAB>Act E1 speech
        #9<TAB>AnnotatorNotes T1<TAB>source 0: Belarus commanders

    The note on a source span names its voice (the source's id and name): spans with
    the same id are mentions of one source ("Rosemary Thomas", "she").
    """
    from . import formats

    ann = formats.to_brat(analysis)
    lines = ann.splitlines() if ann else []
    spans, events = _brat_ids(ann)
    extra: list[str] = []
    voices: dict[str, str] = {}
    for i, att in enumerate(analysis.attributions):
        eid = f"E{i + 1}"
        if eid not in events:
            continue
        extra.append(f"Kind {eid} {att.kind}")
        if getattr(att, "act", None):
            extra.append(f"Act {eid} {att.act}")
        source = analysis.source_of(att)
        tid = events[eid].get("source") or eid    # no source span: on the event itself
        if source is not None:
            if tid != eid:
                voices.setdefault(tid, f"source {source.id}: {source.name}")
            if source.identity:
                extra.append(f"Identity {tid} {source.identity}")
            if source.kind:
                extra.append(f"SourceKind {tid} {source.kind}")
    seen: list[str] = []
    for line in extra:
        if line not in seen:
            seen.append(line)
    lines += [f"A{n}\t{line}" for n, line in enumerate(seen, 1)]
    first = sum(1 for line in lines if line.startswith("#")) + 1
    lines += [f"#{n}\tAnnotatorNotes {tid}\t{note}"
              for n, (tid, note) in enumerate(voices.items(), first)]
    return "\n".join(lines) + "\n" if lines else ""


def _brat_ids(ann: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The textbound ids by kind and each event's role -> textbound id."""
    from . import formats

    spans: dict[str, str] = {}
    events: dict[str, dict[str, str]] = {}
    for rec in formats._records(ann):
        if rec.startswith("T"):
            tid, head = rec.split("\t")[:2]
            spans[tid] = head.split(" ", 1)[0]
        elif rec.startswith("E"):
            eid, args = rec.split("\t")[:2]
            events[eid] = {a.split(":")[0].lower(): a.split(":")[1] for a in args.split()[1:]}
    return spans, events


def read_brat(ann: str, text: str) -> Analysis:
    """A BRAT file written by ``to_brat`` (and corrected) back, sources included: the
    attributions whose source annotations are one textbound (or carry the same text)
    are one voice, typed by the Identity and SourceKind attributes of that textbound."""
    import dataclasses

    from . import formats

    base = formats.read_brat(ann, text)
    spans, events = _brat_ids(ann)
    attrs: dict[str, dict[str, str]] = defaultdict(dict)
    voice_of: dict[str, tuple[str, str | None]] = {}
    for rec in formats._records(ann):
        if rec.startswith("#"):
            parts = rec.split("\t", 2)
            note = re.match(r"\s*source (\d+)(?::\s*(.*))?", parts[2] if len(parts) == 3 else "")
            if note and parts[1].split()[-1].startswith("T"):
                voice_of[parts[1].split()[-1]] = (f"s{note.group(1)}", note.group(2))
        if rec.startswith("A"):
            try:
                _, body = rec.split("\t", 1)
                name, target, value = body.split()
            except ValueError as exc:
                raise RecordError(f"cannot read BRAT attribute {rec[:60]!r}") from exc
            attrs[target][name] = value
    for target, values in attrs.items():
        for name, value in values.items():
            valid = {"Identity": IDENTITIES, "SourceKind": SOURCE_KINDS, "Kind": KINDS,
                     "Act": ACTS}.get(name)
            if valid is None or value not in valid:
                raise RecordError(f"BRAT attribute {name}={value!r} on {target} is not one of "
                                  "sourcetrace's values")
    order = list(events)
    groups: list[list[dict[str, Any]]] = []
    for eid, att in zip(order, base.attributions):
        roles = events[eid]
        event_attrs = attrs.get(eid, {})
        tid = roles.get("source")
        group: list[dict[str, Any]] = []
        for role in _ROLES:
            for span in getattr(att, role):
                region: dict[str, Any] = {"role": role, "span": span}
                if role == "source" and tid:
                    voice, name = voice_of.get(tid, (tid, None))
                    region.update(source=voice, source_name=name,
                                  identity=attrs.get(tid, {}).get("Identity"),
                                  source_kind=attrs.get(tid, {}).get("SourceKind"))
                group.append(region)
        anchor = next((r for role in ("cue", "content", "source") for r in group
                       if r["role"] == role), None)
        if anchor is not None:
            if not tid and event_attrs.get("Identity"):   # a source with no span
                anchor.update(source=eid, identity=event_attrs["Identity"],
                              source_kind=event_attrs.get("SourceKind"))
            anchor["kind"] = event_attrs.get("Kind", att.kind)
            if event_attrs.get("Act"):
                anchor["act"] = event_attrs["Act"]
        groups.append(group)
    analysis = _assemble(text, groups)
    # keep what the plain reader knew: nesting, and the boilerplate
    atts = tuple(dataclasses.replace(a, parent=b.parent, rule=b.rule or a.rule,
                                     confidence=b.confidence)
                 for a, b in zip(analysis.attributions, base.attributions))
    return analysis.replace(attributions=atts, boilerplate=base.boilerplate)


# --------------------------------------------------------------------------- training

def to_training(analysis: Analysis, article_id: str) -> dict[str, Any]:
    """A PolNeAR-style training record of a corrected analysis (top-level attributions:
    PolNeAR annotates the outermost ones), for ``sourcetrace train --data``."""
    atts = [a for a in analysis.attributions if a.parent is None]
    return {"id": article_id, "text": analysis.text,
            "attributions": [{role: [[s.start, s.end] for s in getattr(a, role)]
                              for role in _ROLES} for a in atts]}


def import_file(path, *, text=None) -> list[tuple[str, Analysis]]:
    """A corrected file back: a Label Studio JSON export (.json: every task) or a BRAT
    .ann file (its text from ``text``, else the .txt beside it). (article id, Analysis)."""
    from pathlib import Path

    from ..errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"corrected file not found: {path}")
    if path.suffix == ".ann":
        text_path = Path(text) if text else path.with_suffix(".txt")
        if not text_path.is_file():
            raise InputError(f"the text of {path} is not at {text_path}",
                             hint="give it with --text")
        return [(path.stem, read_brat(path.read_text(encoding="utf-8"),
                                      text_path.read_text(encoding="utf-8")))]
    return read_labelstudio_tasks(path.read_text(encoding="utf-8"), corrected=True)


def add_to_training(data, articles: list[tuple[str, Analysis]]) -> int:
    """Add corrected articles to a PolNeAR-style JSONL training file (an article with
    the same id is replaced, in place); returns the number of articles in the file."""
    import os
    from pathlib import Path

    data = Path(data)
    records: dict[str, dict[str, Any]] = {}
    if data.is_file():
        for n, line in enumerate(data.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rec = json.loads(line)
                    records[str(rec["id"])] = rec
                except (ValueError, KeyError, TypeError) as exc:
                    raise RecordError(f"{data}:{n}: not a training record ({exc})") from exc
    for article_id, analysis in articles:
        records[str(article_id)] = to_training(analysis, str(article_id))
    tmp = data.with_name(data.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records.values()),
                   encoding="utf-8")
    os.replace(tmp, data)
    return len(records)
