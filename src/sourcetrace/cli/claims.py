"""Claims across outlets: `claims` (list and filter) and `trace` (provenance of one claim).

Thin shells over crossoutlet.corroboration: each opens the corpus store, reads the
claims kept in it (written at ingest time) and calls one function.
"""
from __future__ import annotations

import json
from typing import Optional

import typer

from . import NO_MATCH, Out, app, check_date, choice, choices, db_option, fail, open_existing_store, print_table
from ..errors import ConfigError, SourcetraceError
from ..model import IDENTITIES, SOURCE_KINDS
from ._listing import (FORMAT_HELP, LIST_FORMATS, acts_option, emit, limit_option,
                       min_confidence_option, offset_option, selection_of)

ListFormat = choices("ListFormat", LIST_FORMATS)


def _cross(db: Optional[str]):
    """The store's claims; articles stored before claims were kept in the store are
    added once (a progress bar on a terminal)."""
    import sys

    from tqdm import tqdm

    from ..crossoutlet.corroboration import CrossOutlet, sync_with_store

    with open_existing_store(db) as store:
        return _cross_of(store)


def _cross_of(store):
    """``_cross`` of an open store."""
    import sys

    from tqdm import tqdm

    from ..crossoutlet.corroboration import CrossOutlet, sync_with_store

    cross = CrossOutlet()
    cross.load_store(store)          # the claims written at ingest time
    with tqdm(total=store.count(), initial=len(cross.articles), desc="claims",
              unit="article", leave=False, disable=not sys.stderr.isatty()) as bar:
        return sync_with_store(store, cross=cross, progress=lambda _article_id: bar.update(1))


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
                                  "two or more outlets, most corroborated first (with the "
                                  "filters: the clusters holding a claim that passes them)."),
    acts: Optional[str] = acts_option(),
    min_confidence: Optional[float] = min_confidence_option(),
    limit: int = limit_option(50, "Claims (or clusters) shown."),
    offset: int = offset_option(),
    output: ListFormat = typer.Option(ListFormat.text, "--format", "-f", case_sensitive=False,
                                      help=FORMAT_HELP),
) -> None:
    """List the corpus's claims (attributed contents of the counted attributions, and the
    outlets' own check-worthy assertions), or their clusters; filters combine."""
    from ..corpus.counted import claim_counted, counted_attributions

    try:
        selection = selection_of(acts, min_confidence)
        with open_existing_store(db) as store:
            counted = counted_attributions(store, selection)
        x = _cross(db)
        matched = [c for c in x.filter_claims(outlet=outlet, source=source, kind=kind,
                                              identity=identity, since=since, until=until,
                                              text=text, limit=10 ** 9)
                   if claim_counted(c.id, counted)]
        if clusters:
            ids = {c.id for c in matched}
            found = [c for c in x.clusters(min_outlets=2) if ids.intersection(c.claim_ids)]
        else:
            found = matched
    except SourcetraceError as exc:
        raise fail(exc)
    total, page = len(found), found[offset:offset + limit]
    if not page:
        typer.echo("no claims", err=True)
        raise typer.Exit(NO_MATCH)
    if clusters:
        emit("claim clusters", ["id", "text", "claim_ids", "outlets", "independent_outlets",
                                "corroboration", "earliest_outlet", "earliest_date",
                                "original_source"],
             [c.to_dict() for c in page], output.value, counted=selection, total=total,
             offset=offset,
             text_columns=["cluster", "outlets", "independent", "corroboration", "first",
                           "original source", "claim"],
             table=[[c.id, len(c.outlets), len(c.independent_outlets), c.corroboration,
                     f"{c.earliest_outlet} {c.earliest_date or ''}", c.original_source, c.text]
                    for c in page])
        return
    emit("claims", ["id", "article_id", "outlet", "date", "kind", "source", "via", "cue",
                    "text", "attribution_kind", "hedged", "url", "title"],
         [c.to_dict() for c in page], output.value, counted=selection, total=total,
         offset=offset, text_columns=["id", "outlet", "date", "source", "claim"],
         table=[[c.id, c.outlet, c.date, _source(c), c.text] for c in page])


@app.command()
def trace(
    text: Optional[str] = typer.Argument(None, help="The words of a claim to trace."),
    claim: Optional[str] = typer.Option(None, "--claim", help="A claim id from `sourcetrace "
                                        "claims` (e.g. 12#a3)."),
    db: Optional[str] = db_option(),
    top: int = typer.Option(10, "--top", "-k", min=1, max=100,
                            help="How many of the closest claims to list."),
    output: Out = typer.Option(Out.table, "--format", "-f", case_sensitive=False,
                               help="table or json."),
) -> None:
    """Who else reports a claim, who said it first, and where it came from.

    Lists the closest claims of the corpus, best first, each with a calibrated probability
    and a verdict (same, related, contradicts), and the fact-checks that state it. Exits
    with 1 when none is `same` ("no confirmed match", the closest still listed)."""
    from ..crossoutlet.stored import open_claims
    from ..crossoutlet.tracing import ranked_trace

    try:
        if (text is None) == (claim is None):
            raise ConfigError("give either the TEXT of a claim or --claim ID, not both",
                              hint='e.g. sourcetrace trace "300 troops refused orders"')
        if text is not None and not text.strip():
            raise ConfigError("the claim text is empty", hint="give the words of the claim")
        with open_existing_store(db) as store:   # open: its full-text search is used
            x = open_claims(store)                    # only the candidates' rows are read
            if claim is not None and claim not in x.claims:
                x.trace_claim(claim)                    # InputError naming the id
            ranked, closest_checks, cluster = ranked_trace(x, text=text, claim_id=claim,
                                                           top=top, store=store)
            checked = x.checked(text=text, claim_ids=cluster.claim_ids if cluster else ())
    except SourcetraceError as exc:
        raise fail(exc)
    if output is Out.json:
        typer.echo(json.dumps({"verdict": ranked.verdict,
                               "ranked": [h.to_dict() for h in ranked.hits],
                               "matches": [{"claim_id": "", "other_id": h.id,
                                            "evidence": _evidence(h)} for h in ranked.confirmed],
                               "cluster": cluster.to_dict() if cluster else None,
                               "factchecks": checked,
                               "factchecks_ranked": [h.to_dict() for h in closest_checks.hits]
                               if closest_checks else []},
                              ensure_ascii=False, indent=1))
        if cluster is None:
            raise typer.Exit(NO_MATCH)
        return
    from ..output.text import printable

    for fc in checked:
        typer.echo(printable(f"fact-check: {_fact_check(fc)}"))
    if cluster is not None:
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
    rows = []
    for h in ranked.hits:
        r = h.record or {}
        rows.append([h.rank, f"{h.probability:.2f}", h.verdict, h.id, r.get("outlet"),
                     r.get("date"), h.text])
    print_table(f"closest claims: {ranked.verdict}",
                ["rank", "probability", "verdict", "claim", "outlet", "date", "text"], rows)
    if closest_checks is not None and closest_checks.hits:
        print_table(f"closest fact-checks: {closest_checks.verdict}",
                    ["rank", "probability", "verdict", "checker", "rating", "date", "claim"],
                    [[h.rank, f"{h.probability:.2f}", h.verdict, h.record.get("checker"),
                      h.record.get("rating"), h.record.get("date"), h.text]
                     for h in closest_checks.hits[:5]])
    if cluster is None:
        typer.echo("no confirmed match: no claim in the corpus is marked the same (the closest "
                   "are listed)", err=True)
        raise typer.Exit(NO_MATCH)


def _evidence(hit) -> dict:
    from ..crossoutlet.retrieve import as_evidence

    return as_evidence(hit).to_dict()


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


@factchecks_app.command("match")
def factchecks_match(
    file: str = typer.Argument(..., help='JSON lines of {"id": ..., "text": "a claim"}.'),
    db: Optional[str] = db_option(),
    top: int = typer.Option(5, "--top", "-k", min=1, max=100,
                            help="How many of the closest fact-checks to list per query."),
    out: str = typer.Option("-", "--output", "-o", help="JSON lines out (- for stdout)."),
) -> None:
    """The closest stored fact-checks of each claim, best first, each with its score, a
    calibrated probability that it states the same claim and a verdict (same, related,
    contradicts); a query with none `same` has the verdict "no confirmed match"."""
    import sys

    from ..crossoutlet.factchecks import match_queries, read_queries

    try:
        queries = read_queries(file)
        with open_existing_store(db) as store:
            sink = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")
            confirmed = 0
            try:
                for row in match_queries(queries, store, top=top):
                    confirmed += row["verdict"] == "same"
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            finally:
                if sink is not sys.stdout:
                    sink.close()
    except OSError as exc:
        raise fail(ConfigError(f"cannot write {out}: {exc.strerror}"))
    except SourcetraceError as exc:
        raise fail(exc)
    typer.echo(f"{len(queries)} claim(s) matched against the stored fact-checks: "
               f"{confirmed} with a confirmed match", err=True)


@factchecks_app.command("list")
def factchecks_list(
    db: Optional[str] = db_option(),
    checker: Optional[str] = typer.Option(None, "--checker", help="Fact-checker name contains this."),
    rating: Optional[str] = typer.Option(None, "--rating", help="Rating contains this (e.g. false)."),
    since: Optional[str] = typer.Option(None, "--since", metavar="YYYY-MM-DD", callback=check_date),
    until: Optional[str] = typer.Option(None, "--until", metavar="YYYY-MM-DD", callback=check_date),
    text: Optional[str] = typer.Option(None, "--text", help="Claim contains these words."),
    limit: int = typer.Option(50, "--limit", "-n", min=1),
    output: Out = typer.Option(Out.table, "--format", "-f", case_sensitive=False,
                               help="table or json (JSON lines)."),
) -> None:
    """List the stored fact-checks, newest first (exit 1 when none is left by the filters)."""
    from ..crossoutlet.factchecks import list_factchecks

    try:
        with open_existing_store(db) as store:
            found = list_factchecks(store, checker=checker, rating=rating, since=since,
                                    until=until, text=text, limit=limit)
    except SourcetraceError as exc:
        raise fail(exc)
    if not found:
        typer.echo("no fact-checks", err=True)
        raise typer.Exit(NO_MATCH)
    if output is Out.json:
        for fc in found:
            typer.echo(json.dumps({"id": fc.id, **fc.to_dict()}, ensure_ascii=False))
        return
    print_table(f"{len(found)} fact-check(s)", ["date", "checker", "rating", "claim", "url"],
                [[fc.date, fc.checker, fc.rating, fc.claim, fc.url] for fc in found])
