-- Claims across outlets (crossoutlet/): written at ingest time, one batch per article,
-- so every process reading the store sees the same claims at once.
-- claim_batches: one row per article whose claims are in (even with none), with its
-- syndication signature (MinHash, crossoutlet/syndication.py), the outlet's own name and
-- the earlier articles it was found to copy (a JSON list of article ids), so readers
-- get the syndication clusters without hashing anything.
-- claims: one row per claim, pos its order within the article: the Claim as JSON and its embedding (float16, 384 values).
-- claim_matches: confirmed matches with their evidence (cosine, score, every check);
-- the clusters are their connected components.

CREATE TABLE claim_batches (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL UNIQUE REFERENCES articles(id) ON DELETE CASCADE,
    signature  BLOB NOT NULL,
    size       INTEGER NOT NULL,
    outlet     TEXT,
    site_name  TEXT,
    copies     TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE claims (
    id         TEXT PRIMARY KEY,
    pos        INTEGER NOT NULL,
    batch      INTEGER NOT NULL REFERENCES claim_batches(seq) ON DELETE CASCADE,
    data       TEXT NOT NULL,
    vector     BLOB NOT NULL
);
CREATE INDEX claims_batch ON claims (batch);

CREATE TABLE claim_matches (
    claim_id   TEXT NOT NULL,
    other_id   TEXT NOT NULL,
    batch      INTEGER NOT NULL REFERENCES claim_batches(seq) ON DELETE CASCADE,
    evidence   TEXT NOT NULL,
    PRIMARY KEY (claim_id, other_id)
);
CREATE INDEX claim_matches_batch ON claim_matches (batch);

-- factchecks: ClaimReview verdicts imported with `sourcetrace factchecks import`
-- (crossoutlet/factchecks.py): the FactCheck as JSON and the embedding of its claim.
CREATE TABLE factchecks (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    vector     BLOB NOT NULL
);
