-- Source entities across the corpus (sources.entities): every source of every
-- article that refers to someone is linked to one entity ("Donald Trump" =
-- "Trump" = "President Trump"). Identity and kind of an entity are read from
-- its sources by majority; kind, role and external_id here are pinned by a
-- gazetteer (NULL otherwise). Linked at insert time; re-linked from the stored
-- analyses by `sourcetrace sources --relink`.

CREATE TABLE entities (
    id          BIGINT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,        -- person:donald trump, person:~trump, org:white house, ...
    name        TEXT NOT NULL,               -- the fullest name
    surname     TEXT,                        -- people only
    person      INTEGER NOT NULL DEFAULT 0,
    kind        TEXT,                        -- pinned by a gazetteer
    role        TEXT,
    external_id TEXT,                        -- e.g. a Wikidata QID, from a gazetteer
    articles    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX entities_surname ON entities (surname);

ALTER TABLE sources ADD COLUMN entity_id BIGINT;
ALTER TABLE sources ADD COLUMN referred_as TEXT;
CREATE INDEX sources_entity ON sources (entity_id);
