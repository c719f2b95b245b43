-- The Databases API (Polykomos): users and teams, platform keys (pk_live_…), provisioned databases, and the
-- idempotency records of its POST/PATCH/DELETE requests.

CREATE TABLE IF NOT EXISTS atrium.platform_users (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  primary_team_id bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- one user per e-mail address, whatever its case
CREATE UNIQUE INDEX IF NOT EXISTS platform_users_email ON atrium.platform_users (lower(email));

CREATE TABLE IF NOT EXISTS atrium.platform_teams (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS atrium.platform_team_members (
  team_id bigint NOT NULL REFERENCES atrium.platform_teams (id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES atrium.platform_users (id) ON DELETE CASCADE,
  role text NOT NULL DEFAULT 'owner',
  PRIMARY KEY (team_id, user_id)
);

CREATE TABLE IF NOT EXISTS atrium.platform_keys (
  id uuid PRIMARY KEY,
  -- the public part of pk_live_<public_id><secret>; the secret is kept only as its SHA-256
  public_id text NOT NULL UNIQUE,
  secret_hash bytea NOT NULL,
  user_id bigint NOT NULL REFERENCES atrium.platform_users (id) ON DELETE CASCADE,
  name text NOT NULL,
  scopes text[] NOT NULL,
  requests_per_minute integer NOT NULL,
  monthly_quota integer,
  allowed_ips text[] NOT NULL DEFAULT '{}',
  inactive_ttl_days integer,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- requests per key and calendar month (UTC), counted against monthly_quota
CREATE TABLE IF NOT EXISTS atrium.platform_key_usage (
  key_id uuid NOT NULL REFERENCES atrium.platform_keys (id) ON DELETE CASCADE,
  month date NOT NULL,
  requests bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, month)
);

CREATE TABLE IF NOT EXISTS atrium.managed_databases (
  id uuid PRIMARY KEY,
  team_id bigint NOT NULL REFERENCES atrium.platform_teams (id),
  name text NOT NULL,
  db_type text NOT NULL CHECK (db_type IN ('postgres', 'mysql')),
  region text NOT NULL,
  plan text NOT NULL,
  status text NOT NULL CHECK (status IN ('provisioning', 'active', 'paused', 'failed', 'deleted')),
  -- the database and role on the managed server, generated (never from the caller); also the client name
  db_name text NOT NULL UNIQUE,
  db_username text NOT NULL,
  -- the role's password, sealed with the secret key (auth/secret-box.ts)
  password_sealed text NOT NULL,
  host text NOT NULL,
  port integer NOT NULL,
  storage_hard_limit_gb numeric,
  connection_hard_limit integer,
  warning_threshold_pct integer,
  job_id uuid,
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
-- a team's live databases, newest first (the list's cursor)
CREATE INDEX IF NOT EXISTS managed_databases_team ON atrium.managed_databases (team_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- Stripe-style idempotency: the first request with a key claims it; its answer is replayed for 24 hours.
CREATE TABLE IF NOT EXISTS atrium.idempotency_keys (
  -- the retention job deletes by id (jobs/retention-job.ts)
  id bigserial UNIQUE,
  owner text NOT NULL,
  key text NOT NULL,
  -- SHA-256 of method, path and body: the same key with another request is refused
  fingerprint text NOT NULL,
  status integer,
  response text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON atrium.idempotency_keys (created_at);
