"""One ingest's bookkeeping, shared by every engine (corpus.runner's local engine and
corpus.distributed's Ray engine): the record stored for an analysed article, the analysis
of a chunk (one bad article costs only itself), and ``_Run`` (duplicates by content hash,
writes, failures, claims, progress).

    make_record(collected, analysis)          -> store.ArticleRecord
    analyze_chunk(documents, config)          -> [Analysis | Exception, ...]
"""
from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from ..config import DEFAULT, Config
from ..errors import DocumentTimeoutError, SourcetraceError, StoreError
from ..inputs import collect as collect_mod
from ..inputs.metadata import outlet_of, parse_date
from ..inputs.read import Document
from ..model import Analysis
from .store import ArticleRecord, Store, content_hash

__all__ = ["IngestReport", "analyze_chunk", "canonical_url", "exit_with_parent",
           "limit_blas_threads", "make_record"]


@dataclass
class IngestReport:
    """What a run did. ``duplicates``: articles already stored (or seen twice in the run);
    ``skipped``: URLs not fetched because they are stored."""

    added: int = 0
    duplicates: int = 0
    failed: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- records

def canonical_url(url: str | None) -> str | None:
    """The URL normalised by courlan (tracking parameters dropped, host lower-cased),
    without its #fragment; None when there is no usable http(s) URL."""
    if not url or not re.match(r"https?://", url, re.I):
        return None
    try:
        from courlan import normalize_url

        clean = normalize_url(url, strict=True)
    except Exception:  # courlan raises on malformed URLs in several ways
        return None
    parts = urlsplit(clean)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _iso_date(value: Any) -> str | None:
    """An ISO 8601 date (YYYY, YYYY-MM or YYYY-MM-DD), or None: text that is not a date
    never lands in the date column (collect parses dates and warns about the rest)."""
    if not value:
        return None
    iso, _warning = parse_date(value)
    return iso


def make_record(item: collect_mod.Collected, analysis: Analysis,
                model: tuple[str, str] | None = None) -> ArticleRecord:
    """An analysed article with its corpus columns: outlet = the outlet the input's record
    names or --outlet gave, else the URL's domain, else the page's site name; canonical
    URL, title, author, date (ISO 8601), the input record's id."""
    meta = analysis.meta
    url = meta.get("final_url") or meta.get("url")
    url = url if isinstance(url, str) else None
    given = _str(meta.get("outlet")) if meta.get("outlet_from") else None
    outlet = (given or outlet_of(url) or _str(meta.get("outlet"))
              or _str(meta.get("hostname")))
    record_id = meta.get("id")
    return ArticleRecord(
        analysis=analysis, input=item.input, outlet=outlet, url=url,
        canonical_url=canonical_url(url), title=_str(meta.get("title")),
        author=_str(meta.get("author")), date=_iso_date(meta.get("date")),
        input_kind=item.kind, raw=item.raw,
        record_id=None if record_id is None or isinstance(record_id, bool) else str(record_id),
        # the (name, version) of the model behind the analysis (pipeline.model_info)
        model=model[0] if model else None, model_version=model[1] if model else None)


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None



_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads() -> bool:
    """One BLAS thread per analysing process, unless the user set it (as Ray does for its
    actors): spaCy's small matrices gain little from BLAS threads, and N workers with N
    BLAS threads each would oversubscribe the cores. Only effective before numpy is
    imported; returns whether it was."""
    for var in _BLAS_THREADS:
        os.environ.setdefault(var, "1")
    return "numpy" not in sys.modules



def exit_with_parent(poll: float = 1.0) -> None:
    """Make this (worker) process exit when its parent dies, even by ``kill -9``: on
    Linux the kernel sends SIGKILL (PR_SET_PDEATHSIG); everywhere a daemon thread
    checks every ``poll`` seconds that the parent is still the same process."""
    import threading

    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl
            pass
    if os.getppid() != parent:  # the parent died before the signal was set
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def analyze_chunk(documents: Sequence[Document], config: Config = DEFAULT, *,
                  attributions_only: bool = False) -> list[Analysis | Exception]:
    """Analyse documents as one batch (through nlp.pipe); when the batch fails, the
    documents it had not finished one by one, so that a bad article costs only itself.
    One Analysis or exception per document, in order; a document over the time budget
    gets its DocumentTimeoutError, is not retried, and the rest of the batch goes on.
    ``attributions_only``: see ``pipeline.analyze_documents`` (what extract needs)."""
    from ..pipeline import analyze_documents

    def run(batch: Sequence[Document]) -> Iterator[Analysis]:
        return analyze_documents(batch, config=config, attributions_only=attributions_only)

    out: list[Analysis | Exception] = []
    try:
        for analysis in run(documents):
            out.append(analysis)
        return out
    except DocumentTimeoutError as exc:  # raised for the document after the last done
        rest = documents[len(out) + 1:]
        return [*out, exc, *(analyze_chunk(rest, config, attributions_only=attributions_only)
                             if rest else [])]
    except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
        first_error = exc
    rest = documents[len(out):]
    if len(rest) == 1:  # the one left is the one that failed
        return [*out, first_error]
    for document in rest:
        try:
            out.append(next(run([document])))
        except Exception as exc:  # noqa: BLE001
            out.append(exc)
    return out



# --------------------------------------------------------------------------- the batch

class _Run:
    """Shared bookkeeping of one ingest: dedup, writes, failures, progress."""

    def __init__(self, store: Store, report: IngestReport, progress: Any,
                 claims: bool = True) -> None:
        self.store = store
        self.report = report
        self.progress = progress
        self.seen: set[str] = set()
        self.model: tuple[str, str] | None = None   # recorded with each article (0005)
        self.claims = claims and hasattr(store, "add_claim_batch")
        self.cross: Any = None          # crossoutlet.corroboration.CrossOutlet, on first use

    def add_claims(self, stored: Sequence[tuple[int, ArticleRecord]]) -> None:
        """Match the claims of newly stored articles with the corpus's and write them to
        the store (crossoutlet), so that trace and claims answer at once after ingest."""
        from ..crossoutlet.corroboration import sync_with_store

        if self.cross is None:
            self.cross = sync_with_store(self.store)
        else:
            self.cross.load_store(self.store)      # batches other processes wrote meanwhile
        for article_id, record in stored:
            self.cross.add_stored(self.store, article_id, record.analysis, outlet=record.outlet,
                                  date=record.date, url=record.canonical_url or record.url)

    def complete_claims(self) -> None:
        """Build the claims of stored articles that have none yet (pending: a run killed
        between storing an article and its claims, an ingest without claims), so that
        no article waits for a reader to build them. A cheap check when none is."""
        if not self.claims or not hasattr(self.store, "articles_without_claims"):
            return
        if self.cross is None and not self.store.articles_without_claims():
            return
        from ..crossoutlet.corroboration import sync_with_store

        self.cross = sync_with_store(self.store, cross=self.cross)

    def fail(self, input: str, reason: str, code: str) -> None:
        self.store.record_failure(input, reason, code)
        self.report.failed += 1
        if len(self.report.failures) < 1000:
            self.report.failures.append((input, reason))
        self._tick(1)

    def _tick(self, n: int) -> None:
        if self.progress is not None and n:
            self.progress.update(n)
            self.progress.set_postfix(added=self.report.added, dup=self.report.duplicates,
                                      failed=self.report.failed, refresh=False)

    def new_only(self, items: list[collect_mod.Collected]) -> list[collect_mod.Collected]:
        """Drop articles already stored or already seen in this run."""
        hashes = [content_hash(c.document.text) for c in items]
        known = self.store.known_hashes(hashes)
        fresh = []
        for c, h in zip(items, hashes):
            if h in known or h in self.seen:
                self.report.duplicates += 1
                self._tick(1)
            else:
                self.seen.add(h)
                fresh.append(c)
        return fresh

    def store_results(self, items: Sequence[collect_mod.Collected], results: Sequence[Any]) -> None:
        records = []
        for item, result in zip(items, results):
            if isinstance(result, Analysis):
                records.append(make_record(item, result, self.model))
            elif isinstance(result, SourcetraceError):
                self.fail(item.input, str(result), result.code)
            else:
                self.fail(item.input, f"analysis failed: {type(result).__name__}: {result}", "error")
        try:
            ids = self.store.add_many(records)
            kept = list(zip(ids, records))
        except StoreError:
            # one article the database refuses must not cost the others: one
            # transaction each (a store that is down fails again on its failure record)
            ids, kept = [], []
            for record in records:
                try:
                    ids.extend(self.store.add_many([record]))
                    kept.append((ids[-1], record))
                except StoreError as exc:
                    self.fail(record.input, str(exc), exc.code)
        added = sum(1 for i in ids if i is not None)
        self.report.added += added
        self.report.duplicates += len(ids) - added
        if self.claims and added:
            self.add_claims([(i, r) for i, r in kept if i is not None])
        self._tick(len(ids))


def _chunks(run: _Run, items: Iterator[collect_mod.Item], size: int
            ) -> Iterator[list[collect_mod.Collected]]:
    """New articles in chunks of ``size``; failures recorded on the way."""
    buf: list[collect_mod.Collected] = []
    for item in items:
        if isinstance(item, collect_mod.Failure):
            run.fail(item.input, item.reason, item.code)
            continue
        buf.append(item)
        if len(buf) >= size:
            fresh = run.new_only(buf)
            buf = []
            if fresh:
                yield fresh
    if buf:
        fresh = run.new_only(buf)
        if fresh:
            yield fresh
