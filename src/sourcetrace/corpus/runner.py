"""The corpus batch: collect -> analyse -> store, safe to rerun and to kill.

    ingest(inputs, store, config=..., workers=1, engine="local")  -> IngestReport
    export(store, path_or_file, format="jsonl", table="articles")  -> rows written
    make_record(collected, analysis)                                -> store.ArticleRecord
    reanalyze(store, config=..., where={...})                       -> ReanalyzeReport

Idempotent by content hash: an article whose cleaned text (whitespace collapsed)
is already stored is not analysed again, so a second run of the same input adds
nothing. Each batch of articles is written in one transaction, so a run killed at
any point leaves whole articles only, and the next run analyses exactly those not
yet stored: nothing lost, nothing duplicated. URLs already stored are not fetched
again. Every input that fails (unreadable, not an article, a fetch error, an
analysis error) is recorded with its reason (``store.failures()``) and the run
goes on.

Engines:
- ``local`` with ``workers=1``: in this process.
- ``local`` with ``workers=N``: N processes (spawned), each loading the model once;
  this process collects the inputs and writes the store. As with any spawned pool,
  a script that calls it needs the ``if __name__ == "__main__":`` guard.
- ``ray``: Ray Data (corpus.distributed; needs the ``ray`` extra). With a PostgreSQL
  store the workers write: the inputs are read on the cluster, each of ``workers``
  actors analyses, stores and builds the claims of its batches, and this process only
  plans the shards and counts. With a store only this process can reach (memory; a
  SQLite file on a local Ray) the actors analyse and this process writes.
  ``address`` connects to a running cluster; without it a local Ray is started with
  ``num_cpus=workers`` (0.5 CPU per actor, so that the pool and Ray's own tasks fit
  on a small machine).

The bookkeeping all engines share (records, chunks, duplicates, failures, claims) is
corpus.batch.
"""
from __future__ import annotations

import concurrent.futures as cf
import csv
import json
import multiprocessing
import re
import time
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, TextIO

from ..inputs import collect as collect_mod
from ..config import DEFAULT, Config
from ..errors import ConfigError
from ..inputs.metadata import MetaOptions, outlet_of
from ..inputs.read import Document
from ..model import Analysis
from .batch import (IngestReport, _chunks, _Run, analyze_chunk, canonical_url,
                    exit_with_parent, limit_blas_threads, make_record)
from .store import Store

__all__ = ["ENGINES", "EXPORT_FORMATS", "EXPORT_TABLES", "IngestReport",
           "analyze_chunk", "canonical_url", "exit_with_parent", "export", "ingest",
           "limit_blas_threads", "make_record", "outlet_of", "reanalyze", "ReanalyzeReport",
           "REANALYZE_FILTERS"]

ENGINES = ("local", "ray")
WORKER_CHUNKS = 64  # chunks a local worker analyses before it is replaced
EXPORT_FORMATS = ("jsonl", "csv", "parquet")
EXPORT_TABLES = ("articles", "attributions", "sources")


# --------------------------------------------------------------------------- analysis

_WORKER_CONFIG: Config | None = None


def _init_worker(config: Config) -> None:
    """Process-pool initializer: exit with the parent, load the model once per worker."""
    global _WORKER_CONFIG
    _WORKER_CONFIG = config
    exit_with_parent()
    limit_blas_threads()
    from .. import pipeline

    pipeline.load_for(config)


def _worker_chunk(documents: list[Document]) -> list[Any]:
    return analyze_chunk(documents, _WORKER_CONFIG or DEFAULT)


def ingest(inputs: Iterable[str], store: Store, *, config: Config = DEFAULT,
           workers: int = 1, engine: str = "local", address: str | None = None,
           kind: str = "auto", fetcher: collect_mod.Fetcher | None = None,
           text_column: str | None = None, progress: bool = False,
           chunk_size: int | None = None, ray_window: int = 4096,
           items: Iterable[collect_mod.Item] | None = None,
           meta: MetaOptions | None = None, claims: bool = True,
           db: str | None = None, worker_cpus: float | None = None) -> IngestReport:
    """Collect, analyse and store every article of ``inputs``; see the module docstring.

    ``engine="ray"`` with a PostgreSQL store: the workers read the inputs (files,
    folders, globs; shards), analyse and write (corpus.distributed); ``db`` is the
    store's URL the workers open (default: the store's own), ``worker_cpus`` the CPUs
    Ray reserves per actor (default 0.5).

    ``claims``: also match each new article's claims with the corpus's and keep them
    in the store (crossoutlet), so that ``trace`` and ``claims`` answer at once.

    ``meta``: field mapping, default outlet and date of the inputs (inputs.metadata).

    ``items`` replaces collection with a ready stream (Collected | Failure).
    ``progress`` shows a bar with rate and ETA on stderr.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}", hint="use local or ray")
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    if address is not None:
        if engine != "ray":
            raise ConfigError(f"a cluster address does nothing with the {engine} engine",
                              hint="use engine='ray' (--engine ray), or no address")
        from .distributed import check_cluster

        check_cluster(address, store)
    inputs = list(inputs)
    if engine == "ray":
        from .distributed import workers_write

        if workers_write(store):
            from .distributed import ingest_on_cluster

            return ingest_on_cluster(
                inputs, store, db=db, config=config, workers=workers, address=address,
                kind=kind, fetcher=fetcher, text_column=text_column, progress=progress,
                chunk_size=chunk_size, items=items, meta=meta, claims=claims,
                worker_cpus=worker_cpus)
    started = time.perf_counter()
    report = IngestReport()
    bar = None
    if progress:
        from tqdm import tqdm

        total = collect_mod.estimate(inputs, kind) if items is None else None
        bar = tqdm(total=total, unit="article", desc="ingest", dynamic_ncols=True,
                   smoothing=0.1)
    run = _Run(store, report, bar, claims)
    from ..pipeline import model_info

    run.model = model_info(config)
    if items is None:
        def skip(url: str) -> bool:
            return bool(store.known_inputs([url]))

        items = collect_mod.collect(inputs, config=config, kind=kind, fetcher=fetcher,
                                    skip=skip, text_column=text_column, meta=meta)
    size = chunk_size or config.batch_size
    try:
        if engine == "ray":
            _ingest_ray(run, iter(items), config, workers, address, size, ray_window)
        elif workers == 1:
            for chunk in _chunks(run, iter(items), size):
                run.store_results(chunk, analyze_chunk([c.document for c in chunk], config))
        else:
            _ingest_pool(run, iter(items), config, workers, size)
        run.complete_claims()
    finally:
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _ingest_pool(run: _Run, items: Iterator[collect_mod.Item], config: Config,
                 workers: int, size: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    # a worker is replaced after WORKER_CHUNKS chunks, so that what spaCy's vocabulary
    # gathers over a long run is given back (one model load per ~1,000 articles)
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                initargs=(config,), max_tasks_per_child=WORKER_CHUNKS) as pool:
        pending: dict[cf.Future, list[collect_mod.Collected]] = {}

        def drain(block_until: int) -> None:
            while len(pending) > block_until:
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    chunk = pending.pop(fut)
                    try:
                        results = fut.result()
                    except Exception as exc:  # a worker died (killed, out of memory)
                        results = [exc] * len(chunk)
                    run.store_results(chunk, results)

        for chunk in _chunks(run, items, size):
            drain(2 * workers - 1)
            pending[pool.submit(_worker_chunk, [c.document for c in chunk])] = chunk
        drain(0)


def _ingest_ray(run: _Run, items: Iterator[collect_mod.Item], config: Config, workers: int,
                address: str | None, size: int, window: int) -> None:
    """Ray analyses, this process writes: for a store the workers cannot open."""
    from .distributed import ingest_analysis_only

    ingest_analysis_only(run, items, config, workers, address, size, window)


# --------------------------------------------------------------------------- export

def _counted(a: Any, selection: Any) -> tuple[dict[int, int | None], set[int]]:
    """The attributions of one article that ``selection`` counts, each with its parent
    re-hung on the nearest counted ancestor, and those left out as in an editor's note,
    a caption or a credit (corpus.counted)."""
    from .counted import dropped_in_notes, kept

    atts = a.analysis.attributions
    notes = dropped_in_notes(a.text, {i: att.cue[0].start for i, att in enumerate(atts) if att.cue})
    rows = ((i, att.parent if att.parent is not None and 0 <= att.parent < len(atts) else None,
             att.act, att.confidence) for i, att in enumerate(atts))
    return kept(rows, selection, notes), notes


def _article_row(a: Any, selection: Any, links: Any = None) -> dict[str, Any]:
    row = a.summary()
    keep, _ = _counted(a, selection)
    row["n_attributions"] = len(keep)
    row["month"] = a.date[:7] if a.date and len(a.date) >= 7 else None
    row.update(profile_columns(a.analysis.profile))
    row["text"] = a.text
    row["profile"] = json.dumps(a.analysis.profile) if a.analysis.profile is not None else None
    row["raw"] = a.raw
    row["analysis"] = a.analysis.to_dict()
    return row


#: the sourcing profile's figures exported as columns of their own (docs/profile.md)
PROFILE_COLUMNS = ("transparency", "identity_component", "sourcing_component",
                   "directness_component", "corroboration_component", "diversity_component",
                   "checkworthy_unattributed_share", "longest_hearsay_chain")


def profile_columns(profile: dict[str, Any] | None) -> dict[str, Any]:
    """The transparency score, each of its components by name, the share of check-worthy
    statements left unattributed and the longest hearsay chain (None where absent)."""
    out: dict[str, Any] = dict.fromkeys(PROFILE_COLUMNS)
    if not isinstance(profile, dict):
        return out
    t = profile.get("transparency") or {}
    out["transparency"] = t.get("score")
    for c in t.get("components") or ():
        key = f"{c.get('name')}_component"
        if key in out:
            out[key] = c.get("value")
    out["checkworthy_unattributed_share"] = (profile.get("assertions") or {}).get(
        "checkworthy_unattributed_share")
    out["longest_hearsay_chain"] = (profile.get("hearsay") or {}).get("longest_chain")
    return out


def _key_of(links: Any, sid: int | None) -> tuple[Any, Any, Any, Any]:
    return (links or {}).get(sid, (None, None, None, None)) if sid is not None else (None,) * 4


def _attribution_rows(a: Any, selection: Any, links: Any = None) -> Iterator[dict[str, Any]]:
    from ..sources.entities import corpus_identity

    analysis = a.analysis
    keep, _ = _counted(a, selection)
    for i, parent in keep.items():
        att = analysis.attributions[i]
        s = analysis.source_of(att)
        entity_id, entity, _ext, key = _key_of(links, att.source_id)
        yield {
            "article_id": a.id, "outlet": a.outlet, "date": a.date, "url": a.url, "idx": i,
            "act": att.act or "speech", "kind": att.kind, "speaker": att.speaker,
            "source_id": att.source_id, "entity_id": entity_id, "entity": entity,
            "source_identity": corpus_identity(s.name, s.identity, key) if s else "unspecified",
            "source_kind": s.kind if s else None,
            "source_text": analysis.span_text(att.source),
            "cue": analysis.span_text(att.cue),
            "content": analysis.span_text(att.content),
            "parent": parent, "rule": att.rule, "confidence": att.confidence,
            "offsets": json.dumps(att.offsets()), "record_id": a.record_id,
        }


def _source_rows(a: Any, selection: Any, links: Any = None) -> Iterator[dict[str, Any]]:
    """One row per source; ``links`` (source id -> entity id, name, external id, key)
    gives its corpus entity; ``n_attributions`` counts its counted attributions."""
    from ..sources.entities import corpus_identity

    keep, _ = _counted(a, selection)
    for s in a.analysis.sources:
        entity_id, entity, external_id, key = _key_of(links, s.id)
        yield {
            "article_id": a.id, "outlet": a.outlet, "date": a.date, "source_id": s.id,
            "name": s.name, "identity": corpus_identity(s.name, s.identity, key),
            "article_identity": s.identity, "kind": s.kind, "role": s.role,
            "channel": s.channel, "hearsay_depth": s.hearsay_depth,
            "n_attributions": sum(1 for i in s.attributions if i in keep),
            "n_mentions": len(s.mentions),
            "record_id": a.record_id, "entity_id": entity_id, "entity": entity,
            "entity_external_id": external_id, "referred_as": s.referred_as,
        }


_ROWS: dict[str, Callable[..., Iterable[dict[str, Any]]]] = {
    "articles": lambda a, selection, links: [_article_row(a, selection, links)],
    "attributions": _attribution_rows,
    "sources": _source_rows,
}


def _links(store: Store, article_id: int) -> dict[int, tuple[Any, Any, Any, Any]]:
    """Source id -> (entity id, name, external id, key) for one stored article."""
    if hasattr(store, "read_sql") and getattr(store, "has_table", lambda n: False)("entities"):
        return {int(r[0]): (r[1], r[2], r[3], r[4]) for r in store.read_sql(
            "SELECT s.idx, e.id, e.name, e.external_id, e.key FROM sources s JOIN entities e "
            "ON e.id = s.entity_id WHERE s.article_id = ?", [article_id])}
    if hasattr(store, "entity_links"):
        index = store._entities() if hasattr(store, "_entities") else None
        return {sid: (*v, index.by_id[v[0]].key if index and v[0] in index.by_id else None)
                for sid, v in store.entity_links(article_id).items()}
    return {}


def export(store: Store, out: str | TextIO, *, format: str = "jsonl",
           table: str = "articles", keep_formulas: bool = False, selection: Any = None) -> int:
    """Write the corpus to ``out`` (a path, or a text stream for jsonl/csv).

    One row per article, attribution or source (``table``), with the same columns in
    every format (``COLUMNS``, docs/data-dictionary.md): JSON lines, CSV, Parquet. The
    attributions are those ``selection`` counts (corpus.counted; default
    DEFAULT_SELECTION), each row naming them (``counted_acts``, ``min_confidence``; in
    Parquet also the file's metadata), with its ``act``, ``source_id``, ``entity_id``
    (join the sources table on article_id and source_id) and ``parent`` (an integer,
    null at the top; re-hung on the nearest counted ancestor). Articles carry their full
    Analysis in ``analysis`` (an object in JSON lines, JSON text in CSV and Parquet).
    In CSV, a text cell that starts with = + - @ (or a tab or carriage return) gets a
    leading ``'`` so that a spreadsheet shows it rather than running it as a formula
    (article text is untrusted: ``=HYPERLINK(...)``); ``keep_formulas=True`` writes
    the cells as they are. Returns the number of rows written.
    """
    from .counted import DEFAULT_SELECTION

    selection = selection or DEFAULT_SELECTION
    if format not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {format!r}", hint="use jsonl, csv or parquet")
    if table not in EXPORT_TABLES:
        raise ConfigError(f"unknown table {table!r}", hint="use articles, attributions or sources")
    columns = _columns(table)
    counted = {"counted_acts": selection.acts_text(), "min_confidence": selection.min_confidence}

    def rows() -> Iterator[dict[str, Any]]:
        for a in store.iter_articles():
            links = _links(store, a.id) if table != "articles" else None
            for row in _ROWS[table](a, selection, links):
                row.update(counted)
                yield {c: row.get(c) for c in columns}

    if format == "parquet":
        return _write_parquet(rows(), out, table, selection)
    own = isinstance(out, str)
    f = open(out, "w", encoding="utf-8", newline="") if own else out
    n = 0
    try:
        if format == "jsonl":
            for row in rows():
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        else:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for row in rows():
                row = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                       for k, v in row.items()}
                writer.writerow(row if keep_formulas else _defused(row))
                n += 1
    finally:
        if own:
            f.close()
    return n


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defused(row: dict[str, Any]) -> dict[str, Any]:
    """The row with every text cell that a spreadsheet would read as a formula quoted."""
    return {k: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v
            for k, v in row.items()}


_COUNTED_COLUMNS = {"counted_acts": "str", "min_confidence": "float"}

# column name -> type, per table (the one column set of every format: jsonl, csv, parquet;
# docs/data-dictionary.md describes each)
COLUMNS: dict[str, dict[str, str]] = {
    "articles": {"id": "int", "content_hash": "str", "outlet": "str", "url": "str",
                 "canonical_url": "str", "title": "str", "author": "str", "date": "date",
                 "input": "str", "input_kind": "str", "added_at": "str", "n_attributions": "int",
                 "n_sources": "int", "text": "str", "profile": "str",
                 "record_id": "str", "month": "str", "transparency": "float",
                 "identity_component": "float", "sourcing_component": "float",
                 "directness_component": "float", "corroboration_component": "float",
                 "diversity_component": "float", "checkworthy_unattributed_share": "float",
                 "longest_hearsay_chain": "int", "raw": "str", "analysis": "json",
                 **_COUNTED_COLUMNS},
    "attributions": {"article_id": "int", "outlet": "str", "date": "date", "url": "str",
                     "idx": "int", "act": "str", "kind": "str", "speaker": "str",
                     "source_id": "int", "entity_id": "int", "entity": "str",
                     "source_identity": "str", "source_kind": "str", "source_text": "str",
                     "cue": "str", "content": "str", "parent": "int", "rule": "str",
                     "confidence": "float", "offsets": "str", "record_id": "str",
                     **_COUNTED_COLUMNS},
    "sources": {"article_id": "int", "outlet": "str", "date": "date", "source_id": "int",
                "name": "str", "identity": "str", "article_identity": "str", "kind": "str",
                "role": "str", "channel": "str", "hearsay_depth": "int", "n_attributions": "int",
                "n_mentions": "int", "record_id": "str", "entity_id": "int", "entity": "str",
                "entity_external_id": "str", "referred_as": "str", **_COUNTED_COLUMNS},
}


def _columns(table: str) -> list[str]:
    return list(COLUMNS[table])


def _as_date(value: Any) -> Any:
    import datetime

    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _write_parquet(rows: Iterator[dict[str, Any]], out: str | TextIO, table: str,
                   selection: Any) -> int:
    """Parquet with typed columns: integers as nullable int64 (pandas reads them as Int64,
    never float), dates as date32, the Analysis as JSON text; the counted attributions in
    the file's metadata (``sourcetrace.counted``)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ConfigError("Parquet export needs pyarrow",
                          hint="pip install 'sourcetrace[parquet]'") from exc
    if not isinstance(out, str):
        raise ConfigError("Parquet export needs a file path, not a stream", hint="give -o FILE.parquet")
    types = {"int": pa.int64(), "str": pa.string(), "float": pa.float64(), "date": pa.date32(),
             "json": pa.string()}
    cols = COLUMNS[table]
    pandas_meta = {"index_columns": [], "column_indexes": [], "columns": [
        {"name": c, "field_name": c, "pandas_type": "int64" if t == "int" else "unicode"
         if t in ("str", "json") else "date" if t == "date" else "float64",
         "numpy_type": "Int64" if t == "int" else "object" if t in ("str", "json", "date")
         else "float64", "metadata": None} for c, t in cols.items()],
        "creator": {"library": "sourcetrace"}, "pandas_version": "2.0.0"}
    schema = pa.schema([(name, types[t]) for name, t in cols.items()]).with_metadata({
        b"pandas": json.dumps(pandas_meta).encode(),
        b"sourcetrace.counted": json.dumps(selection.to_dict()).encode()})
    dates = [name for name, t in cols.items() if t == "date"]
    jsons = [name for name, t in cols.items() if t == "json"]
    n = 0
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(out, schema) as writer:
        for row in rows:
            for name in dates:   # ISO text -> a date; a partial date (YYYY-MM) has none
                row[name] = _as_date(row.get(name))
            for name in jsons:
                row[name] = json.dumps(row[name], ensure_ascii=False) if row.get(name) is not None else None
            batch.append(row)
            n += 1
            if len(batch) >= 1000:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch.clear()
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    return n


# --------------------------------------------------------------------------- reanalyze

REANALYZE_FILTERS = ("outlet", "since", "until", "model")


@dataclass
class ReanalyzeReport:
    """What a reanalyze run did. ``updated``: articles analysed again with the current
    model (their ids in ``ids``); ``current``: already analysed by it, left alone;
    ``failed``: the analysis failed (the stored one is kept)."""

    model: str = ""
    model_version: str = ""
    updated: int = 0
    current: int = 0
    failed: int = 0
    ids: list[int] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _matches(article: Any, where: dict[str, str]) -> bool:
    for key, value in where.items():
        if key == "outlet" and article.outlet != value:
            return False
        if key == "since" and not (article.date and article.date >= value):
            return False
        if key == "until" and not (article.date and article.date[:len(value)] <= value):
            return False
        if key == "model" and (article.model or "none") != value:
            return False
    return True


def reanalyze(store: Store, *, config: Config = DEFAULT, where: dict[str, str] | None = None,
              batch_size: int = 16, progress: bool = False,
              on_update: Callable[[int], None] | None = None) -> ReanalyzeReport:
    """Analyse again, with the model ``config`` selects, every stored article that another
    model (or an unrecorded one) analysed; ``where`` narrows them (outlet, since, until:
    the article's date, ISO; model: the stored model's name, ``none`` for unrecorded).

    Resumable and idempotent: each article's new analysis, derived rows and model are
    replaced in one transaction, and an article the current model analysed is skipped,
    so a run killed at any point and run again analyses each remaining article once.
    The text and columns stay; the claims of cross-outlet matching are left as stored.
    """
    from ..pipeline import model_info

    where = dict(where or {})
    unknown = sorted(set(where) - set(REANALYZE_FILTERS))
    if unknown:
        raise ConfigError(f"unknown reanalyze filter {unknown[0]!r}",
                          hint=f"use {', '.join(REANALYZE_FILTERS)} (KEY=VALUE)")
    name, version = model_info(config)
    report = ReanalyzeReport(model=name, model_version=version)
    todo: list[int] = []
    for article in store.iter_articles():
        if not _matches(article, where):
            continue
        if article.model == name and article.model_version == version:
            report.current += 1
        else:
            todo.append(article.id)
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="article", desc="reanalyze", dynamic_ncols=True)

    def documents() -> Iterator[tuple[int, Document]]:
        for article_id in todo:
            article = store.get(article_id)
            if article is None or (article.model == name and article.model_version == version):
                continue              # deleted, or done meanwhile by another run
            a = article.analysis
            yield article_id, Document(text=a.text, meta=dict(a.meta), warnings=a.warnings)

    pending = documents()
    while True:
        chunk = list(islice(pending, batch_size))
        if not chunk:
            break
        # one bad article must not cost the others
        results = analyze_chunk([d for _, d in chunk], config)
        for (article_id, _), result in zip(chunk, results):
            if isinstance(result, Analysis) and store.replace_analysis(
                    article_id, result, model=name, model_version=version):
                report.updated += 1
                report.ids.append(article_id)
                if on_update is not None:
                    on_update(article_id)
            elif not isinstance(result, Analysis):
                report.failed += 1
                report.failures.append((article_id, str(result)))
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return report

