-- Full-text search over claims and fact-checks (corpus/store/search.py): GIN indexes over
-- the English text-search vector of the claim text, kept up to date by PostgreSQL.
CREATE INDEX claims_text_search ON claims
    USING GIN (to_tsvector('english', (data::json)->>'text'));
CREATE INDEX factchecks_text_search ON factchecks
    USING GIN (to_tsvector('english', (data::json)->>'claim'));
