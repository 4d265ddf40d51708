"""Corpus commands: `ingest`, `search`, `sources`, `export`, `failures` (thin shells over
sourcetrace.corpus and sourcetrace.store)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from . import (PARTIAL, NO_MATCH, Out, app, check_date, choice, choices, db_option, fail,
               open_existing_store, print_table)
from ..corpus.runner import ENGINES, EXPORT_FORMATS, EXPORT_TABLES
from ..corpus.store import GROUPINGS, SEARCH_WHAT
from ..inputs.collect import KINDS as INPUT_KINDS
from ..errors import ConfigError, SourcetraceError, os_reason
from ..model import IDENTITIES, SOURCE_KINDS
from ..sources.entities import CORPUS_IDENTITIES
from ._listing import (FORMAT_HELP, LIST_FORMATS, acts_option, emit, limit_option,
                       min_confidence_option, offset_option, selection_of)

ListFormat = choices("ListFormat", LIST_FORMATS)


def _open(db: Optional[str]):
    """The store for a command that reads it: a missing SQLite file is an error."""
    return open_existing_store(db)


Engine = choices("Engine", ENGINES)
InputKind = choices("InputKind", INPUT_KINDS)
By = choices("By", ("overall",) + tuple(g for g in GROUPINGS if g))
ExportFormat = choices("ExportFormat", EXPORT_FORMATS)
Table = choices("Table", EXPORT_TABLES)
What = choices("What", ("any",) + SEARCH_WHAT)


@app.command()
def ingest(
    inputs: List[str] = typer.Argument(..., metavar="INPUT...",
                                       help="Files, folders, .jsonl/.csv, WARC(.gz), feeds "
                                            "(.rss/.atom/.xml or a feed URL), URL lists (.urls, "
                                            "or a .txt of URLs), URLs."),
    db: Optional[str] = db_option(),
    workers: int = typer.Option(1, "--workers", "-w", min=1,
                                help="Analysis processes (or Ray actors); each loads the model once."),
    engine: Engine = typer.Option(Engine.local, "--engine", case_sensitive=False,
                                  help="local: this machine's processes; ray: Ray Data "
                                       "(pip install 'sourcetrace[ray]')."),
    address: Optional[str] = typer.Option(None, "--address",
                                          help="Ray cluster address (with --engine ray); "
                                               "default: start a local Ray."),
    kind: InputKind = typer.Option(InputKind.auto, "--as", case_sensitive=False,
                                   help="Read every INPUT as this kind instead of guessing."),
    text_column: Optional[str] = typer.Option(None, "--text-column",
                                              help="CSV column holding the article text "
                                                   "(default: text, body, content, article "
                                                   "or maintext)."),
    field: List[str] = typer.Option([], "--field", metavar="FIELD=NAME",
                                    help="Read our FIELD (text, title, outlet, date, url, id) "
                                         "from the record's or column's NAME, for CSV and JSON "
                                         "lines alike; repeat: --field text=body --field "
                                         "date=published."),
    outlet: Optional[str] = typer.Option(None, "--outlet",
                                         help="The outlet of articles that name none (e.g. a "
                                              "folder of .txt files)."),
    date: Optional[str] = typer.Option(None, "--date",
                                       help="The date of articles that carry none "
                                            "(YYYY-MM-DD)."),
    day_first: bool = typer.Option(False, "--day-first",
                                   help="Read dates such as 09/12/2016 as 9 December "
                                        "(default: month first)."),
    allow_private: bool = typer.Option(False, "--allow-private",
                                       help="Let URLs reach private, loopback or link-local "
                                            "addresses."),
    rate: float = typer.Option(1.0, "--host-delay", min=0.0,
                               help="Seconds between two requests to the same host."),
    ignore_robots: bool = typer.Option(False, "--ignore-robots",
                                       help="Fetch pages that robots.txt disallows (only for "
                                            "sites you may crawl)."),
    rules_only: bool = typer.Option(False, "--rules-only",
                                    help="Use the rules alone, ignoring any trained model."),
    model: Optional[Path] = typer.Option(None, "--model",
                                         help="Role-tagger weights written by `sourcetrace "
                                              "train --output DIR` (instead of the shipped "
                                              "--model-setting)."),
    any_language: bool = typer.Option(False, "--any-language",
                                      help="Keep articles not detected as English."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                            help="Progress bar with rate and ETA on stderr "
                                                 "(default: on a terminal)."),
    strict: bool = typer.Option(False, "--strict",
                                help="Exit with status 2 when any input failed."),
    entities: Optional[str] = typer.Option(None, "--entities", metavar="FILE",
                                           help="Gazetteer of source entities (CSV or JSON lines: name, "
                                                "aliases, kind, role, id such as a Wikidata QID): pins "
                                                "how sources link and their kind."),
) -> None:
    """Collect, analyse and store articles; safe to rerun (nothing is added twice) and to
    kill (the next run resumes). Failed inputs are recorded: see `sourcetrace failures`.

    Fields recognised in JSON records and CSV columns (case-insensitive): text: text, body,
    content, article, maintext; title: title, headline; outlet: outlet, publisher, site,
    source_name, domain, sitename; date: date, published, published_at, pubdate; url: url,
    link; id: id, record_id, article_id. --field maps any other name. Dates are stored as
    ISO 8601 with the original kept; an unreadable date is a warning on the article. An
    article with no outlet takes its URL's domain."""
    from ..corpus import runner as corpus
    from ..inputs.collect import Fetcher, check_inputs
    from ..config import Config

    corpus.limit_blas_threads()
    try:
        if engine is Engine.ray:   # shards given as globs ("shards/*.jsonl", quoted)
            from ..corpus.distributed import expand_inputs

            inputs = expand_inputs(inputs)
        check_inputs(inputs)   # a missing input: exit 2 before a corpus is created
        if address is not None and engine is not Engine.ray:
            raise ConfigError("--address is for a Ray cluster and does nothing with "
                              f"--engine {engine.value}", hint="add --engine ray, or drop --address")
        from ..inputs.metadata import MetaOptions, parse_fields

        meta = MetaOptions(fields=parse_fields(field), outlet=outlet, date=date,
                           dayfirst=day_first)
        config = Config(rules_only=rules_only, allow_private=allow_private,
                        model_path=str(model) if model else None,
                        require_english=not any_language)
        fetcher = Fetcher(config, min_interval=rate, respect_robots=not ignore_robots)
        show = sys.stderr.isatty() if progress is None else progress
        from ..corpus.store import open_store

        from ..sources.entities import Gazetteer

        gazetteer = Gazetteer.load(entities) if entities else None
        new_file = _new_sqlite_file(db)
        try:
            with open_store(db) as store:   # the one command that creates a corpus
                if gazetteer is not None:
                    store.gazetteer = gazetteer
                report = corpus.ingest(inputs, store, config=config, workers=workers,
                                       engine=engine.value, address=address, kind=kind.value,
                                       fetcher=fetcher, text_column=text_column, progress=show,
                                       meta=meta, db=db)
        except BaseException:
            _drop_if_empty(new_file)   # a failed first run (say --engine ray) leaves no corpus
            raise
    except SourcetraceError as exc:
        raise fail(exc)
    typer.echo(f"added {report.added}, already stored {report.duplicates}, "
               f"failed {report.failed} in {report.seconds:.1f}s"
               + ("  (see: sourcetrace failures)" if report.failed else ""), err=True)
    if strict and report.failed:
        typer.echo(f"sourcetrace: {report.failed} input(s) failed (--strict)", err=True)
        raise typer.Exit(PARTIAL)


def _new_sqlite_file(db: Optional[str]) -> Optional[Path]:
    """The SQLite file ``ingest`` is about to create, or None (it exists, or a server)."""
    from ..corpus.store import DEFAULT_DB

    name = db or DEFAULT_DB
    if name.startswith(("postgresql://", "postgres://")) or name == ":memory:":
        return None
    path = Path(name)
    return None if path.exists() else path


def _drop_if_empty(path: Optional[Path]) -> None:
    """Remove a corpus this run created when it holds no article and no failure."""
    if path is None or not path.exists():
        return
    import sqlite3

    try:
        with sqlite3.connect(path) as conn:
            n = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("articles", "failures"))
    except sqlite3.Error:
        return
    if n == 0:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)


@app.command()
def search(
    query: str = typer.Argument(..., help='Words (all must match) and "quoted phrases".'),
    db: Optional[str] = db_option(),
    what: What = typer.Option(What.any, "--in", case_sensitive=False, help="Search articles, quotes (attribution "
                                                      "contents), sources, or any."),
    outlet: Optional[str] = typer.Option(None, "--outlet", help="Only this outlet (domain)."),
    since: Optional[str] = typer.Option(None, "--since", metavar="YYYY-MM-DD",
                                        callback=check_date,
                                        help="Only articles dated on or after."),
    until: Optional[str] = typer.Option(None, "--until", metavar="YYYY-MM-DD",
                                        callback=check_date,
                                        help="Only articles dated on or before."),
    identity: Optional[str] = typer.Option(None, "--identity",
                                           callback=choice("--identity", IDENTITIES),
                                           help="Source identity: named, described, "
                                                "anonymous, unspecified."),
    source_kind: Optional[str] = typer.Option(None, "--kind",
                                              callback=choice("--kind", SOURCE_KINDS),
                                              help="Source kind: person, official, "
                                                   "organization, media, document, social."),
    acts: Optional[str] = acts_option(),
    min_confidence: Optional[float] = min_confidence_option(),
    limit: int = limit_option(20, "Matches shown."),
    offset: int = offset_option(),
    output: ListFormat = typer.Option(ListFormat.text, "--format", "-f", case_sensitive=False,
                                      help=FORMAT_HELP),
) -> None:
    """Full-text search over the corpus's articles, quotes and sources: each match with
    who said it (quotes: the speaker and the act; sources: the source) and the true total.
    Quotes are those of the counted attributions (--acts, --min-confidence)."""
    try:
        selection = selection_of(acts, min_confidence)
        with _open(db) as store:
            hits = store.search(query, outlet=outlet, since=since, until=until,
                                identity=identity, kind=source_kind,
                                what=None if what is What.any else what.value, limit=limit,
                                offset=offset, selection=selection)
    except SourcetraceError as exc:
        raise fail(exc)
    if not hits:
        typer.echo("no matches", err=True)
        raise typer.Exit(NO_MATCH)
    total = getattr(hits, "total", len(hits))
    cols = ["article_id", "what", "ref", "speaker", "act", "outlet", "date", "title", "snippet",
            "highlights", "url"]
    rows = [h.to_dict() for h in hits]
    emit(f"matches for {query!r}", cols, rows, output.value, counted=selection, total=total,
         offset=offset,
         text_columns=["article", "in", "speaker", "outlet", "date", "title", "match"],
         table=[[h.article_id, h.what if h.ref is None else f"{h.what} {h.ref}",
                 (h.speaker or "") + (f" ({h.act})" if h.act else "")
                 if h.what != "article" else "(article text)",
                 h.outlet, h.date, h.title, _marked(h.snippet, h.highlights)] for h in hits])


def _marked(text: str, spans) -> str:
    """The snippet with each match between « and »."""
    out, last = [], 0
    for s, e in spans:
        out += [text[last:s], "«", text[s:e], "»"]
        last = e
    return "".join(out + [text[last:]]).replace("\n", " ")


def _counts(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items())


def _majority(value, tied) -> str:
    return " = ".join(tied) + " (tie)" if tied else str(value)


@app.command()
def sources(
    db: Optional[str] = db_option(),
    by: By = typer.Option(By.overall, "--by", case_sensitive=False, help="Top sources overall, or per outlet, "
                                                    "kind or identity."),
    outlet: Optional[str] = typer.Option(None, "--outlet", help="Only this outlet."),
    source_kind: Optional[str] = typer.Option(None, "--kind", help="Only this source kind (by the majority "
                                                                   "of its mentions).",
                                              callback=choice("--kind", SOURCE_KINDS)),
    identity: Optional[str] = typer.Option(None, "--identity", help="Only this identity (by majority): "
                                           "named, described, anonymous, author (the writer's "
                                           "own voice), unspecified.",
                                           callback=choice("--identity", CORPUS_IDENTITIES)),
    acts: Optional[str] = acts_option(),
    min_confidence: Optional[float] = min_confidence_option(),
    limit: int = limit_option(20, "Sources shown (per group)."),
    offset: int = offset_option(),
    output: ListFormat = typer.Option(ListFormat.text, "--format", "-f", case_sensitive=False,
                                      help=FORMAT_HELP),
    entities: Optional[str] = typer.Option(None, "--entities", metavar="FILE",
                                           help="Gazetteer (CSV or JSON lines: name, aliases, kind, "
                                                "role, id): relink the stored sources with it first."),
    relink: bool = typer.Option(False, "--relink", help="Link every stored source to the entities again "
                                                        "(after a gazetteer or rule change)."),
) -> None:
    """The most cited source entities ("Donald Trump" = "Trump" = "President Trump"), by
    number of articles then attributions (those counted: --acts, --min-confidence), with
    aliases, identity and kind by majority of mentions (counts shown, ties shown as
    such), how the articles refer to them, and outlets. A description typed named ("One
    Republican", "the agency") counts as described; the writer's own voice is identity
    author, one per byline. Sources that refer to no one (unspecified) are an attribution
    category, not an entity."""
    from ..sources.entities import Gazetteer

    try:
        selection = selection_of(acts, min_confidence)
        gazetteer = Gazetteer.load(entities) if entities else None
        with _open(db) as store:
            if gazetteer is not None or relink:
                store.gazetteer = gazetteer
                store.relink_entities()
            rows = store.top_sources(by=None if by is By.overall else by.value, outlet=outlet,
                                     kind=source_kind, identity=identity, limit=limit,
                                     offset=offset, selection=selection)
    except SourcetraceError as exc:
        raise fail(exc)
    if not rows and output.value in ("text", "table"):
        typer.echo("no sources stored", err=True)
        return
    cols = ["group", "entity_id", "name", "aliases", "identity", "identity_tied", "identity_counts",
            "kind", "kind_tied", "kind_counts", "referred_as", "articles", "attributions",
            "outlets", "role", "external_id"]
    heads = ["source", "aliases", "identity", "kind", "referred as", "articles", "attributions", "outlets"]
    if by is not By.overall:
        heads.insert(0, by.value)
    emit("top sources", cols, [r.to_dict() for r in rows], output.value, counted=selection,
         offset=offset, text_columns=heads,
         table=[([r.group] if by is not By.overall else [])
                + [r.name + (f" [{r.external_id}]" if r.external_id else ""),
                   ", ".join(a for a in r.aliases if a != r.name),
                   f"{_majority(r.identity, r.identity_tied)} ({_counts(r.identity_counts)})",
                   f"{_majority(r.kind, r.kind_tied)} ({_counts(r.kind_counts)})",
                   _counts(r.referred_as), r.articles, r.attributions, len(r.outlets)]
                for r in rows])


@app.command()
def export(
    out: Optional[str] = typer.Argument(None, metavar="[OUT]", help="Same as -o."),
    output_option: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE",
                                                help="File to write, or - for stdout (the "
                                                     "default; not for parquet)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    db: Optional[str] = db_option(),
    format: Optional[ExportFormat] = typer.Option(None, "--format", "-f", case_sensitive=False,
                                                  help="jsonl, csv or parquet (default: from "
                                                       "OUT's suffix, else jsonl)."),
    table: Table = typer.Option(Table.articles, "--table", case_sensitive=False,
                                help="One row per article, attribution or source (jsonl "
                                     "articles carry the full Analysis)."),
    acts: Optional[str] = acts_option(),
    min_confidence: Optional[float] = min_confidence_option(),
) -> None:
    """Export the corpus as JSON lines, CSV or Parquet: the same columns in every format
    (docs/data-dictionary.md). Attribution rows are those counted (--acts,
    --min-confidence; named in the counted_acts and min_confidence columns, and in the
    Parquet file's metadata), each with its act, source_id and entity_id (join the
    sources table on article_id and source_id) and parent (an integer, empty at the top)."""
    from ..corpus import runner as corpus
    from ..output.files import Outputs

    if out is not None and output_option is not None and out != output_option:
        raise fail(ConfigError(f"two outputs given: {out} and -o {output_option}",
                               hint="give one, as -o FILE"))
    output = output_option or out or "-"
    fmt = format.value if format else next(
        (f for f in EXPORT_FORMATS if output.lower().endswith("." + f)), "jsonl")
    try:
        out = Outputs(force=force, corpus=[db])
        if output != "-":
            out.check(output)   # never the corpus, an existing file only with --force
        elif force:
            raise ConfigError("--force is for replacing an output file", hint="give -o FILE too")
        with _open(db) as store, out:   # a temporary file, renamed over OUT at the end
            n = corpus.export(store, sys.stdout if output == "-" else str(out.path(output)),
                              format=fmt, table=table.value,
                              selection=selection_of(acts, min_confidence))
    except SourcetraceError as exc:
        raise fail(exc)
    except BrokenPipeError:  # the reader (head, less) stopped early
        sys.stderr.close()
        raise typer.Exit(0)
    except OSError as exc:
        typer.echo(f"sourcetrace: error: cannot write {output}: {os_reason(exc)}", err=True)
        raise typer.Exit(2)
    typer.echo(f"wrote {n} {table.value} row(s)" + ("" if output == "-" else f" to {output}"),
               err=True)


@app.command()
def failures(
    db: Optional[str] = db_option(),
    limit: int = limit_option(100, "Failures shown."),
    offset: int = offset_option(),
    output: ListFormat = typer.Option(ListFormat.text, "--format", "-f", case_sensitive=False,
                                      help=FORMAT_HELP),
) -> None:
    """Inputs that gave no article, with the reason (kept until the input succeeds)."""
    try:
        with _open(db) as store:
            rows = store.failures()
    except SourcetraceError as exc:
        raise fail(exc)
    if not rows and output.value in ("text", "table"):
        typer.echo("no failures recorded", err=True)
        return
    page = rows[offset:offset + limit]
    emit("failed inputs", ["input", "reason", "code", "attempts", "first_seen", "last_seen"],
         [r.to_dict() for r in page], output.value, total=len(rows), offset=offset,
         text_columns=["input", "reason", "code", "tries", "last"],
         table=[[r.input, r.reason, r.code, r.attempts, r.last_seen] for r in page])
