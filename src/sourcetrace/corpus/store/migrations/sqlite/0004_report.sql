-- Views for reading the corpus with any SQL tool (sqlite3, datasette, pandas.read_sql,
-- R's DBI) and for the outlet report (corpus/report.py), which aggregates over them in
-- SQL. One row per article, attribution and source, with the article's outlet and its
-- dates; the transparency score and each component of the sourcing profile as their own
-- columns (docs/profile.md explains each). Dates are ISO 8601 text: `date` as stored
-- (YYYY-MM-DD, or YYYY-MM / YYYY where the input gave no more), `day` only for full
-- dates, `month` YYYY-MM, `week` the Monday that starts the date's ISO week.
-- The input record's own id (a JSON record's or CSV row's "id") gets a column.

ALTER TABLE articles ADD COLUMN record_id TEXT;
UPDATE articles SET record_id = json_extract(analysis, '$.meta.id')
    WHERE json_type(analysis, '$.meta.id') IN ('text', 'integer');

-- One row per article. The component columns follow the profile's fixed order
-- (sources/profile.py WEIGHTS: identity, sourcing, directness, corroboration, diversity).
CREATE VIEW article_view AS
SELECT
    a.id                                                        AS article_id,
    a.record_id                                                 AS record_id,
    a.outlet                                                    AS outlet,
    a.title                                                     AS title,
    a.url                                                       AS url,
    a.author                                                    AS author,
    a.date                                                      AS date,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN date(a.date) END         AS day,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' THEN substr(a.date, 1, 7) END AS month,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN date(a.date, '-6 days', 'weekday 1') END AS week,
    a.input                                                     AS input,
    a.input_kind                                                AS input_kind,
    a.n_attributions                                            AS n_attributions,
    a.n_sources                                                 AS n_sources,
    json_extract(a.profile, '$.transparency.score')             AS transparency,
    json_extract(a.profile, '$.transparency.components[0].value') AS identity_component,
    json_extract(a.profile, '$.transparency.components[1].value') AS sourcing_component,
    json_extract(a.profile, '$.transparency.components[2].value') AS directness_component,
    json_extract(a.profile, '$.transparency.components[3].value') AS corroboration_component,
    json_extract(a.profile, '$.transparency.components[4].value') AS diversity_component,
    json_extract(a.profile, '$.attributions.top_level')        AS top_level_attributions,
    json_extract(a.profile, '$.assertions.by_label.checkworthy') AS checkworthy_unattributed,
    json_extract(a.profile, '$.assertions.checkworthy_unattributed_share') AS checkworthy_unattributed_share,
    json_extract(a.profile, '$.hearsay.longest_chain')         AS longest_chain,
    json_extract(a.profile, '$.hearsay.chain')                 AS hearsay_chain,
    json_extract(a.profile, '$.single_source_claims.count')    AS single_source_claims,
    a.added_at                                                  AS added_at
FROM articles a;

-- One row per attribution, with its source's identity and kind ('unspecified' and
-- 'none' when the attribution has no source).
CREATE VIEW attribution_view AS
SELECT
    t.article_id                        AS article_id,
    t.idx                               AS idx,
    a.outlet                            AS outlet,
    a.date                              AS date,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' THEN substr(a.date, 1, 7) END AS month,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN date(a.date, '-6 days', 'weekday 1') END AS week,
    t.kind                              AS kind,
    t.speaker                           AS speaker,
    t.source_id                         AS source_id,
    coalesce(s.identity, 'unspecified') AS source_identity,
    coalesce(s.kind, 'none')            AS source_kind,
    t.parent                            AS parent,
    t.rule                              AS rule,
    t.confidence                        AS confidence,
    t.source_text                       AS source_text,
    t.cue_text                          AS cue_text,
    t.content_text                      AS content_text
FROM attributions t
JOIN articles a ON a.id = t.article_id
LEFT JOIN sources s ON s.article_id = t.article_id AND s.idx = t.source_id;

-- One row per source of an article (a voice, merged over its mentions).
CREATE VIEW source_view AS
SELECT
    s.article_id                        AS article_id,
    s.idx                               AS source_id,
    a.outlet                            AS outlet,
    a.date                              AS date,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' THEN substr(a.date, 1, 7) END AS month,
    CASE WHEN a.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN date(a.date, '-6 days', 'weekday 1') END AS week,
    s.name                              AS name,
    s.identity                          AS identity,
    coalesce(s.kind, 'none')            AS kind,
    s.role                              AS role,
    s.channel                           AS channel,
    s.hearsay_depth                     AS hearsay_depth,
    s.n_attributions                    AS n_attributions,
    s.n_mentions                        AS n_mentions
FROM sources s
JOIN articles a ON a.id = s.article_id;
