-- Atrium's own metadata lives in schema "atrium" of the catalog database.

CREATE TABLE IF NOT EXISTS atrium.clients (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_name text NOT NULL,
  description text,
  -- connection string encrypted with the configured secret key (AES-256-GCM), never stored in clear
  pg_uri_encrypted text,
  pg_uri_env_var text,
  config_uri_template text,
  source text NOT NULL DEFAULT 'database',
  is_active boolean NOT NULL DEFAULT true,
  is_frozen boolean NOT NULL DEFAULT false,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_synced_from_config_at timestamptz,
  last_seen_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS clients_live_name ON atrium.clients (client_name) WHERE deleted_at IS NULL;

-- One row per gateway request, written in batches off the request path; feeds client statistics.
CREATE TABLE IF NOT EXISTS atrium.request_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  request_id text,
  client_name text,
  table_name text,
  operation text NOT NULL,
  method text NOT NULL,
  path text NOT NULL,
  status integer NOT NULL,
  duration_ms real NOT NULL,
  cached boolean NOT NULL DEFAULT false,
  api_key_id uuid,
  user_id text,
  company_id text,
  organization_id text,
  sql_class text
);
CREATE INDEX IF NOT EXISTS request_log_client_at ON atrium.request_log (client_name, at);
