-- The corpus schema: articles with their analysis, attributions and sources
-- (one row each, for search and aggregation), the full-text index, and the
-- inputs that failed. Analysis JSON in articles.analysis is the record of
-- truth; the other tables are derived from it at insert time.

CREATE TABLE articles (
    id            INTEGER PRIMARY KEY,
    content_hash  TEXT NOT NULL UNIQUE,      -- sha256 of the whitespace-normalised text
    outlet        TEXT,                      -- registered domain, e.g. bbc.co.uk
    url           TEXT,
    canonical_url TEXT,
    title         TEXT,
    author        TEXT,
    date          TEXT,                      -- ISO 8601 (YYYY-MM-DD) where known
    input         TEXT NOT NULL,             -- where it came from: path, path:line, URL, WARC record
    input_kind    TEXT,
    raw           TEXT,                      -- the raw input when it differs from the text
    text          TEXT NOT NULL,
    analysis      TEXT NOT NULL,             -- Analysis JSON, lossless
    profile       TEXT,                      -- the sourcing profile JSON (also inside analysis)
    n_attributions INTEGER NOT NULL DEFAULT 0,
    n_sources     INTEGER NOT NULL DEFAULT 0,
    added_at      TEXT NOT NULL
);
CREATE INDEX articles_outlet ON articles (outlet);
CREATE INDEX articles_date ON articles (date);
CREATE INDEX articles_input ON articles (input);

CREATE TABLE attributions (
    article_id   INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,           -- index in Analysis.attributions
    kind         TEXT,
    rule         TEXT,
    confidence   REAL,
    parent       INTEGER,
    speaker      TEXT,
    source_id    INTEGER,                    -- sources.idx of the same article
    source_text  TEXT,
    cue_text     TEXT,
    content_text TEXT,
    spans        TEXT NOT NULL,              -- {"source": [[s, e]], "cue": ..., "content": ...}
    PRIMARY KEY (article_id, idx)
);

CREATE TABLE sources (
    article_id     INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    idx            INTEGER NOT NULL,         -- Source.id
    name           TEXT NOT NULL,
    identity       TEXT,
    kind           TEXT,
    role           TEXT,
    channel        TEXT,
    hearsay_depth  INTEGER,
    n_attributions INTEGER NOT NULL DEFAULT 0,
    n_mentions     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, idx)
);
CREATE INDEX sources_name ON sources (name);
CREATE INDEX sources_kind ON sources (kind, identity);

-- One row per searchable thing: what = article | quote | source; ref = the
-- attribution or source index; source_ref = the source a quote or source row
-- belongs to (for the identity/kind filters).
CREATE VIRTUAL TABLE search_index USING fts5 (
    body,
    article_id UNINDEXED,
    what UNINDEXED,
    ref UNINDEXED,
    source_ref UNINDEXED,
    tokenize = 'porter unicode61'
);

CREATE TABLE failures (
    id         INTEGER PRIMARY KEY,
    input      TEXT NOT NULL UNIQUE,
    reason     TEXT NOT NULL,
    code       TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);
