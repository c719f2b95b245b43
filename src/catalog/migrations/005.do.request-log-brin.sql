-- The request log is append-only and written in time order, thousands of rows a second under load. Its
-- B-tree on (client_name, at) cost PostgreSQL about 4-5 us of CPU per logged request and served no query
-- Atrium runs (statistics are kept by the flush; a rebuild reads the whole log). A BRIN index on `at`
-- serves time-range reads (recent requests, deleting old ones) for next to nothing on insert.
DROP INDEX IF EXISTS atrium.request_log_client_at;
CREATE INDEX IF NOT EXISTS request_log_at ON atrium.request_log USING brin (at);
