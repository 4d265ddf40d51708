"""`report`: the sourcing of a corpus compared by outlet and over time (a thin shell over
sourcetrace.corpus.report)."""
from __future__ import annotations

import sys
from typing import List, Optional

import typer

from . import app, choices, db_option, fail, open_existing_store
from ..corpus.report import FORMATS as REPORT_FORMATS, MIN_ARTICLES
from ._listing import acts_option, min_confidence_option, selection_of
from ..errors import ConfigError, SourcetraceError, os_reason


ReportFormat = choices("ReportFormat", REPORT_FORMATS)


@app.command()
def report(
    db: Optional[str] = db_option(),
    by: str = typer.Option("outlet", "--by", metavar="outlet|month|week|outlet,month",
                           help="One group per outlet, month, week, or outlet and month "
                                "(outlet,week)."),
    outlet: List[str] = typer.Option([], "--outlet",
                                     help="Only this outlet (repeat for several)."),
    since: Optional[str] = typer.Option(None, "--since", metavar="YYYY-MM-DD",
                                        help="Only articles dated on or after (YYYY-MM-DD, "
                                             "YYYY-MM or YYYY)."),
    until: Optional[str] = typer.Option(None, "--until", metavar="YYYY-MM-DD",
                                        help="Only articles dated on or before (a month or "
                                             "year counts whole)."),
    format: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f",
                                        case_sensitive=False,
                                        help="text, json, csv (one row per group) or html "
                                             "(one self-contained page with charts)."),
    top: int = typer.Option(5, "--top", min=0, max=100, help="Top sources listed per group."),
    acts: Optional[str] = acts_option(),
    min_confidence: Optional[float] = min_confidence_option(),
    min_articles: int = typer.Option(MIN_ARTICLES, "--min-articles", min=1,
                                     help="Groups of fewer articles are marked small (drawn "
                                          "hollow); a line over time is drawn only where "
                                          "every point has this many."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE",
                                         help="Write to FILE instead of stdout (an existing "
                                              "FILE is refused unless --force; never the "
                                              "corpus)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing -o FILE."),
) -> None:
    """Compare how outlets source their reporting, and how it changes over time: articles,
    attributions per article, shares by source identity and kind (each with its count and
    a 95% interval), people quoted by how the article refers to them (she, he, they, not
    said; where the store has the entity work), transparency score mean, median and
    distribution, check-worthy statements left unattributed, hearsay (one voice relaying
    another; a speaker nested in his own words is his own stance, counted apart) and top
    sources by entity, per group. Every share comes with its n; the attributions counted
    are named (--acts, --min-confidence). Invalid dates or groupings exit 2."""
    from ..corpus import report as reports
    from ..output.files import check_output, safe_output

    to_file = bool(output) and output != "-"
    try:
        if force and not to_file:
            raise ConfigError("--force is for replacing an -o file", hint="give -o FILE too")
        if to_file:
            check_output(output, force=force, corpus=[db])   # before the work, not after
        with open_existing_store(db) as store:
            result = reports.build_report(store, by=by, outlets=outlet, since=since,
                                          until=until, top=top,
                                          selection=selection_of(acts, min_confidence),
                                          min_articles=min_articles)
            over_time = None
            if format is ReportFormat.html:
                over_time = reports.time_report(store, result)
        text = reports.render(result, format.value, over_time)
        if to_file:
            with safe_output(output, force=force, corpus=[db]) as tmp:
                tmp.write_text(text, encoding="utf-8")
    except SourcetraceError as exc:
        raise fail(exc)
    except OSError as exc:
        typer.echo(f"sourcetrace: error: cannot write {output}: {os_reason(exc)}", err=True)
        raise typer.Exit(2)
    if to_file:
        typer.echo(f"wrote the report ({result['total']['groups']} group(s)) to {output}",
                   err=True)
        return
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        sys.stderr.close()
