"""`sourcetrace analyze` (minimal version; being completed)."""
from __future__ import annotations

import typer

from . import app, fail
from ..errors import SourcetraceError


@app.command()
def analyze(target: str = typer.Argument(..., help="A file path, a URL, or - for stdin.")) -> None:
    """Analyse one article and show its attributions."""
    from ..pipeline import analyze_target

    try:
        analysis = analyze_target(target)
    except SourcetraceError as exc:
        raise fail(exc)
    typer.echo(analysis.to_json(indent=1))
