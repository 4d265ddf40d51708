"""What every listing command shares: ``-f text|json|jsonl|csv``, ``--limit/--offset``,
``--acts/--min-confidence`` (corpus.counted) and one writer for the four formats.

    text   a table: rich on a terminal, plain aligned columns when piped (never wrapped)
    json   one document: {"counted", "total", "offset", "count", "rows": [...]}
    jsonl  one row a line
    csv    a header and one row a line (lists joined by " | ", counts as "name n, ...")

Every format names the attributions counted (the Selection) where the command counts
them: a line above the text table, ``counted`` in json, ``counted_acts`` and
``min_confidence`` columns in jsonl and csv.
"""
from __future__ import annotations

import csv
import json
import sys
from typing import Any, Iterable, Optional, Sequence

import typer

from ..corpus.counted import DEFAULT_SELECTION, Selection, parse_selection
from ..errors import SourcetraceError

LIST_FORMATS = ("text", "table", "json", "jsonl", "csv")   # table: the same as text

ACTS_HELP = ("Count only attributions of these acts: speech, belief, finding, intention, "
             "perception (comma-separated), or all. Default: speech at --min-confidence "
             f"{DEFAULT_SELECTION.min_confidence:g}, the same in every corpus command, the API "
             "and the web UI.")
CONF_HELP = ("Count only attributions at least this likely to be right (a calibrated "
             f"probability, 0-1). Default {DEFAULT_SELECTION.min_confidence:g}; 0 counts every one.")
FORMAT_HELP = ("text (a table; plain aligned columns when piped), json (one document), jsonl "
               "(one row a line) or csv.")


def acts_option():
    return typer.Option(None, "--acts", metavar="ACT,...|all", help=ACTS_HELP)


def min_confidence_option():
    return typer.Option(None, "--min-confidence", min=0.0, max=1.0, metavar="P", help=CONF_HELP)


def limit_option(default: int = 20, help: str = "Rows shown."):
    return typer.Option(default, "--limit", "-n", min=1, help=help)


def offset_option():
    return typer.Option(0, "--offset", min=0, help="Rows skipped first (the next page: "
                                                   "--offset plus --limit).")


def selection_of(acts: Optional[str], min_confidence: Optional[float]) -> Selection:
    """The Selection of --acts and --min-confidence (an InputError for an unknown act)."""
    return parse_selection(acts, min_confidence)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dict):
        return ", ".join(f"{k} {n}" for k, n in v.items())
    if isinstance(v, (list, tuple)):
        return " | ".join(_cell(x) for x in v)
    return str(v)


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned with two spaces, one line a row, nothing wrapped or cut; control
    characters shown (output.text.printable), line breaks as spaces."""
    from ..output.text import printable

    def clean(v: Any) -> str:
        return printable(" ".join(_cell(v).split()))

    cells = [[clean(c) for c in columns]] + [[clean(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines) + "\n"


def emit(title: str, columns: Sequence[str], rows: Sequence[dict[str, Any]], fmt: str, *,
         table: Iterable[Sequence[Any]] | None = None, text_columns: Sequence[str] | None = None,
         counted: Selection | None = None, total: int | None = None, offset: int = 0) -> None:
    """Write ``rows`` (dicts with ``columns``) in ``fmt``; ``table``/``text_columns``: the
    rows and headings of the text table where they differ from the data."""
    fmt = {"table": "text"}.get(fmt, fmt)
    out = sys.stdout
    try:
        if fmt == "json":
            doc = {"counted": counted.to_dict() if counted else None,
                   "total": len(rows) if total is None else total, "offset": offset,
                   "count": len(rows), "rows": list(rows)}
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
        elif fmt == "jsonl":
            for r in rows:
                extra = ({"counted_acts": counted.acts_text(),
                          "min_confidence": counted.min_confidence} if counted else {})
                out.write(json.dumps({**r, **extra}, ensure_ascii=False) + "\n")
        elif fmt == "csv":
            head = list(columns) + (["counted_acts", "min_confidence"] if counted else [])
            w = csv.writer(out, lineterminator="\n")
            w.writerow(head)
            for r in rows:
                w.writerow([_cell(r.get(c)) for c in columns]
                           + ([counted.acts_text(), counted.min_confidence] if counted else []))
        else:
            body = [list(r) for r in table] if table is not None else \
                [[r.get(c) for c in columns] for r in rows]
            heads = list(text_columns or columns)
            n = len(rows)
            shown = (f"rows {offset + 1}-{offset + n} of {total}" if total is not None and n
                     else f"{n} row(s)")
            header = f"{title} ({shown})" + (f"; {counted.describe()}" if counted else "")
            if out.isatty():
                from . import print_table

                print_table(header, heads, body)
            else:
                out.write(header + "\n" + plain_table(heads, body))
            if total is not None and offset + n < total:
                typer.echo(f"more: --offset {offset + n}", err=True)
    except BrokenPipeError:   # the reader (head, less) stopped early
        sys.stderr.close()
        raise typer.Exit(0)


def fail_on(exc: SourcetraceError) -> "typer.Exit":
    from . import fail

    return fail(exc)
