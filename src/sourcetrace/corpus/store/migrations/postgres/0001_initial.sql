-- The corpus schema (PostgreSQL): the same tables as the SQLite backend; the
-- full-text index is a tsvector column with a GIN index.

CREATE TABLE articles (
    id            BIGSERIAL PRIMARY KEY,
    content_hash  TEXT NOT NULL UNIQUE,
    outlet        TEXT,
    url           TEXT,
    canonical_url TEXT,
    title         TEXT,
    author        TEXT,
    date          TEXT,
    input         TEXT NOT NULL,
    input_kind    TEXT,
    raw           TEXT,
    text          TEXT NOT NULL,
    analysis      TEXT NOT NULL,
    profile       TEXT,
    n_attributions INTEGER NOT NULL DEFAULT 0,
    n_sources     INTEGER NOT NULL DEFAULT 0,
    added_at      TEXT NOT NULL
);
CREATE INDEX articles_outlet ON articles (outlet);
CREATE INDEX articles_date ON articles (date);
CREATE INDEX articles_input ON articles (input);

CREATE TABLE attributions (
    article_id   BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    kind         TEXT,
    rule         TEXT,
    confidence   DOUBLE PRECISION,
    parent       INTEGER,
    speaker      TEXT,
    source_id    INTEGER,
    source_text  TEXT,
    cue_text     TEXT,
    content_text TEXT,
    spans        TEXT NOT NULL,
    PRIMARY KEY (article_id, idx)
);

CREATE TABLE sources (
    article_id     BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    idx            INTEGER NOT NULL,
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

CREATE TABLE search_index (
    id         BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    what       TEXT NOT NULL,
    ref        INTEGER,
    source_ref INTEGER,
    body       TEXT NOT NULL,
    tsv        tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED
);
CREATE INDEX search_index_tsv ON search_index USING GIN (tsv);
CREATE INDEX search_index_article ON search_index (article_id);

CREATE TABLE failures (
    id         BIGSERIAL PRIMARY KEY,
    input      TEXT NOT NULL UNIQUE,
    reason     TEXT NOT NULL,
    code       TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);
