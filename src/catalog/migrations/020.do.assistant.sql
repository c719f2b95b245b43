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
