-- The act of each attribution (attribution/acts.py: speech, belief, finding, intention,
-- perception) as a column, so that every corpus figure can count the acts a reader asks
-- for (--acts, corpus/counted.py) in SQL. Read from the stored analysis for the
-- attributions stored before this migration; NULL (an untyped attribution) counts as speech.
ALTER TABLE attributions ADD COLUMN act TEXT;
UPDATE attributions t SET act = (a.analysis::jsonb -> 'attributions' -> t.idx ->> 'act')
    FROM articles a WHERE a.id = t.article_id;
CREATE INDEX attributions_act ON attributions (act, confidence);
-- how each source is referred to (she, he, they), for sources stored before migration 0002
-- wrote it (Source.id is its position in Analysis.sources)
UPDATE sources s SET referred_as = (a.analysis::jsonb -> 'sources' -> s.idx ->> 'referred_as')
    FROM articles a WHERE a.id = s.article_id AND s.referred_as IS NULL;
