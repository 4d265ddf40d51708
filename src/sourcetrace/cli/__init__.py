"""The ``sourcetrace`` command: a thin shell over the library.

Every command parses its arguments, calls one library function and turns our
exceptions into a one-line message and an exit code (the table is EXIT_CODES,
shown by ``sourcetrace --help`` and in the README).
"""
from __future__ import annotations

import sys
from enum import Enum
from typing import Optional

import typer

from ..errors import FetchError, InputError, ConfigError, SourcetraceError

# The one exit-code table of every command (README "Exit codes" repeats it).
EXIT_CODES = (
    (0, "success"),
    (1, "nothing found (search, trace, claims: no match)"),
    (2, "bad input or usage (bad file, record, option, date or choice; missing corpus)"),
    (3, "a URL could not be fetched or was refused"),
    (4, "the model or the store failed"),
    (5, "the batch finished but skipped or failed records (extract; ingest --strict)"),
    (70, "an unexpected failure: a bug (run with -v for the traceback, and report it)"),
)
NO_MATCH, PARTIAL, BUG = 1, 5, 70

app = typer.Typer(
    name="sourcetrace",
    help="Who says what in the news: attributions, sources and how well each claim is sourced.",
    epilog="Exit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES) + ".",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_VERBOSITY = {"level": 0}


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"sourcetrace {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True,
                                help="More log output on stderr (-v info, -vv debug; "
                                     "tracebacks of unexpected failures)."),
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="Log errors only (warnings hidden); results, "
                                    "errors and summaries are still printed."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Who says what in the news: attributions, sources and how well each claim is sourced."""
    import logging

    if verbose and quiet:
        raise typer.BadParameter("give -q or -v, not both", param_hint="'-q' / '-v'")
    level = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(
        verbose, logging.DEBUG)
    _VERBOSITY["level"] = -1 if quiet else verbose
    logging.basicConfig(level=level, format="sourcetrace: %(levelname)s: %(name)s: %(message)s")
    logging.getLogger().setLevel(level)


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


DB_HELP = ("The corpus: a SQLite file (only `ingest` creates one) or a postgresql:// URL. "
           "Default: $SOURCETRACE_DB, else ./sourcetrace.db.")


def db_option():
    """The --db option every corpus command takes."""
    return typer.Option(None, "--db", envvar="SOURCETRACE_DB", help=DB_HELP, show_default=False)


def open_existing_store(db: Optional[str]):
    """The store named by ``db`` for a command that only reads it: a SQLite file that
    does not exist is an error (exit 2) naming the path; only `ingest` creates one."""
    from ..corpus.store import DEFAULT_DB, open_store

    name = db or DEFAULT_DB
    if not name.startswith(("postgresql://", "postgres://")) and name != ":memory:":
        from pathlib import Path

        if not Path(name).exists():
            raise ConfigError(f"there is no corpus at {name}",
                              hint="check --db (or $SOURCETRACE_DB); `sourcetrace ingest ... "
                                   f"--db {name}` creates one")
    return open_store(name, create=False)


def choices(name: str, values: "tuple[str, ...]") -> "type[Enum]":
    """The fixed choices of an option as a str Enum built from the library's tuple, so that
    the command line never restates what the library accepts."""
    return Enum(name, [(v, v) for v in values], type=str)


Out = choices("Out", ("table", "json"))  # --format of the listing commands


def choice(name: str, valid: "tuple[str, ...]"):
    """A callback for a free-text option whose value must be one of ``valid``
    (case-insensitive; the value given back is the canonical spelling)."""
    def check(value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        for v in valid:
            if value.strip().casefold() == v.casefold():
                return v
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(valid)}", param_hint=name)
    return check


def check_date(value: Optional[str]) -> Optional[str]:
    """A callback for --since/--until: YYYY, YYYY-MM or YYYY-MM-DD, a real date."""
    import datetime
    import re

    if value is None:
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value.strip())
    try:
        if m is None:
            raise ValueError
        datetime.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: give YYYY-MM-DD (or YYYY-MM, YYYY)")
    return value.strip()


def print_table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    """A rich table on a terminal, plain aligned columns when piped (nothing wrapped at 80
    columns); every cell escaped (stored text is never markup, and its control characters
    are shown, never sent to the terminal)."""
    if not sys.stdout.isatty():
        from ._listing import plain_table

        sys.stdout.write(title + "\n" + plain_table(columns, rows))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ..output.text import printable

    table = Table(title=escape(printable(title)))
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*("" if v is None else escape(printable(str(v))) for v in r))
    Console().print(table)


def _register_commands() -> None:
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def main(argv: list[str] | None = None) -> None:
    _register_commands()
    try:  # typer carries its own copy of click
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover - older typer
        import click

    try:
        status = app(args=argv, standalone_mode=False, prog_name="sourcetrace")
    except getattr(click, "NoArgsIsHelpError", ()) as exc:  # bare `sourcetrace`: the help
        exc.show()
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # bad option, choice, date: the same one line as ours
        where = exc.ctx.command_path if exc.ctx is not None else "sourcetrace"
        typer.echo(f"sourcetrace: error: {exc.format_message()} (see `{where} --help`)",
                   err=True)
        sys.exit(2)
    except click.ClickException as exc:
        typer.echo(f"sourcetrace: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("sourcetrace: interrupted", err=True)
        sys.exit(130)
    except SourcetraceError as exc:  # a command that did not map its own error
        typer.echo(f"sourcetrace: error: {exc}", err=True)
        sys.exit(exit_code(exc))
    except Exception as exc:  # a bug: one line, the traceback with -v
        if _VERBOSITY["level"] > 0:
            import traceback

            traceback.print_exc()
        typer.echo(f"sourcetrace: internal error: {type(exc).__name__}: {exc} (a bug: run with "
                   "-v for the traceback and report it)", err=True)
        sys.exit(BUG)
    sys.exit(status if isinstance(status, int) else 0)
