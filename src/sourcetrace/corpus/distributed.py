"""Ingest on Ray (``engine="ray"``): the workers read, analyse and write.

    ingest_on_cluster(inputs, store, workers=8, address="HEAD:6379")  -> IngestReport

With a PostgreSQL store every node can reach, this process (the driver) only plans and
counts: it expands the inputs (paths, folders, globs) into shards, and Ray Data reads
the shards on the cluster (``_read_shards``: the project's own readers, so that JSON
lines, CSV, WARC, feeds and folders give the same articles, input names and failures
as the local engine), then hands them in batches to an actor pool (``RayWriter``).
Each actor opens the store once, skips what is stored (by content hash), analyses the
rest, writes the batch in one transaction (``add_many``: idempotent by content hash)
and builds each new article's claims, vectors and matches into the store
(``CrossOutlet.add_stored``, reading only the claim batches written since its last
read); it returns counts only. A run killed at any point (even ``kill -9``) leaves
whole batches; the next run with the same inputs skips them and writes the rest, and
completes the claims of any article stored without them (``_complete_claims``), so
nothing is lost or doubled. URLs given as inputs are fetched by the driver (one polite
fetcher), their pages analysed and written on the cluster like the rest.

With a store only this process can reach (memory; a SQLite file on a local Ray) the
actors analyse (``RayAnalyzer``) and the driver writes (``ingest_analysis_only``).
"""
from __future__ import annotations

import glob
import json
import os
import sys
import time
from typing import Any, Callable, Iterable, Iterator

from ..config import DEFAULT, Config
from ..errors import ConfigError, InputError, SourcetraceError
from ..inputs import collect as collect_mod
from ..inputs.metadata import MetaOptions
from ..inputs.read import Document
from ..model import Analysis
from .batch import IngestReport, _chunks, _Run, analyze_chunk, limit_blas_threads
from .store import Store, open_store

__all__ = ["READ_CPUS", "RayAnalyzer", "RayWriter", "check_cluster", "expand_inputs",
           "ingest_analysis_only", "ingest_on_cluster", "plan_shards", "workers_write"]

ACTOR_CPUS = 0.5   # CPUs Ray reserves per analysing actor (default; ingest(worker_cpus=))
READ_CPUS = 0.25   # CPUs Ray reserves per shard-reading task
ESTIMATE_BYTES = 1 << 30   # the progress bar counts the input lines up to this size only
_GLOB = ("*", "?", "[")


class RayAnalyzer:
    """Ray Data callable class: each actor loads the model once, then analyses batches.

    Batches are dicts of numpy arrays with columns ``i``, ``text`` and ``meta`` (JSON);
    the output has ``i``, ``analysis`` (JSON, "" on failure), ``error`` and ``code``.
    """

    def __init__(self, config: Config = DEFAULT) -> None:
        from .. import pipeline

        self.config = config
        pipeline.load_for(config)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        docs = [Document(text=str(t), meta=json.loads(str(m)))
                for t, m in zip(batch["text"], batch["meta"])]
        results = analyze_chunk(docs, self.config)
        analysis, error, code = [], [], []
        for r in results:
            if isinstance(r, Analysis):
                analysis.append(r.to_json())
                error.append("")
                code.append("")
            else:
                analysis.append("")
                error.append(str(r) if isinstance(r, SourcetraceError)
                             else f"{type(r).__name__}: {r}")
                code.append(getattr(r, "code", "error"))
        return {"i": np.asarray(batch["i"]), "analysis": np.asarray(analysis, dtype=object),
                "error": np.asarray(error, dtype=object), "code": np.asarray(code, dtype=object)}



def check_cluster(address: str, store: Store, *, timeout: float = 5.0) -> None:
    """Refuse what cannot work on an existing Ray cluster, in seconds rather than after
    Ray's own long retries: a SQLite store (one machine's file: the cluster's nodes and
    the commands run after on other machines do not see it; use PostgreSQL) and an
    address nothing answers on. ``auto`` (the cluster this machine belongs to) is left
    to Ray."""
    import socket
    from urllib.parse import urlsplit

    if getattr(store, "backend", None) == "sqlite":
        raise ConfigError("a SQLite corpus cannot be shared with a Ray cluster: it is a file "
                          "on this machine only",
                          hint="give --db postgresql://... reachable from every node (see the "
                               "README: Running on a Ray cluster)")
    if address in ("auto", "local"):
        return
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ConfigError(f"{address!r} is not a Ray address",
                          hint="give HOST:PORT (the head's GCS port, 6379 by default) or "
                               "ray://HOST:10001")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ConfigError(f"no Ray cluster answers at {address}: "
                          f"{exc.strerror or type(exc).__name__} within {timeout:g} s",
                          hint="start it with `ray start --head`, or check the address "
                               "and the firewall") from None


def _connect(ray: Any, address: str, options: dict[str, Any], timeout: float = 10.0) -> None:
    """ray.init(address=...) within ``timeout`` seconds, its failure as one ConfigError
    (Ray itself retries for about 20 s, logging a line a second)."""
    import logging
    import threading

    outcome: dict[str, BaseException] = {}

    def connect() -> None:
        try:
            ray.init(address=address, **{**options, "logging_level": logging.ERROR})
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome["error"] = exc

    import tempfile

    # Ray's C++ client logs a line per retry on fd 2: hold them while connecting, give
    # them back on success, drop them on failure (the error says it in one line).
    with tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(held.fileno(), 2)
        try:
            thread = threading.Thread(target=connect, name="ray-connect", daemon=True)
            thread.start()
            thread.join(timeout)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        if not thread.is_alive() and "error" not in outcome:
            held.seek(0)
            sys.stderr.write(held.read().decode("utf-8", "replace"))
    hint = ("check the address (the head's `ray start --head --port`), that this machine can "
            "reach it, and that both run the same Ray and Python versions")
    if thread.is_alive():
        raise ConfigError(f"the Ray cluster at {address} did not answer within {timeout:g} s",
                          hint=hint)
    if "error" in outcome:
        raise ConfigError(f"cannot join the Ray cluster at {address}: {outcome['error']}",
                          hint=hint) from None


def _start_ray(workers: int, address: str | None) -> Any:
    """The ``ray`` module, connected: to ``address``, else to a Ray this process already
    joined, else to a local Ray of ``workers`` CPUs started for the run."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ConfigError("the ray engine needs Ray", hint="pip install 'sourcetrace[ray]'") from exc
    import logging

    if not ray.is_initialized():
        quiet = {"include_dashboard": False, "log_to_driver": False,
                 "logging_level": logging.WARNING}
        if address:
            _connect(ray, address, quiet)
        else:
            ray.init(num_cpus=workers, **quiet)
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # our own bar reports progress
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    return ray


def ingest_analysis_only(run: _Run, items: Iterator[collect_mod.Item], config: Config,
                         workers: int, address: str | None, size: int, window: int) -> None:
    """The actors analyse, this process dedups and writes (``run``): for a store only this
    process can reach (memory, a SQLite file on a local Ray). Fed in windows of
    ``window`` articles."""
    ray = _start_ray(workers, address)
    from ray.data import ActorPoolStrategy

    buf: list[collect_mod.Collected] = []

    def flush() -> None:
        if not buf:
            return
        rows = [{"i": i, "text": c.document.text, "meta": json.dumps(c.document.meta)}
                for i, c in enumerate(buf)]
        ds = ray.data.from_items(rows).map_batches(
            RayAnalyzer, fn_constructor_kwargs={"config": config}, batch_size=size,
            compute=ActorPoolStrategy(size=workers), num_cpus=0.5, batch_format="numpy")
        done: list[collect_mod.Collected] = []
        results: list[Any] = []
        for row in ds.iter_rows():
            c = buf[int(row["i"])]
            if row["analysis"]:
                results.append(Analysis.from_json(row["analysis"]).replace(
                    warnings=c.document.warnings))
            else:
                results.append(_RayError(row["error"], row["code"]))
            done.append(c)
            if len(done) >= size:
                run.store_results(done, results)
                done, results = [], []
        run.store_results(done, results)
        buf.clear()

    for chunk in _chunks(run, items, size):
        buf.extend(chunk)
        if len(buf) >= window:
            flush()
    flush()


class _RayError(SourcetraceError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code or "error"


# --------------------------------------------------------------------------- workers that write

def workers_write(store: Store) -> bool:
    """Whether the workers can open ``store`` themselves (a database server: PostgreSQL)."""
    return getattr(store, "backend", None) == "postgres"


def _dsn_of(store: Store, db: str | None) -> str:
    for value in (db, getattr(store, "dsn", None), getattr(store, "url", None)):
        if value:
            return str(value)
    raise ConfigError("the Ray workers need the store's URL to write to it",
                      hint="pass db='postgresql://...' (the command line does)")


def expand_inputs(inputs: Iterable[str]) -> list[str]:
    """The inputs with each glob pattern (``shards/*.jsonl``, ``**``) replaced by the
    paths it matches, sorted; a pattern that matches nothing is an InputError. URLs and
    paths that exist are kept as they are."""
    out: list[str] = []
    for target in inputs:
        target = str(target)
        if target.lower().startswith(("http://", "https://")) or os.path.lexists(target) \
                or not any(c in target for c in _GLOB):
            out.append(target)
            continue
        found = sorted(glob.glob(target, recursive=True))
        if not found:
            raise InputError(f"no file matches {target}", hint="check the pattern; nothing was "
                             "read or stored")
        out.extend(found)
    return out


def plan_shards(inputs: Iterable[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(shards, urls): every file or folder as a shard read on the cluster, as (the
    absolute path the nodes open, the name the user gave, which names its articles);
    the URLs, fetched by the driver. Folders and files must be at the same path on every
    node (a shared file system)."""
    shards, urls = [], []
    for target in inputs:
        if target.lower().startswith(("http://", "https://")):
            urls.append(target)
        else:
            shards.append((os.path.abspath(target), target))
    return shards, urls


def _bytes(paths: Iterable[str]) -> int:
    """The size of the files among ``paths`` (folders count as nothing)."""
    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_size if os.path.isfile(path) else 0
        except OSError:
            continue
    return total


def _encode(item: collect_mod.Item) -> str:
    """One collected article or failure as JSON (a row between the readers and actors)."""
    if isinstance(item, collect_mod.Failure):
        return json.dumps({"input": item.input, "reason": item.reason, "code": item.code},
                          ensure_ascii=False)
    d = item.document
    return json.dumps({"input": item.input, "text": d.text, "meta": d.meta,
                       "warnings": list(d.warnings), "kind": item.kind, "raw": item.raw},
                      ensure_ascii=False)


def _decode(row: str) -> collect_mod.Item:
    r = json.loads(row)
    if "reason" in r:
        return collect_mod.Failure(r["input"], r["reason"], r["code"])
    return collect_mod.Collected(r["input"], Document(r["text"], r["meta"], tuple(r["warnings"])),
                                 r["kind"], r["raw"])


def _renamed(item: collect_mod.Item, path: str, name: str) -> collect_mod.Item:
    """The item named after the input as given (``name``) rather than the absolute path
    the node read, as the local engine names it."""
    if path == name or not item.input.startswith(path):
        return item
    input = name + item.input[len(path):]
    if isinstance(item, collect_mod.Failure):
        return collect_mod.Failure(input, item.reason.replace(path, name), item.code)
    doc = item.document
    meta = doc.meta
    if isinstance(meta.get("path"), str) and meta["path"].startswith(path):
        meta = {**meta, "path": name + meta["path"][len(path):]}
    return collect_mod.Collected(input, Document(doc.text, meta, doc.warnings), item.kind,
                                 item.raw)


def _read_shards(batch: dict[str, Any], *, config: Config, kind: str,
                 meta: MetaOptions | None, text_column: str | None,
                 size: int) -> Iterator[dict[str, Any]]:
    """Ray Data (task): read each shard of the batch with the project's readers, yielding
    its articles and failures in batches of ``size`` encoded rows."""
    import numpy as np

    for path, name in zip(batch["shard"], batch["name"]):
        rows: list[str] = []
        for item in collect_mod.collect([str(path)], config=config, kind=kind,
                                        text_column=text_column, meta=meta):
            rows.append(_encode(_renamed(item, str(path), str(name))))
            if len(rows) >= size:
                yield {"item": np.asarray(rows, dtype=object)}
                rows = []
        if rows:
            yield {"item": np.asarray(rows, dtype=object)}


def _rss_kb() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RayWriter:
    """Ray Data callable class (an actor): opens the store and loads the model once, then
    for each batch of encoded rows records the failures, skips the stored articles,
    analyses and writes the rest with their claims, and returns one row of counts
    (``n``, ``added``, ``duplicates``, ``failed``, ``failures`` as JSON, ``pid``,
    ``rss_kb``, ``cpu_s``: this process's memory and CPU time after the batch)."""

    def __init__(self, db: str, config: Config = DEFAULT, claims: bool = True,
                 gazetteer: Any = None) -> None:
        limit_blas_threads()
        from .. import pipeline

        self.config = config
        pipeline.load_for(config)
        self.store = open_store(db)
        if gazetteer is not None:
            self.store.gazetteer = gazetteer
        self.run = _Run(self.store, IngestReport(), None, claims)
        self.run.model = pipeline.model_info(config)
        if self.run.claims:
            from ..crossoutlet.corroboration import CrossOutlet

            # the claims the store holds, read once; each batch then reads only those
            # written since (by any actor): the index grows, never rebuilt
            cross = CrossOutlet()
            cross.load_store(self.store)
            cross.load_factchecks(self.store)
            self.run.cross = cross

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        report = IngestReport()
        run = self.run
        run.report = report
        run.seen = set()        # duplicates within the batch; earlier ones are stored
        items = [_decode(str(row)) for row in batch["item"]]
        for chunk in _chunks(run, iter(items), len(items) or 1):
            run.store_results(chunk, analyze_chunk([c.document for c in chunk], self.config))
        times = os.times()
        return {"n": np.asarray([len(items)]), "added": np.asarray([report.added]),
                "duplicates": np.asarray([report.duplicates]),
                "failed": np.asarray([report.failed]),
                "failures": np.asarray([json.dumps(report.failures[:100])], dtype=object),
                "pid": np.asarray([os.getpid()]), "rss_kb": np.asarray([_rss_kb()]),
                "cpu_s": np.asarray([times.user + times.system])}


def _complete_claims(db: str) -> int:
    """Ray task: build the claims of stored articles that have none (a run killed between
    an article and its claims); how many."""
    from ..crossoutlet.corroboration import sync_with_store

    done: list[str] = []
    with open_store(db) as store:
        sync_with_store(store, progress=done.append)
    return len(done)


def ingest_on_cluster(inputs: Iterable[str], store: Store, *, db: str | None = None,
                      config: Config = DEFAULT, workers: int = 1, address: str | None = None,
                      kind: str = "auto", fetcher: collect_mod.Fetcher | None = None,
                      text_column: str | None = None, progress: bool = False,
                      chunk_size: int | None = None,
                      items: Iterable[collect_mod.Item] | None = None,
                      meta: MetaOptions | None = None, claims: bool = True,
                      worker_cpus: float | None = None,
                      on_batch: Callable[[dict[str, Any]], None] | None = None) -> IngestReport:
    """Ingest with workers that read and write (see the module docstring); ``store`` is
    used here only for a few reads (the pending claims). ``on_batch`` is called with each
    batch's counts (one dict per batch: see RayWriter). ``items`` replaces reading the
    inputs with a ready stream, sent from here to the workers."""
    started = time.perf_counter()
    dsn = _dsn_of(store, db)
    report = IngestReport()
    shards, urls = plan_shards(expand_inputs(inputs)) if items is None else ([], [])
    bar = None
    if progress:
        from tqdm import tqdm

        total = collect_mod.estimate([s for s, _ in shards] + urls, kind) \
            if items is None and _bytes([s for s, _ in shards]) <= ESTIMATE_BYTES else None
        bar = tqdm(total=total, unit="article", desc="ingest", dynamic_ncols=True,
                   smoothing=0.1)
    try:
        ray = _start_ray(workers, address)
        from ray.data import ActorPoolStrategy

        size = chunk_size or config.batch_size
        parts = []
        if shards:
            parts.append(ray.data.from_items(
                [{"shard": path, "name": name} for path, name in shards],
                override_num_blocks=len(shards)).map_batches(
                _read_shards, batch_size=1, num_cpus=READ_CPUS, batch_format="numpy",
                fn_kwargs={"config": config, "kind": kind, "meta": meta,
                           "text_column": text_column, "size": size}))
        if items is None and urls:
            def skip(url: str) -> bool:
                return bool(store.known_inputs([url]))

            items = collect_mod.collect(urls, config=config, kind=kind, fetcher=fetcher,
                                        skip=skip, text_column=text_column, meta=meta)
        if items is not None:
            rows = [{"item": _encode(item)} for item in items]
            if rows:
                parts.append(ray.data.from_items(rows))
        if parts:
            ds = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
            out = ds.map_batches(
                RayWriter, batch_size=size, compute=ActorPoolStrategy(size=workers),
                num_cpus=worker_cpus or ACTOR_CPUS, batch_format="numpy",
                fn_constructor_kwargs={"db": dsn, "config": config, "claims": claims,
                                       "gazetteer": getattr(store, "gazetteer", None)})
            for counts in out.iter_rows():
                report.added += int(counts["added"])
                report.duplicates += int(counts["duplicates"])
                report.failed += int(counts["failed"])
                room = 1000 - len(report.failures)
                if room > 0:
                    report.failures.extend(tuple(f) for f in
                                           json.loads(counts["failures"])[:room])
                if bar is not None:
                    bar.update(int(counts["n"]))
                    bar.set_postfix(added=report.added, dup=report.duplicates,
                                    failed=report.failed, refresh=False)
                if on_batch is not None:
                    on_batch(dict(counts))
        if claims and hasattr(store, "articles_without_claims") and store.articles_without_claims():
            task = ray.remote(_complete_claims).options(num_cpus=worker_cpus or ACTOR_CPUS)
            ray.get(task.remote(dsn))
    finally:
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - started
    return report
