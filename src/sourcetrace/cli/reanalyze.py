"""`sourcetrace reanalyze`: analyse stored articles again with the current model (a shell
over corpus.runner.reanalyze)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from . import app, choice, db_option, fail, open_existing_store
from ..errors import ConfigError, SourcetraceError


@app.command()
def reanalyze(
    db: Optional[str] = db_option(),
    where: Optional[List[str]] = typer.Option(None, "--where", metavar="KEY=VALUE",
                                              help="Only these articles: outlet=NAME, "
                                                   "since=DATE, until=DATE (the article's "
                                                   "date), model=NAME (the stored model; none "
                                                   "for unrecorded). Repeat to combine."),
    model: Optional[Path] = typer.Option(None, "--model",
                                         help="Role-tagger weights written by `sourcetrace "
                                              "train --output DIR` (the current model)."),
    model_setting: Optional[str] = typer.Option("fast", "--model-setting",
                                                callback=choice("--model-setting",
                                                                ("fast", "accurate")),
                                                help="The shipped weights: fast or accurate."),
    rules_only: bool = typer.Option(False, "--rules-only", help="Use the rules alone."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                            help="A progress bar on stderr (default: on a "
                                                 "terminal)."),
) -> None:
    """Analyse stored articles again with the current model: those another model (or an
    unrecorded one) analysed; resumable and idempotent (rerun after a kill)."""
    import sys

    from ..config import Config
    from ..corpus.runner import reanalyze as run

    try:
        filters = {}
        for item in where or ():
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ConfigError(f"--where takes KEY=VALUE, got {item!r}")
            filters[key.strip()] = value.strip()
        config = Config(rules_only=rules_only, model_setting=model_setting or "fast",
                        model_path=str(model) if model else None)
        store = open_existing_store(db)
        try:
            report = run(store, config=config, where=filters,
                         progress=sys.stderr.isatty() if progress is None else progress)
        finally:
            store.close()
    except SourcetraceError as exc:
        raise fail(exc)
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    typer.echo(f"{report.updated} articles analysed again with {report.model} "
               f"{report.model_version}; {report.current} already current; "
               f"{report.failed} failed")
    for article_id, reason in report.failures[:20]:
        typer.echo(f"  article {article_id}: {reason}", err=True)
