-- Full-text search over claims and fact-checks (corpus/store/search.py): FTS5 tables keyed
-- by the rowid of claims and factchecks, holding the claim text (Porter stemmer).
-- They are filled lazily by search.py before each search (the rows added since the last
-- one), so ingest writes nothing more and stores made before this migration need no rebuild.
CREATE VIRTUAL TABLE claims_fts USING fts5(text, tokenize = 'porter unicode61');
CREATE VIRTUAL TABLE factchecks_fts USING fts5(text, tokenize = 'porter unicode61');
