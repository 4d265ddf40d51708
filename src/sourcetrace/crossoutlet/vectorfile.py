"""The claim vectors of a SQLite corpus in a file beside it, for a dense search that reads
no claim row: ``ClaimVectors`` (the reader's, stored.py) and ``update_claim_vectors`` (the
writer's: corroboration.CrossOutlet.add_stored calls it after each claim batch)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

__all__ = ["ClaimVectors", "update_claim_vectors", "NDIM"]

NDIM = 384
_ROW = NDIM * 4                      # bytes of one float32 unit vector
_FORMAT = 1                          # version of the files beside the corpus


def _units(blobs: Sequence[bytes]) -> np.ndarray:
    """Unit float32 vectors of stored float16 claim vectors (as ClaimIndex keeps them)."""
    if not blobs:
        return np.zeros((0, NDIM), dtype=np.float32)
    rows = np.frombuffer(b"".join(bytes(b) for b in blobs), dtype=np.float16)
    rows = rows.reshape(-1, NDIM).astype(np.float32)
    return rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12, None)


class ClaimVectors:
    """Exact nearest-neighbour search over a store's claim vectors, without reading the
    claims table.

    Files beside a SQLite corpus ``X.db`` (absent for other stores):
      ``X.db-claimvec.f32``    one row of 384 float32 per claim: its unit vector
      ``X.db-claimvec.rowid``  int64 per row: the claim's rowid in the store
      ``X.db-claimvec.json``   rows in use, the last claim batch they cover, and the
                               rowid and id of the last claim (to tell a stale file, say
                               of a corpus deleted and made again, from a current one)
    The file only grows (``update``, after each claim batch written, under a lock);
    readers memory-map the rows in use and read the claims of later batches from the store
    into memory, so a reader never writes and never waits for a writer.
    """

    def __init__(self, store) -> None:
        self.store = store
        self._rowids = np.zeros(0, dtype=np.int64)
        self._file: np.ndarray = np.zeros((0, NDIM), dtype=np.float32)
        self._tail_rowids = np.zeros(0, dtype=np.int64)
        self._tail = np.zeros((0, NDIM), dtype=np.float32)
        self._ids: dict[int, str] = {}
        self.from_file = 0                # rows read from the file (the rest from the store)
        meta = _read_meta(store)
        seq = 0
        if meta is not None:
            base = _base(store)
            n = int(meta["rows"])
            try:
                self._file = np.memmap(base + ".f32", dtype=np.float32, mode="r",
                                       shape=(n, NDIM)) if n else self._file
                self._rowids = np.fromfile(base + ".rowid", dtype=np.int64, count=n)
            except (OSError, ValueError):
                n = 0
            if len(self._rowids) == n:
                seq, self.from_file = int(meta["seq"]), n
            else:
                self._file, self._rowids = np.zeros((0, NDIM), dtype=np.float32), \
                    np.zeros(0, dtype=np.int64)
        if getattr(store, "backend", None) == "sqlite":
            rows = store.read_sql("SELECT rowid, id, vector FROM claims WHERE batch > ? "
                                  "ORDER BY batch, pos", (seq,))
        else:                         # no rowid (PostgreSQL): keys of this reader's own
            rows = [(-1 - i, cid, vector) for i, (cid, vector) in enumerate(store.read_sql(
                "SELECT id, vector FROM claims WHERE batch > ? ORDER BY batch, pos", (seq,)))]
        if rows:
            self._tail_rowids = np.array([r[0] for r in rows], dtype=np.int64)
            self._tail = _units([r[2] for r in rows])
            self._ids.update((int(r[0]), str(r[1])) for r in rows)

    def __len__(self) -> int:
        return len(self._rowids) + len(self._tail_rowids)

    @property
    def has_graph(self) -> bool:
        return True                   # searched as it is: nothing to build

    def search(self, vectors: np.ndarray, k: int, *, exact: bool | None = None
               ) -> list[list[tuple[str, float]]]:
        """For each query vector, up to ``k`` (claim id, cosine), closest first (exact)."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        units = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        if not len(self) or k <= 0:
            return [[] for _ in units]
        parts = [m @ units.T for m in (self._file, self._tail) if len(m)]
        sims = np.concatenate(parts, axis=0).T                     # queries x claims
        rowids = np.concatenate([self._rowids, self._tail_rowids])
        k = min(k, sims.shape[1])
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < sims.shape[1] else \
            np.tile(np.arange(sims.shape[1]), (len(sims), 1))
        wanted = {int(rowids[j]) for row in top for j in row}
        self._name(wanted)
        out = []
        for r in range(len(units)):
            order = top[r][np.argsort(-sims[r, top[r]], kind="stable")]
            out.append([(self._ids[int(rowids[j])], float(sims[r, j])) for j in order
                        if int(rowids[j]) in self._ids])       # a claim deleted since: left out
        return out

    def _name(self, rowids: Iterable[int]) -> None:
        missing = [r for r in rowids if r not in self._ids]
        for i in range(0, len(missing), 500):
            chunk = missing[i:i + 500]
            self._ids.update((int(r), str(cid)) for r, cid in self.store.read_sql(
                f"SELECT rowid, id FROM claims WHERE rowid IN ({', '.join('?' * len(chunk))})",
                chunk))


def _base(store) -> str:
    return str(store.path) + "-claimvec"


def _file_backed(store) -> bool:
    path = getattr(store, "path", None)
    return getattr(store, "backend", None) == "sqlite" and bool(path) and path != ":memory:" \
        and not str(path).startswith("file:")


def _read_meta(store) -> dict | None:
    """The file's description when it matches the store (else None: the file is ignored)."""
    if not _file_backed(store):
        return None
    try:
        meta = json.loads(Path(_base(store) + ".json").read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT:
            return None
        if meta["seq"]:
            row = store.read_sql("SELECT article_id FROM claim_batches WHERE seq = ?",
                                 (meta["seq"],))
            if not row or int(row[0][0]) != meta["seq_article"]:
                return None
        if meta["rows"]:
            row = store.read_sql("SELECT id FROM claims WHERE rowid = ?", (meta["last_rowid"],))
            if not row or str(row[0][0]) != meta["last_id"]:
                return None
        return meta
    except (OSError, ValueError, KeyError, TypeError):
        return None


def update_claim_vectors(store) -> int:
    """Append the claims of the batches written since to the vector file beside a SQLite
    corpus (made whole on first use, or when it no longer matches the store); the rows
    appended. Called by the writer after each claim batch; does nothing for other stores,
    a store opened read-only, or where the folder cannot be written."""
    if not _file_backed(store) or getattr(store, "readonly", False):
        return 0
    try:
        import fcntl
    except ImportError:               # no advisory locks here: readers use the store alone
        return 0
    base = _base(store)
    try:
        lock = open(base + ".lock", "a+b")
    except OSError:
        return 0
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        meta = _read_meta(store)
        rows_in, seq = (int(meta["rows"]), int(meta["seq"])) if meta else (0, 0)
        top = store.read_sql("SELECT coalesce(max(seq), 0) FROM claim_batches")[0][0]
        if meta is not None and top == seq:
            return 0
        rows = store.read_sql("SELECT rowid, id, vector, batch FROM claims WHERE batch > ? AND "
                              "batch <= ? ORDER BY batch, pos", (seq, top))
        try:
            for suffix, data, width in ((".f32", _units([r[2] for r in rows]), _ROW),
                                        (".rowid", np.array([r[0] for r in rows], np.int64), 8)):
                with open(base + suffix, "a+b") as f:
                    f.truncate(rows_in * width)
                    f.seek(rows_in * width)
                    f.write(np.ascontiguousarray(data).tobytes())
            last_rowid, last_id = (int(rows[-1][0]), str(rows[-1][1])) if rows else \
                ((meta["last_rowid"], meta["last_id"]) if meta else (0, ""))
            article = store.read_sql("SELECT article_id FROM claim_batches WHERE seq = ?",
                                     (top,)) if top else []
            new = {"format": _FORMAT, "rows": rows_in + len(rows), "seq": int(top),
                   "seq_article": int(article[0][0]) if article else None,
                   "last_rowid": last_rowid, "last_id": last_id}
            tmp = base + ".json.tmp"
            Path(tmp).write_text(json.dumps(new), encoding="utf-8")
            os.replace(tmp, base + ".json")
        except OSError:
            return 0                  # a read-only folder: readers read the store instead
    return len(rows)
