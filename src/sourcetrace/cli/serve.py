"""`sourcetrace serve`: the HTTP API and the web UI (a thin shell over api.create_app)."""
from __future__ import annotations

import os
from typing import List, Optional

import typer

from . import app, db_option, fail, open_existing_store
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
    allowed_host: List[str] = typer.Option([], "--allowed-host", metavar="NAME",
                                           help="Another name the Host header may give (a "
                                                "public name of this server; repeatable). A "
                                                "loopback server answers to localhost, "
                                                "127.0.0.1 and [::1] only; one on 0.0.0.0 to "
                                                "any name unless this is given."),
    threads: int = typer.Option(2, "--threads", min=1, max=64,
                                help="Analyses run at once per process (4x as many wait; "
                                     "beyond that: 503)."),
    time_limit: float = typer.Option(60.0, "--time-limit", min=1.0,
                                     help="Seconds one request may take (then 504)."),
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
        open_existing_store(db).close()   # a typo in --db is an error, not a new empty corpus
        config = DEFAULT.replace(allow_private=allow_private)
        application = create_app(config, store=db, host=host, preload=True,  # checks db, host, token
                                 allowed_hosts=allowed_host, threads=threads,
                                 time_limit=time_limit)
    except SourcetraceError as exc:
        raise fail(exc)
    typer.echo(f"sourcetrace: serving {db} on http://{host}:{port}/ (API reference at /api)",
               err=True)
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level=log_level)
        return
    os.environ.update(SOURCETRACE_DB=db, SOURCETRACE_HOST=host,
                      SOURCETRACE_ALLOW_PRIVATE="1" if allow_private else "0",
                      SOURCETRACE_ALLOWED_HOSTS=",".join(allowed_host),
                      SOURCETRACE_THREADS=str(threads), SOURCETRACE_TIME_LIMIT=str(time_limit))
    uvicorn.run("sourcetrace.web.app:create_app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level=log_level)
