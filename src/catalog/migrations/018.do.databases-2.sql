-- The Databases API, second part. Blueprints: SQL templates of a team, each update a new version, and their applications
-- to databases (durable jobs with per-statement results). A database may name a blueprint applied once it is made.
-- Then the teams' own webhook endpoints, storage quotas and the warm pool (below).

CREATE TABLE IF NOT EXISTS atrium.blueprints (
  id uuid PRIMARY KEY,
  team_id bigint NOT NULL REFERENCES atrium.platform_teams (id),
  name text NOT NULL,
  slug text NOT NULL,
  description text,
  db_type text NOT NULL CHECK (db_type IN ('postgres', 'mysql')),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
-- a team's live blueprints, newest first (the list's cursor)
CREATE INDEX IF NOT EXISTS blueprints_team ON atrium.blueprints (team_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- every version is kept: applications name the version they ran
CREATE TABLE IF NOT EXISTS atrium.blueprint_versions (
  blueprint_id uuid NOT NULL REFERENCES atrium.blueprints (id) ON DELETE CASCADE,
  version integer NOT NULL,
  sql_content text NOT NULL,
  variables jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (blueprint_id, version)
);

CREATE TABLE IF NOT EXISTS atrium.blueprint_applications (
  id bigserial PRIMARY KEY,
  team_id bigint NOT NULL REFERENCES atrium.platform_teams (id),
  blueprint_id uuid NOT NULL REFERENCES atrium.blueprints (id),
  blueprint_version integer NOT NULL,
  database_id uuid NOT NULL REFERENCES atrium.managed_databases (id),
  status text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'rolled_back')),
  is_dry_run boolean NOT NULL DEFAULT false,
  -- the values bound to the placeholders (already checked against the declared types)
  variable_values jsonb NOT NULL DEFAULT '{}',
  execution_log jsonb,
  statements_total integer NOT NULL DEFAULT 0,
  statements_succeeded integer NOT NULL DEFAULT 0,
  statements_failed integer NOT NULL DEFAULT 0,
  error_message text,
  total_duration_ms integer,
  job_id uuid,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS blueprint_applications_database ON atrium.blueprint_applications (database_id, id DESC);

-- the blueprint a database is created with, applied by the provisioning job once the database is active
ALTER TABLE atrium.managed_databases ADD COLUMN IF NOT EXISTS blueprint_id uuid REFERENCES atrium.blueprints (id);
ALTER TABLE atrium.managed_databases ADD COLUMN IF NOT EXISTS blueprint_variables jsonb;
ALTER TABLE atrium.managed_databases ADD COLUMN IF NOT EXISTS blueprint_application_id bigint;

-- Webhook endpoints of a Databases API team (/api/v1/webhook_endpoints) on the one webhooks engine: the owner
-- ("team:<id>"; NULL for the administrator's endpoints) receives only its own team's events. The Polykomos
-- protocol names endpoints and deliveries by integers: `number`. A revoked endpoint is kept, disabled.
ALTER TABLE atrium.webhook_endpoints ADD COLUMN IF NOT EXISTS owner text;
ALTER TABLE atrium.webhook_endpoints ADD COLUMN IF NOT EXISTS number bigserial;
ALTER TABLE atrium.webhook_endpoints ADD COLUMN IF NOT EXISTS revoked_at timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS webhook_endpoints_number ON atrium.webhook_endpoints (number);
CREATE INDEX IF NOT EXISTS webhook_endpoints_owner ON atrium.webhook_endpoints (owner, number DESC) WHERE owner IS NOT NULL;
ALTER TABLE atrium.webhook_deliveries ADD COLUMN IF NOT EXISTS number bigserial;
CREATE INDEX IF NOT EXISTS webhook_deliveries_number ON atrium.webhook_deliveries (endpoint_id, number DESC);

-- Storage quotas: the last measurement of each database, whether the warning for the current crossing of
-- warning_threshold_pct was sent, and whether the hard limit made the database read-only.
ALTER TABLE atrium.managed_databases ADD COLUMN IF NOT EXISTS storage_used_bytes bigint;
ALTER TABLE atrium.managed_databases ADD COLUMN IF NOT EXISTS storage_measured_at timestamptz;
ALTER TABLE atrium.managed_databases ADD COLUMN IF NOT EXISTS quota_warned boolean NOT NULL DEFAULT false;
ALTER TABLE atrium.managed_databases ADD COLUMN IF NOT EXISTS read_only boolean NOT NULL DEFAULT false;

-- The warm pool: databases and logins made ahead of demand per region and engine, so a create takes one at
-- once. A row is written before its database is made (ready = false), so a crash leaves a row the next refill
-- finishes, never a database nothing knows of. A create deletes the row it takes, in its own transaction.
CREATE TABLE IF NOT EXISTS atrium.warm_databases (
  id uuid PRIMARY KEY,
  region text NOT NULL,
  db_type text NOT NULL CHECK (db_type IN ('postgres', 'mysql')),
  db_name text NOT NULL UNIQUE,
  db_username text NOT NULL,
  password_sealed text NOT NULL,
  host text NOT NULL,
  port integer NOT NULL,
  ready boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS warm_databases_ready ON atrium.warm_databases (region, db_type, created_at) WHERE ready;
