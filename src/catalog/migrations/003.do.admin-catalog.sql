-- Client statistics (aggregates of atrium.request_log) and vacuum health snapshots of PostgreSQL clients.

-- One row per client: kept current by every request-log flush, rebuilt from the log on demand.
CREATE TABLE IF NOT EXISTS atrium.client_statistics (
  client_name text PRIMARY KEY,
  total_requests bigint NOT NULL DEFAULT 0,
  successful_requests bigint NOT NULL DEFAULT 0,
  failed_requests bigint NOT NULL DEFAULT 0,
  total_cached_requests bigint NOT NULL DEFAULT 0,
  -- requests that named a table (structured reads/writes, counts, RPC)
  total_operations bigint NOT NULL DEFAULT 0,
  last_request_at timestamptz,
  last_operation_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per client, table and operation (e.g. gateway.fetch, rest.select).
CREATE TABLE IF NOT EXISTS atrium.client_table_statistics (
  client_name text NOT NULL,
  table_name text NOT NULL,
  operation text NOT NULL,
  total_operations bigint NOT NULL DEFAULT 0,
  error_operations bigint NOT NULL DEFAULT 0,
  cached_operations bigint NOT NULL DEFAULT 0,
  last_operation_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_name, table_name, operation)
);

-- Requests logged before this migration count too.
INSERT INTO atrium.client_statistics (client_name, total_requests, successful_requests, failed_requests, total_cached_requests,
  total_operations, last_request_at, last_operation_at)
SELECT client_name, count(*), count(*) FILTER (WHERE status < 400), count(*) FILTER (WHERE status >= 400),
  count(*) FILTER (WHERE cached), count(*) FILTER (WHERE table_name IS NOT NULL), max(at), max(at) FILTER (WHERE table_name IS NOT NULL)
FROM atrium.request_log WHERE client_name IS NOT NULL GROUP BY client_name
ON CONFLICT (client_name) DO NOTHING;

INSERT INTO atrium.client_table_statistics (client_name, table_name, operation, total_operations, error_operations, cached_operations, last_operation_at)
SELECT client_name, table_name, operation, count(*), count(*) FILTER (WHERE status >= 400), count(*) FILTER (WHERE cached), max(at)
FROM atrium.request_log WHERE client_name IS NOT NULL AND table_name IS NOT NULL GROUP BY client_name, table_name, operation
ON CONFLICT (client_name, table_name, operation) DO NOTHING;

-- One row per collection run and PostgreSQL client; a failed collection is a row with collection_error set.
CREATE TABLE IF NOT EXISTS atrium.vacuum_health_snapshots (
  id bigserial PRIMARY KEY,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  client_name text NOT NULL,
  host text,
  -- the Atrium process that collected it
  instance_id uuid,
  total_dead_rows bigint NOT NULL DEFAULT 0,
  tables_with_bloat integer NOT NULL DEFAULT 0,
  xid_freeze_risk integer NOT NULL DEFAULT 0,
  tables_needing_vacuum integer NOT NULL DEFAULT 0,
  freeze_max_age bigint,
  collection_error text
);
CREATE INDEX IF NOT EXISTS vacuum_health_snapshots_client_at ON atrium.vacuum_health_snapshots (client_name, recorded_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS atrium.vacuum_health_table_stats (
  id bigserial PRIMARY KEY,
  snapshot_id bigint NOT NULL REFERENCES atrium.vacuum_health_snapshots (id) ON DELETE CASCADE,
  schemaname text NOT NULL,
  relname text NOT NULL,
  n_dead_tup bigint NOT NULL,
  n_live_tup bigint NOT NULL,
  dead_pct double precision,
  last_vacuum timestamptz,
  last_autovacuum timestamptz,
  xid_age bigint,
  xid_age_pct_of_freeze_max double precision
);
CREATE INDEX IF NOT EXISTS vacuum_health_table_stats_snapshot ON atrium.vacuum_health_table_stats (snapshot_id);
