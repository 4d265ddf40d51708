"""Batch extraction: JSONL articles in, attribution spans out (``sourcetrace extract``).

Input lines:  {"id": ..., "text": "..."}   (other keys are ignored; no id: the line number)
Output lines: {"id": ..., "attributions": [{"source": [[s, e], ...], "cue": [...],
               "content": [...]}, ...]}

exactly the prediction format of the shared scorer (``attribution_score.py``):
offsets are Python str offsets into the given text, used verbatim. By default only
top-level attributions are written (PolNeAR annotates only the outermost ones);
with ``nested=True`` nested ones follow too, each with ``"parent"``: the index of
its parent in the written list.

A bad record (invalid JSON or UTF-8, not an object, no text, empty text, text too
long or not printable) is reported through ``on_error(line_number, message)`` and
skipped; when it has an id, a line ``{"id": ..., "attributions": [], "error": "..."}`` keeps its place in the
output (the scorer ignores the extra key and counts the article as predicting
nothing). A failure inside one document's analysis is isolated the same way: what
its batch had not finished is re-run document by document (``runner.analyze_chunk``,
as the corpus ingest does). Output lines are flushed as they are written, so a killed
run keeps everything it finished.

    stats = extract_file("in.jsonl", "out.jsonl", nested=False)
    for record in extract_lines(lines): ...
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from ..config import DEFAULT, Config
from ..errors import ConfigError, InputError, os_reason
from ..inputs import read as ingest
from ..inputs.metadata import valid_text
from ..model import Analysis
from .runner import analyze_chunk

ErrorHandler = Callable[[int, str], None]
PROGRESS_MIN_RECORDS = 50  # the progress bar shows from this many input lines up


@dataclass
class ExtractStats:
    """What one run did.

    ``records``: non-blank input lines; ``written``: output lines (error lines
    included); ``skipped``: bad records; ``attributions``: attributions written;
    ``errors``: (line number, message) per bad record.
    """

    records: int = 0
    written: int = 0
    skipped: int = 0
    attributions: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Item:
    line: int
    id: Any
    document: ingest.Document | None
    error: str | None = None


def parse_record(line: str, number: int, config: Config = DEFAULT) -> _Item:
    """One input line -> an item to analyse, or one that carries the reason it is bad.

    The record goes through ``ingest.from_record`` (text kept verbatim; the same
    checks as every input: a string, not empty, printable, under the size cap) but
    without the language check: a batch of news is taken as it comes.
    """
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return _Item(number, None, None, f"invalid JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return _Item(number, None, None, "JSON nested too deeply")
    except ValueError as exc:  # an integer over Python's digit limit
        return _Item(number, None, None, f"JSON that cannot be read ({str(exc).split(';')[0]})")
    if not isinstance(record, dict):
        return _Item(number, None, None, f"not a JSON object but a {type(record).__name__}")
    doc_id = record.get("id", number)
    if isinstance(doc_id, str):   # a lone surrogate (JSON "\\udc80") cannot be written: U+FFFD
        doc_id = valid_text(doc_id)
    if not _strict(doc_id):
        # NaN and Infinity are not JSON: the output line could not repeat the id
        return _Item(number, None, None, f"the id {doc_id!r} is not valid JSON (NaN or infinite)")
    try:
        document = ingest.from_record(record, config=config.replace(require_english=False),
                                      meta={"line": number})
    except InputError as exc:
        return _Item(number, doc_id, None, exc.message)
    return _Item(number, doc_id, document)


def _strict(value: Any) -> bool:
    """Whether ``value`` holds no NaN or infinite number (strict JSON can write it)."""
    try:
        json.dumps(value, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        return False
    return True


def prediction(doc_id: Any, analysis: Analysis, *, nested: bool) -> dict[str, Any]:
    """The scorer's prediction record of one analysed article."""
    keep = [i for i, a in enumerate(analysis.attributions) if nested or a.parent is None]
    position = {old: new for new, old in enumerate(keep)}
    out = []
    for i in keep:
        att = analysis.attributions[i]
        item: dict[str, Any] = att.offsets()
        if nested:
            item["parent"] = position.get(att.parent) if att.parent is not None else None
        out.append(item)
    return {"id": doc_id, "attributions": out}


def _describe(exc: Exception) -> str:
    return f"analysis failed: {type(exc).__name__}: {exc}"


def _decoded(lines: Iterable[str | bytes]) -> Iterator[tuple[int, str | None]]:
    for number, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield number, None
                continue
        yield number, line


def _extract(lines: Iterable[str | bytes], config: Config, nested: bool
             ) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, output record or None, error or None) per non-blank input line."""
    def items() -> Iterator[_Item]:
        for number, line in _decoded(lines):
            if line is None:
                yield _Item(number, None, None, "not valid UTF-8")
            elif line.strip():
                yield parse_record(line, number, config)

    stream = items()
    while True:
        chunk = list(islice(stream, config.batch_size))
        if not chunk:
            return
        good = [it for it in chunk if it.document is not None]
        analysed = analyze_chunk([it.document for it in good], config, attributions_only=True) \
            if good else []
        results = {id(it): (r, None) if isinstance(r, Analysis) else (None, _describe(r))
                   for it, r in zip(good, analysed)}
        for it in chunk:
            analysis, error = results.get(id(it), (None, it.error))
            if analysis is not None:
                yield it.line, prediction(it.id, analysis, nested=nested), None
            elif it.id is None:
                yield it.line, None, error
            else:
                yield it.line, {"id": it.id, "attributions": [], "error": error}, \
                    f"{error} (id {it.id!r})"


def extract_lines(lines: Iterable[str | bytes], *, config: Config = DEFAULT, nested: bool = False,
                  on_error: ErrorHandler | None = None) -> Iterator[dict[str, Any]]:
    """Yield one output record per input record, in input order (see the module doc).

    ``lines`` are JSONL lines (str, or bytes decoded as UTF-8). Blank lines are
    skipped silently; a bad record goes to ``on_error(line_number, message)`` and,
    when it has an id, yields a record with an ``"error"`` key and no attributions.
    """
    for number, record, error in _extract(lines, config.replace(nested=nested), nested):
        if error is not None and on_error is not None:
            on_error(number, error)
        if record is not None:
            yield record


def _count_lines(path: Path) -> int | None:
    try:
        with path.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return None


def extract_file(in_path: str | Path, out_path: str | Path, *, config: Config = DEFAULT,
                 nested: bool = False, progress: bool | None = None,
                 on_error: ErrorHandler | None = None) -> ExtractStats:
    """Read ``in_path`` (a JSONL file, or "-" for stdin), write ``out_path`` ("-": stdout).

    ``progress``: True/False forces the progress bar (on stderr) on/off; None shows it
    for inputs of PROGRESS_MIN_RECORDS lines or more when stderr is a terminal.
    Raises InputError when the input cannot be opened, ConfigError when the output
    cannot be written; every problem inside the input only skips its record.
    """
    stats = ExtractStats()
    total = None
    if str(in_path) != "-" and str(out_path) != "-" and Path(out_path).exists() \
            and Path(out_path).resolve() == Path(in_path).resolve():
        raise ConfigError(f"the output {out_path} is the input file",
                          hint="write the predictions to another file")
    source: IO[bytes]
    if str(in_path) == "-":
        source = sys.stdin.buffer
    else:
        try:
            source = open(in_path, "rb")
        except OSError as exc:
            raise InputError(f"cannot read {in_path}: {os_reason(exc)}",
                             hint='give a JSONL file with one {"id", "text"} record a line') from exc
        total = _count_lines(Path(in_path))
    try:
        sink: IO[str] = sys.stdout if str(out_path) == "-" else \
            open(out_path, "w", encoding="utf-8", newline="\n")
    except OSError as exc:
        if source is not sys.stdin.buffer:
            source.close()
        raise ConfigError(f"cannot write {out_path}: {os_reason(exc)}",
                          hint="check that the folder exists and is writable") from exc
    if progress is None:
        progress = bool(total and total >= PROGRESS_MIN_RECORDS and sys.stderr.isatty())
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="line", desc="extract", file=sys.stderr, dynamic_ncols=True)
    try:
        for number, record, error in _extract(source, config.replace(nested=nested), nested):
            if error is not None:
                stats.errors.append((number, error))
                if on_error is not None:
                    on_error(number, error)
            if record is not None:
                sink.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
                sink.flush()
                stats.written += 1
                if error is None:
                    stats.attributions += len(record["attributions"])
            stats.records += 1
            if bar is not None:
                bar.update(number - bar.n)
    finally:
        if bar is not None:
            bar.close()
        if source is not sys.stdin.buffer:
            source.close()
        if sink is not sys.stdout:
            sink.close()
    stats.skipped = len(stats.errors)
    return stats
