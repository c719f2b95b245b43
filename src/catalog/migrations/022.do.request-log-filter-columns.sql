-- The columns a structured read filtered on (top-level AND conditions, a JSON array of names): the shape of the query
-- the request ran, which query optimizations read to suggest indexes when the source keeps no statement statistics.
ALTER TABLE atrium.request_log ADD COLUMN IF NOT EXISTS filter_columns text;
