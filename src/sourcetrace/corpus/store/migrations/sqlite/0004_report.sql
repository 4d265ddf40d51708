-- The outlet report's tables and views (corpus/report.py), also for reading the corpus
-- with any SQL tool (sqlite3, datasette, pandas.read_sql, R's DBI).
--
-- article_figures: one row per article, written with it (store.figure_row): the sourcing
-- profile's figures as columns (docs/profile.md) and the article's attributions counted by
-- their source's identity (att_named ... att_unspecified), their source's kind
-- (att_person ... att_social, att_none when the text does not say) and how they quote
-- (att_direct, att_indirect, att_mixed), and its sources that are people by how the text
-- refers to them (src_she, src_he, src_they; src_not_said: kind person, no pronoun or
-- honorific). The report sums these columns per outlet or
-- period: one pass over the articles, no JSON read and no join over attributions (and
-- no read of the articles' large text columns: the counts live here too).
--
-- Views: article_view (an article with its figures and its dates), attribution_view and
-- source_view (one row per attribution or source with the article's outlet and dates).
-- Dates: `date` as stored (ISO 8601: YYYY-MM-DD, or YYYY-MM / YYYY where the input gave no
-- more), `day` the full date, `month` YYYY-MM, `week` the Monday that starts
-- the date's ISO week. articles.record_id is the input record's own id.

ALTER TABLE articles ADD COLUMN record_id TEXT;
UPDATE articles SET record_id = json_extract(analysis, '$.meta.id')
    WHERE json_type(analysis, '$.meta.id') IN ('text', 'integer');

CREATE TABLE article_figures (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    n_attributions             INTEGER,
    n_sources                  INTEGER,
    transparency               REAL,
    identity_component         REAL,
    sourcing_component         REAL,
    directness_component       REAL,
    corroboration_component    REAL,
    diversity_component        REAL,
    checkworthy_unattributed   INTEGER,
    top_level_attributions     INTEGER,
    longest_chain              INTEGER,
    hearsay_chain              TEXT,
    single_source_claims       INTEGER,
    att_named                  INTEGER NOT NULL DEFAULT 0,
    att_described              INTEGER NOT NULL DEFAULT 0,
    att_anonymous              INTEGER NOT NULL DEFAULT 0,
    att_unspecified            INTEGER NOT NULL DEFAULT 0,
    att_person                 INTEGER NOT NULL DEFAULT 0,
    att_official               INTEGER NOT NULL DEFAULT 0,
    att_organization           INTEGER NOT NULL DEFAULT 0,
    att_media                  INTEGER NOT NULL DEFAULT 0,
    att_document               INTEGER NOT NULL DEFAULT 0,
    att_social                 INTEGER NOT NULL DEFAULT 0,
    att_none                   INTEGER NOT NULL DEFAULT 0,
    att_direct                 INTEGER NOT NULL DEFAULT 0,
    att_indirect               INTEGER NOT NULL DEFAULT 0,
    att_mixed                  INTEGER NOT NULL DEFAULT 0,
    src_she                    INTEGER NOT NULL DEFAULT 0,
    src_he                     INTEGER NOT NULL DEFAULT 0,
    src_they                   INTEGER NOT NULL DEFAULT 0,
    src_not_said               INTEGER NOT NULL DEFAULT 0
);

-- figures of the articles stored before this migration (components in the profile's
-- fixed order, sources/profile.py WEIGHTS)
INSERT INTO article_figures (article_id, n_attributions, n_sources, transparency, identity_component, sourcing_component, directness_component, corroboration_component, diversity_component, checkworthy_unattributed, top_level_attributions, longest_chain, hearsay_chain, single_source_claims, att_named, att_described, att_anonymous, att_unspecified, att_person, att_official, att_organization, att_media, att_document, att_social, att_none, att_direct, att_indirect, att_mixed, src_she, src_he, src_they, src_not_said)
SELECT a.id,
    a.n_attributions,
    a.n_sources,
    json_extract(a.profile, '$.transparency.score'),
    json_extract(a.profile, '$.transparency.components[0].value'),
    json_extract(a.profile, '$.transparency.components[1].value'),
    json_extract(a.profile, '$.transparency.components[2].value'),
    json_extract(a.profile, '$.transparency.components[3].value'),
    json_extract(a.profile, '$.transparency.components[4].value'),
    json_extract(a.profile, '$.assertions.by_label.checkworthy'),
    json_extract(a.profile, '$.attributions.top_level'),
    json_extract(a.profile, '$.hearsay.longest_chain'),
    json_extract(a.profile, '$.hearsay.chain'),
    json_extract(a.profile, '$.single_source_claims.count'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.identity, 'unspecified') = 'named'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.identity, 'unspecified') = 'described'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.identity, 'unspecified') = 'anonymous'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.identity, 'unspecified') = 'unspecified'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.kind, 'none') = 'person'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.kind, 'none') = 'official'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.kind, 'none') = 'organization'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.kind, 'none') = 'media'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.kind, 'none') = 'document'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.kind, 'none') = 'social'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND coalesce(s.kind, 'none') = 'none'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND t.kind = 'direct'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND t.kind = 'indirect'),
    (SELECT count(*) FROM attributions t LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id WHERE t.article_id = a.id AND t.kind = 'mixed'),
    (SELECT count(*) FROM json_each(a.analysis, '$.sources') WHERE json_extract(value, '$.referred_as') = 'she'),
    (SELECT count(*) FROM json_each(a.analysis, '$.sources') WHERE json_extract(value, '$.referred_as') = 'he'),
    (SELECT count(*) FROM json_each(a.analysis, '$.sources') WHERE json_extract(value, '$.referred_as') = 'they'),
    (SELECT count(*) FROM json_each(a.analysis, '$.sources') WHERE coalesce(json_extract(value, '$.referred_as'), '') NOT IN ('she', 'he', 'they') AND json_extract(value, '$.kind') = 'person')
FROM articles a;

CREATE VIEW article_view AS
SELECT
    a.id AS article_id, a.record_id, a.outlet, a.title, a.url, a.author, a.date,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN date(a.date) END AS day,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' THEN substr(a.date, 1, 7) END AS month,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN date(a.date, '-6 days', 'weekday 1') END AS week,
    a.input, a.input_kind, a.added_at,
    f.n_attributions, f.n_sources, f.transparency, f.identity_component, f.sourcing_component, f.directness_component, f.corroboration_component, f.diversity_component,
    f.checkworthy_unattributed, f.top_level_attributions, f.longest_chain, f.hearsay_chain, f.single_source_claims,
    f.att_named, f.att_described, f.att_anonymous, f.att_unspecified,
    f.att_person, f.att_official, f.att_organization, f.att_media, f.att_document, f.att_social, f.att_none,
    f.att_direct, f.att_indirect, f.att_mixed,
    f.src_she, f.src_he, f.src_they, f.src_not_said
FROM articles a
LEFT JOIN article_figures f ON f.article_id = a.id;

CREATE VIEW attribution_view AS
SELECT
    t.article_id, t.idx, a.outlet, a.date,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' THEN substr(a.date, 1, 7) END AS month,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN date(a.date, '-6 days', 'weekday 1') END AS week,
    t.kind, t.speaker, t.source_id,
    coalesce(s.identity, 'unspecified') AS source_identity,
    coalesce(s.kind, 'none') AS source_kind,
    t.parent, t.rule, t.confidence, t.source_text, t.cue_text, t.content_text
FROM attributions t
JOIN articles a ON a.id = t.article_id
LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id;

CREATE VIEW source_view AS
SELECT
    s.article_id, s.idx AS source_id, a.outlet, a.date,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' THEN substr(a.date, 1, 7) END AS month,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN date(a.date, '-6 days', 'weekday 1') END AS week,
    s.name, s.identity, coalesce(s.kind, 'none') AS kind, s.role, s.channel,
    s.hearsay_depth, s.n_attributions, s.n_mentions
FROM sources s
JOIN articles a ON a.id = s.article_id;
