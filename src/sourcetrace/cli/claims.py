"""Claims across outlets: `claims` (list and filter) and `trace` (provenance of one claim).

Thin shells over crossoutlet.corroboration: each opens the corpus store, reads the
claims kept in it (written at ingest time) and calls one function.
"""
from __future__ import annotations

import json
from typing import Optional

import typer

from . import NO_MATCH, Out, app, check_date, choice, db_option, fail, open_existing_store, print_table
from ..errors import ConfigError, SourcetraceError
from ..model import IDENTITIES, SOURCE_KINDS


def _cross(db: Optional[str]):
    """The store's claims; articles stored before claims were kept in the store are
    added once (a progress bar on a terminal)."""
    import sys

    from tqdm import tqdm

    from ..crossoutlet.corroboration import CrossOutlet, sync_with_store

    with open_existing_store(db) as store:
        cross = CrossOutlet()
        cross.load_store(store)          # the claims written at ingest time
        with tqdm(total=store.count(), initial=len(cross.articles), desc="claims",
                  unit="article", leave=False, disable=not sys.stderr.isatty()) as bar:
            return sync_with_store(store, cross=cross,
                                   progress=lambda _article_id: bar.update(1))


def _source(claim) -> str:
    if claim.source is None:
        return "(outlet's own voice)"
    chain = ", citing ".join(s.describe() for s in claim.chain())
    kind = "/".join(x for x in (claim.source.identity, claim.source.kind) if x)
    return f"{chain} [{kind}]" if kind else chain


@app.command()
def claims(
    db: Optional[str] = db_option(),
    outlet: Optional[str] = typer.Option(None, "--outlet", help="Only this outlet (domain)."),
    source: Optional[str] = typer.Option(None, "--source", help="Source name contains this."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Source kind (person, official, "
                                       "organization, media, document, social) or unattributed.",
                                       callback=choice("--kind", SOURCE_KINDS + ("unattributed",))),
    identity: Optional[str] = typer.Option(None, "--identity", help="Source identity: named, "
                                           "described, anonymous, unspecified.",
                                           callback=choice("--identity", IDENTITIES)),
    since: Optional[str] = typer.Option(None, "--since", metavar="YYYY-MM-DD", callback=check_date),
    until: Optional[str] = typer.Option(None, "--until", metavar="YYYY-MM-DD", callback=check_date),
    text: Optional[str] = typer.Option(None, "--text", help="Claim text contains these words."),
    clusters: bool = typer.Option(False, "--clusters", help="List claim clusters carried by "
                                  "two or more outlets, most corroborated first."),
    limit: int = typer.Option(50, "--limit", "-n", min=1),
    output: Out = typer.Option(Out.table, "--format", "-f", case_sensitive=False,
                               help="table or json (JSON lines)."),
) -> None:
    """List the corpus's claims (attributed contents and check-worthy assertions)."""
    try:
        filters = {"--outlet": outlet, "--source": source, "--kind": kind,
                   "--identity": identity, "--since": since, "--until": until, "--text": text}
        given = [name for name, value in filters.items() if value is not None]
        if clusters and given:
            raise ConfigError(f"--clusters lists every cluster: {', '.join(given)} would do "
                              "nothing with it", hint="drop --clusters to filter the claims")
        x = _cross(db)
        if clusters:
            found = x.clusters(min_outlets=2, limit=limit)
        else:
            found = x.filter_claims(outlet=outlet, source=source, kind=kind, identity=identity,
                                    since=since, until=until, text=text, limit=limit)
    except SourcetraceError as exc:
        raise fail(exc)
    if not found:
        typer.echo("no claims", err=True)
        raise typer.Exit(NO_MATCH)
    if output is Out.json:
        for item in found:
            typer.echo(json.dumps(item.to_dict(), ensure_ascii=False))
        return
    if clusters:
        print_table(f"{len(found)} claim cluster(s)",
               ["cluster", "outlets", "independent", "corroboration", "first", "original source",
                "claim"],
               [[c.id, len(c.outlets), len(c.independent_outlets), c.corroboration,
                 f"{c.earliest_outlet} {c.earliest_date or ''}", c.original_source, c.text]
                for c in found])
        return
    print_table(f"{len(found)} claim(s)", ["id", "outlet", "date", "source", "claim"],
           [[c.id, c.outlet, c.date, _source(c), c.text] for c in found])


@app.command()
def trace(
    text: Optional[str] = typer.Argument(None, help="The words of a claim to trace."),
    claim: Optional[str] = typer.Option(None, "--claim", help="A claim id from `sourcetrace "
                                        "claims` (e.g. 12#a3)."),
    db: Optional[str] = db_option(),
    output: Out = typer.Option(Out.table, "--format", "-f", case_sensitive=False,
                               help="table or json."),
) -> None:
    """Who else reports a claim, who said it first, and where it came from.

    Exits with 1 when no claim in the corpus states it (as search does with no match)."""
    try:
        if (text is None) == (claim is None):
            raise ConfigError("give either the TEXT of a claim or --claim ID, not both",
                              hint='e.g. sourcetrace trace "300 troops refused orders"')
        x = _cross(db)
        if claim is not None:
            matches, cluster = [], x.trace_claim(claim)
        else:
            matches, cluster = x.trace_text(text)
    except SourcetraceError as exc:
        raise fail(exc)
    checked = x.checked(text=text, claim_ids=cluster.claim_ids if cluster else ())
    if output is Out.json:
        typer.echo(json.dumps({"matches": [m.to_dict() for m in matches],
                               "cluster": cluster.to_dict() if cluster else None,
                               "factchecks": checked}, ensure_ascii=False, indent=1))
    if cluster is None:
        from ..output.text import printable

        for fc in checked:
            typer.echo(printable(f"fact-check: {_fact_check(fc)}"))
        typer.echo("no claim in the corpus states this", err=True)
        raise typer.Exit(NO_MATCH)
    if output is Out.json:
        return
    from ..output.text import printable

    for fc in checked:
        typer.echo(printable(f"fact-check: {_fact_check(fc)}"))

    typer.echo(printable(f"claim: {cluster.text}"))
    typer.echo(printable(f"first: {cluster.earliest_outlet} {cluster.earliest_date or ''} "
                         f"({cluster.earliest})"))
    typer.echo(printable(f"chain: {cluster.relay_chain_text}"))
    typer.echo(printable(f"original source: {cluster.original_source}"))
    typer.echo(printable(f"outlets: {len(cluster.outlets)}, independent: "
                         f"{', '.join(cluster.independent_outlets)}; "
                         f"corroboration: {cluster.corroboration}"))
    rows = []
    for cid in cluster.claim_ids:
        c = x.claims[cid]
        voice = next((v for v, ids in cluster.voices.items() if cid in ids), "")
        rows.append([cid, c.outlet, c.date, voice, _source(c), c.text])
    print_table("appearances", ["claim", "outlet", "date", "voice", "source", "text"], rows)


def _fact_check(fc: dict) -> str:
    from ..crossoutlet.factchecks import FactCheck

    return f"{FactCheck.from_dict(fc).describe()}: \u201c{fc['claim']}\u201d"


factchecks_app = typer.Typer(help="Fact-checks (schema.org ClaimReview) matched to claims.",
                             no_args_is_help=True)
app.add_typer(factchecks_app, name="factchecks")


@factchecks_app.command("import")
def factchecks_import(
    file: str = typer.Argument(..., help="A fact-check page (HTML with JSON-LD), a JSON-LD file "
                                         "or JSON lines of ClaimReview objects."),
    db: Optional[str] = db_option(),
) -> None:
    """Import fact-checks into the store: `trace` shows the fact-checker, rating, date and
    URL of every claim that states a checked claim."""
    from ..crossoutlet.factchecks import import_factchecks

    try:
        with open_existing_store(db) as store:
            checks = import_factchecks(store, file)
    except SourcetraceError as exc:
        raise fail(exc)
    typer.echo(f"imported {len(checks)} fact-check(s) from {file}")
