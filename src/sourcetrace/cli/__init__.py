"""The ``sourcetrace`` command: a thin shell over the library.

Every command parses its arguments, calls one library function and turns our
exceptions into a one-line message and an exit code:

    0  success
    1  an unexpected failure (a bug: please report it with the traceback from --debug)
    2  bad input or usage (empty, binary, too large, non-English, bad record, bad option)
    3  a URL could not be fetched or was refused
    4  the model or the store failed
"""
from __future__ import annotations

import sys

import typer

from ..errors import FetchError, InputError, ConfigError, SourcetraceError

app = typer.Typer(
    name="sourcetrace",
    help="Who says what in the news: attributions, sources and how well each claim is sourced.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Who says what in the news: attributions, sources and how well each claim is sourced."""


def exit_code(exc: SourcetraceError) -> int:
    if isinstance(exc, (InputError, ConfigError)):
        return 2
    if isinstance(exc, FetchError):
        return 3
    return 4


def fail(exc: SourcetraceError) -> "typer.Exit":
    """Print one line for the user and return the Exit to raise."""
    typer.echo(f"sourcetrace: error: {exc}", err=True)
    return typer.Exit(exit_code(exc))


DB_HELP = ("The corpus: a SQLite file (created if absent) or a postgresql:// URL. "
           "Default: $SOURCETRACE_DB, else ./sourcetrace.db.")


def db_option():
    """The --db option every corpus command takes."""
    return typer.Option(None, "--db", envvar="SOURCETRACE_DB", help=DB_HELP, show_default=False)


def print_table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    """A rich table on stdout; every cell escaped (stored text is never markup)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title))
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*("" if v is None else escape(str(v)) for v in r))
    Console().print(table)


def _register_commands() -> None:
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def main(argv: list[str] | None = None) -> None:
    _register_commands()
    try:
        app(args=argv, standalone_mode=True)
    except SourcetraceError as exc:  # a command that did not map its own error
        typer.echo(f"sourcetrace: error: {exc}", err=True)
        sys.exit(exit_code(exc))
