-- Realtime change capture. realtime_tables: the tables an administrator enabled for capture (a trigger on the
-- source records every committed change, whoever makes it). realtime_watch: which node has live subscribers to
-- which table, so that writes through any node publish change events for it; a node refreshes seen_at while it
-- runs, and rows not refreshed for a while are ignored (a node that died). realtime_capture_cursors: per client,
-- the last source capture id moved into atrium.events, advanced in the same transaction as those events.
CREATE TABLE IF NOT EXISTS atrium.realtime_tables (
  client_name text NOT NULL,
  table_schema text NOT NULL,
  table_name text NOT NULL,
  enabled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_name, table_name)
);

CREATE TABLE IF NOT EXISTS atrium.realtime_watch (
  instance_id text NOT NULL,
  client_name text NOT NULL,
  table_name text NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (instance_id, client_name, table_name)
);

CREATE TABLE IF NOT EXISTS atrium.realtime_capture_cursors (
  client_name text PRIMARY KEY,
  last_id bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
