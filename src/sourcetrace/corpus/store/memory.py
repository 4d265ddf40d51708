"""An in-process store for unit tests: the same contract, dicts underneath.

Search matches lower-cased word tokens (no stemming): exact words and phrases.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterable, Iterator

from ...errors import ClaimsChangedError, StoreError
from ...model import Analysis
from ..counted import dropped_in_notes
from . import (
    MARK_CLOSE,
    MARK_OPEN,
    ArticleRecord,
    ClaimBatch,
    FailureRecord,
    Hits,
    SearchHit,
    SourceCount,
    StoredArticle,
    aggregate_entities,
    check_filters,
    index_rows,
    now_iso,
    parse_query,
)


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in re.findall(r"\w+", text)]


def _has(tokens: list[str], term: tuple[str, ...]) -> bool:
    n = len(term)
    return any(tuple(tokens[i:i + n]) == term for i in range(len(tokens) - n + 1))


def _snippet(body: str, term: tuple[str, ...], width: int = 80) -> str:
    m = re.search(r"\W+".join(re.escape(t) for t in term), body, re.IGNORECASE)
    if not m:
        return body[:width]
    start = max(0, m.start() - width // 2)
    end = min(len(body), m.end() + width // 2)
    return (("…" if start else "") + body[start:m.start()] + MARK_OPEN + m.group(0) + MARK_CLOSE
            + body[m.end():end] + ("…" if end < len(body) else ""))


class MemoryStore:
    backend = "memory"

    def __init__(self) -> None:
        self._articles: dict[int, StoredArticle] = {}
        self._by_hash: dict[str, int] = {}
        self._failures: dict[str, FailureRecord] = {}
        self._index: list[tuple[int, dict[str, Any], list[str]]] = []
        self._claim_batches: dict[int, ClaimBatch] = {}       # article id -> its batch
        self._factchecks: dict[str, tuple[str, str, bytes]] = {}

    def migrations(self) -> list[int]:
        return []

    def add_claim_batch(self, article_id: int, signature: bytes, size: int, *,
                        outlet: str | None = None, site_name: str | None = None,
                        claims: Iterable[tuple[str, str, bytes]] = (),
                        matches: Iterable[tuple[str, str, str]] = (),
                        copies: Iterable[int] = (), after: int | None = None) -> int | None:
        batch = ClaimBatch(article_id, bytes(signature), size, outlet, site_name,
                           tuple(claims), tuple(matches), copies=tuple(int(c) for c in copies))
        if after is not None and any(b.seq > after for b in self._claim_batches.values()):
            raise ClaimsChangedError(f"claims were stored after batch {after}",
                                     hint="read them and match against them too")
        if batch.article_id in self._claim_batches:
            return None
        if batch.article_id not in self._articles:
            raise StoreError(f"no article {batch.article_id} for these claims")
        seq = max((b.seq for b in self._claim_batches.values()), default=0) + 1
        self._claim_batches[batch.article_id] = dataclasses.replace(batch, seq=seq)
        return seq

    def add_factchecks(self, rows: Iterable[tuple[str, str, bytes]]) -> int:
        rows = [(i, d, bytes(v)) for i, d, v in rows]
        for i, d, v in rows:
            self._factchecks[i] = (i, d, v)
        return len(rows)

    def factchecks(self) -> list[tuple[str, str, bytes]]:
        return [self._factchecks[i] for i in sorted(self._factchecks)]

    def articles_without_claims(self) -> list[int]:
        return sorted(i for i in self._articles if i not in self._claim_batches)

    def claim_batches(self, after: int = 0) -> list[ClaimBatch]:
        return sorted((b for b in self._claim_batches.values() if b.seq > after),
                      key=lambda b: b.seq)

    def add(self, record: ArticleRecord) -> int | None:
        return self.add_many([record])[0]

    def add_many(self, records: Iterable[ArticleRecord]) -> list[int | None]:
        ids: list[int | None] = []
        for r in records:
            if r.content_hash in self._by_hash:
                ids.append(None)
                continue
            article_id = len(self._articles) + 1
            raw = r.raw if r.raw != r.analysis.text else None
            self._articles[article_id] = StoredArticle(
                id=article_id, content_hash=r.content_hash, input=r.input, analysis=r.analysis,
                outlet=r.outlet, url=r.url, canonical_url=r.canonical_url, title=r.title,
                author=r.author, date=r.date, input_kind=r.input_kind, raw=raw, added_at=now_iso(),
                record_id=r.record_id, model=r.model, model_version=r.model_version)
            self._by_hash[r.content_hash] = article_id
            self._link_entities(article_id, r.analysis, r.outlet, r.author)
            for row in index_rows(r):
                self._index.append((article_id, row, _tokens(row["body"])))
            self._failures.pop(r.input, None)
            ids.append(article_id)
        return ids

    # -- source entities ---------------------------------------------------------------
    def _entities(self):
        from ...sources.entities import EntityIndex

        index = self.__dict__.get("_entity_index")
        if index is None or index.gazetteer_source is not getattr(self, "gazetteer", None):
            index = EntityIndex(gazetteer=getattr(self, "gazetteer", None))
            index.gazetteer_source = getattr(self, "gazetteer", None)
            self.__dict__["_entity_index"] = index
            self.__dict__["_entity_links"] = {}
            skip = self.__dict__.get("_linking")
            for a in list(self._articles.values()):
                if a.id != skip:
                    self._link_entities(a.id, a.analysis, a.outlet, a.author)
        return index

    def _link_entities(self, article_id: int, analysis: Analysis, outlet: str | None,
                       byline: str | None = None) -> None:
        self.__dict__["_linking"] = article_id
        index = self._entities()
        links = self.__dict__["_entity_links"]
        for k in [k for k in links if k[0] == article_id]:
            del links[k]
        for link in index.link(analysis.sources, outlet=outlet, byline=byline, article=article_id):
            links[(article_id, link.source_idx)] = link.entity_id
        _, merged, _ = index.drain()
        for old, new in merged:
            for k, v in links.items():
                if v == old:
                    links[k] = new
        self.__dict__["_linking"] = None

    def relink_entities(self) -> int:
        self.__dict__.pop("_entity_index", None)
        self._entities()
        return len(self._articles)

    def entity_links(self, article_id: int) -> dict[int, tuple[int, str, str | None]]:
        index = self._entities()
        return {idx: (eid, index.by_id[eid].name, index.by_id[eid].external_id)
                for (aid, idx), eid in self.__dict__["_entity_links"].items() if aid == article_id}

    def replace_analysis(self, article_id: int, analysis: Analysis, *, model: str | None,
                         model_version: str | None) -> bool:
        old = self._articles.get(article_id)
        if old is None:
            return False
        self._articles[article_id] = dataclasses.replace(
            old, analysis=analysis, model=model, model_version=model_version)
        record = ArticleRecord(analysis=analysis, input=old.input, title=old.title)
        self._index = [entry for entry in self._index if entry[0] != article_id]
        for row in index_rows(record):
            self._index.append((article_id, row, _tokens(row["body"])))
        self._link_entities(article_id, analysis, old.outlet, old.author)
        return True

    def known_hashes(self, hashes: Iterable[str]) -> set[str]:
        return {h for h in hashes if h in self._by_hash}

    def known_inputs(self, inputs: Iterable[str]) -> set[str]:
        have = {a.input for a in self._articles.values()}
        return {i for i in inputs if i in have}

    def get(self, article_id: int) -> StoredArticle | None:
        return self._articles.get(article_id)

    def iter_articles(self) -> Iterator[StoredArticle]:
        for article_id in sorted(self._articles):
            yield self._articles[article_id]

    def count(self) -> int:
        return len(self._articles)

    def page_articles(self, *, outlet: str | None = None, offset: int = 0,
                      limit: int = 50) -> tuple[int, list[StoredArticle]]:
        chosen = [a for a in self.iter_articles() if not outlet or a.outlet == outlet]
        start = max(0, offset)
        return len(chosen), chosen[start:start + max(0, limit)]

    def _source_ok(self, article: StoredArticle, ref: int | None, what: str,
                   identity: str | None, kind: str | None) -> bool:
        if not identity and not kind:
            return True
        sources = article.analysis.sources
        if what != "article":
            sources = tuple(s for s in sources if ref is not None and s.id == ref)
        return any((not identity or s.identity == identity) and (not kind or s.kind == kind)
                   for s in sources)

    def search(self, query: str, *, outlet: str | None = None, since: str | None = None,
               until: str | None = None, identity: str | None = None, kind: str | None = None,
               what: str | None = None, limit: int = 50, offset: int = 0,
               selection: Any = None) -> list[SearchHit]:
        check_filters(what, texts={"query": query, "outlet": outlet, "identity": identity,
                                   "kind": kind}, dates={"since": since, "until": until})
        terms = parse_query(query)
        hits = []
        for article_id, row, tokens in self._index:
            if what and row["what"] != what:
                continue
            if not all(_has(tokens, t) for t in terms):
                continue
            a = self._articles[article_id]
            if outlet and a.outlet != outlet:
                continue
            if since and not (a.date and a.date >= since):
                continue
            if until and not (a.date and a.date <= until):
                continue
            if not self._source_ok(a, row["source_ref"], row["what"], identity, kind):
                continue
            score = sum(tokens.count(t[0]) for t in terms) / (len(tokens) or 1)
            speaker, act = None, None
            atts = a.analysis.attributions
            if row["what"] == "quote" and row["ref"] is not None and 0 <= row["ref"] < len(atts):
                att = atts[row["ref"]]
                if selection is not None and not selection.keeps(att.act, att.confidence):
                    continue
                src = a.analysis.source_of(att)
                speaker, act = (src.name if src else att.speaker), att.act
            elif row["what"] == "source":
                src = next((x for x in a.analysis.sources if x.id == row["ref"]), None)
                speaker = src.name if src else None
            hits.append((-score, article_id, SearchHit.marked(
                article_id, row["what"], row["ref"], _snippet(row["body"], terms[0]),
                a.title, a.outlet, a.date, a.url, speaker=speaker, act=act)))
        hits.sort(key=lambda h: (h[0], h[1]))
        out = Hits(h[2] for h in hits[max(0, offset):max(0, offset) + limit])
        out.total = len(hits)
        return out

    def top_sources(self, *, by: str | None = None, outlet: str | None = None,
                    kind: str | None = None, identity: str | None = None,
                    limit: int = 20, offset: int = 0, selection: Any = None) -> list[SourceCount]:
        check_filters(None, by, texts={"outlet": outlet, "kind": kind, "identity": identity})
        index = self._entities()
        links = self.__dict__["_entity_links"]
        rows = []
        for a in self._articles.values():
            if outlet and a.outlet != outlet:
                continue
            for s in a.analysis.sources:
                eid = links.get((a.id, s.id))
                if eid is not None:
                    atts = a.analysis.attributions
                    notes = dropped_in_notes(a.text, {i: t.cue[0].start for i, t in enumerate(atts)
                                                      if t.cue})
                    n = sum(1 for i in s.attributions if 0 <= i < len(atts) and i not in notes
                            and (selection is None or selection.keeps(atts[i].act,
                                                                      atts[i].confidence)))
                    if notes and not n and s.attributions:
                        continue   # a source that speaks only in notes is no source
                    rows.append((a.outlet, a.id, eid, s.name, s.identity, s.kind, n,
                                 s.referred_as, index.by_id[eid].key))
        entities = {e.id: (e.name, e.kind, e.role, e.external_id) for e in index.by_id.values()}
        return aggregate_entities(rows, entities, by=by, kind=kind, identity=identity, limit=limit,
                                  offset=offset, counted=selection is not None)

    def record_failure(self, input: str, reason: str, code: str = "error") -> None:
        now = now_iso()
        old = self._failures.get(input)
        self._failures[input] = FailureRecord(
            input, reason, code, (old.attempts + 1) if old else 1,
            old.first_seen if old else now, now)

    def clear_failure(self, input: str) -> None:
        self._failures.pop(input, None)

    def failures(self) -> list[FailureRecord]:
        return list(self._failures.values())

    def close(self) -> None:
        pass

    def __enter__(self) -> "MemoryStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["MemoryStore"]
