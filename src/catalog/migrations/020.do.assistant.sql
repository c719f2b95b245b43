-- The Assistant API: each user's named connections (a data source in atrium.clients, whose connection string is
-- sealed there) and each user's settings. Users are the `sub` of their session token.
CREATE TABLE IF NOT EXISTS atrium.assistant_connections (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_sub text NOT NULL,
  name text NOT NULL,
  provider text NOT NULL CHECK (provider IN ('postgres', 'mysql')),
  -- the catalog client serving it; generated, so two users' "warehouse" never meet
  client_name text NOT NULL UNIQUE,
  allow_writes boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner_sub, name)
);

CREATE TABLE IF NOT EXISTS atrium.assistant_settings (
  user_sub text PRIMARY KEY,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Natural-language query executions of the Databases API (POST /api/v1/query_executions): what was asked of
-- which database, the SQL it became and how it ended. query_id is the id.
CREATE TABLE IF NOT EXISTS atrium.query_executions (
  id bigserial PRIMARY KEY,
  database_id uuid NOT NULL,
  platform_key_id text NOT NULL,
  query text NOT NULL,
  sql text,
  provider text,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS query_executions_database ON atrium.query_executions (database_id, id);
