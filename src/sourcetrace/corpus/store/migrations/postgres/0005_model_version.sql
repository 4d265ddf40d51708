-- The model behind each stored analysis: `model` names it (rules, fast, accurate, or
-- path:<folder> for weights from `sourcetrace train --output`), `model_version` pins it
-- (sourcetrace's version and the first 12 hex digits of the weights' sha256). Articles
-- stored before this migration have neither: `sourcetrace reanalyze` re-runs them.
ALTER TABLE articles ADD COLUMN model TEXT;
ALTER TABLE articles ADD COLUMN model_version TEXT;
