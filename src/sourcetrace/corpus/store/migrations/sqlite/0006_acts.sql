-- The act of each attribution (attribution/acts.py: speech, belief, finding, intention,
-- perception) as a column, so that every corpus figure can count the acts a reader asks
-- for (--acts, corpus/counted.py) in SQL. Read from the stored analysis for the
-- attributions stored before this migration; NULL (an untyped attribution) counts as speech.
ALTER TABLE attributions ADD COLUMN act TEXT;
UPDATE attributions SET act = (SELECT json_extract(a.analysis, '$.attributions[' || attributions.idx || '].act')
    FROM articles a WHERE a.id = attributions.article_id);
CREATE INDEX attributions_act ON attributions (act, confidence);
-- how each source is referred to (she, he, they), for sources stored before migration 0002
-- wrote it (Source.id is its position in Analysis.sources)
UPDATE sources SET referred_as = (SELECT json_extract(a.analysis, '$.sources[' || sources.idx || '].referred_as')
    FROM articles a WHERE a.id = sources.article_id) WHERE referred_as IS NULL;
