"""`sourcetrace serve`: the HTTP API and the web UI (a thin shell over api.create_app)."""
from __future__ import annotations

import os
from typing import Optional

import typer

from . import app, db_option, fail
from ..errors import SourcetraceError


@app.command()
def serve(
    db: Optional[str] = db_option(),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on. Anything beyond "
                             "loopback needs SOURCETRACE_TOKEN (write endpoints ask for it)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Server processes, each with its own copy of the model."),
    allow_private: bool = typer.Option(False, "--allow-private",
                                       help="Let analysed URLs reach private/loopback addresses."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, reference at /api) and the web UI."""
    try:
        import uvicorn

        from ..web.app import create_app
    except ImportError:
        typer.echo("sourcetrace: error: the server needs the web extra: "
                   "pip install 'sourcetrace[web]'", err=True)
        raise typer.Exit(2)
    from ..config import DEFAULT
    from ..corpus.store import DEFAULT_DB

    db = db or DEFAULT_DB
    try:
        config = DEFAULT.replace(allow_private=allow_private)
        application = create_app(config, store=db, host=host, preload=True)  # checks the db, host and token
    except SourcetraceError as exc:
        raise fail(exc)
    typer.echo(f"sourcetrace: serving {db} on http://{host}:{port}/ (API reference at /api)",
               err=True)
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level=log_level)
        return
    os.environ.update(SOURCETRACE_DB=db, SOURCETRACE_HOST=host,
                      SOURCETRACE_ALLOW_PRIVATE="1" if allow_private else "0")
    uvicorn.run("sourcetrace.api:create_app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level=log_level)
