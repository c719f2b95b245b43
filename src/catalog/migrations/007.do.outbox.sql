-- The outbox: committed events in commit order, events of data-source writes waiting for their source to
-- commit, and the cursors of durable consumers.

-- One row per committed event. `id` is the dispatch order: it is taken under a transaction-scoped advisory
-- lock held until commit (see outbox/event-store.ts), so ids become visible in increasing order and a reader
-- that has seen id N has seen every committed event below N.
CREATE TABLE IF NOT EXISTS atrium.events (
  id bigserial PRIMARY KEY,
  type text NOT NULL,
  -- schema version of the payload for this type; a consumer reads the versions it knows
  version integer NOT NULL CHECK (version >= 1),
  -- the versioned document itself: { type, version, ... }
  payload jsonb NOT NULL,
  -- the data source (client) a row event was written to
  source text,
  -- who the event belongs to, as "<kind>:<id>" (a job's owner); NULL for Atrium's own events
  tenant text,
  request_id text,
  -- the process that wrote it (instance id), for tracing
  origin text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- retention deletes by age; rows arrive in time order
CREATE INDEX IF NOT EXISTS events_created_at ON atrium.events USING brin (created_at);

-- An event of a write to a data source (another database), recorded before that source commits. The
-- writer moves it to atrium.events once the source has committed; after a crash the recovery sweep asks
-- the source what became of `source_tx` (PostgreSQL: an xid8 for pg_xact_status; MySQL/MariaDB: an XA id).
CREATE TABLE IF NOT EXISTS atrium.pending_events (
  id uuid PRIMARY KEY,
  source text NOT NULL,
  dialect text NOT NULL CHECK (dialect IN ('postgres', 'mysql')),
  source_tx text NOT NULL,
  -- MySQL/MariaDB: 'preparing' until XA PREPARE succeeded, then 'prepared' (the decision to commit);
  -- PostgreSQL rows are written 'prepared' just before COMMIT
  state text NOT NULL CHECK (state IN ('preparing', 'prepared')),
  type text,
  version integer,
  payload jsonb,
  tenant text,
  request_id text,
  origin text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (state = 'preparing' OR (type IS NOT NULL AND version IS NOT NULL AND payload IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS pending_events_created_at ON atrium.pending_events (created_at);

-- Durable consumers (webhooks, audit): how far each has read atrium.events. A consumer's batch locks its
-- row, so the same consumer on several processes takes turns.
CREATE TABLE IF NOT EXISTS atrium.event_cursors (
  consumer text PRIMARY KEY,
  last_id bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
