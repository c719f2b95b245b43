-- API keys, the rights catalogue and key enforcement settings.

CREATE TABLE IF NOT EXISTS atrium.api_key_rights (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$' OR name = '*'),
  description text,
  is_builtin boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO atrium.api_key_rights (name, description, is_builtin) VALUES
  ('*', 'every right', true),
  ('gateway.read', 'read rows: fetch, /data, /rest/v1 GET, counts', true),
  ('gateway.insert', 'insert rows', true),
  ('gateway.update', 'update rows (and upsert on conflict)', true),
  ('gateway.delete', 'delete rows', true),
  ('gateway.rpc', 'call database functions', true),
  ('sql.read', 'raw SQL that only reads', true),
  ('sql.write', 'raw SQL that writes rows', true),
  ('sql.ddl', 'raw SQL that changes the schema', true),
  ('schema.read', 'schema metadata: tables, columns, migrations', true),
  ('storage.read', 'read stored objects', true),
  ('storage.write', 'write stored objects', true),
  ('management.read', 'management capabilities', true),
  ('management.tables.write', 'create tables and alter them', true),
  ('management.tables.drop', 'drop tables', true),
  ('management.columns.drop', 'drop columns', true),
  ('management.indexes.write', 'create indexes', true),
  ('management.indexes.drop', 'drop indexes', true),
  ('management.extensions.write', 'install extensions', true)
ON CONFLICT (name) DO NOTHING;

CREATE TABLE IF NOT EXISTS atrium.api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  public_id text NOT NULL UNIQUE,
  -- SHA-256 of the secret part; the secret itself is never stored
  secret_hash bytea NOT NULL,
  name text NOT NULL,
  description text,
  client_name text,
  expires_at timestamptz,
  is_active boolean NOT NULL DEFAULT true,
  last_used_at timestamptz,
  rights text[] NOT NULL DEFAULT '{}',
  allowed_ips text[] NOT NULL DEFAULT '{}',
  lock_in boolean NOT NULL DEFAULT false,
  locked_client text,
  locked_address text,
  locked_at timestamptz,
  rate_limit integer CHECK (rate_limit IS NULL OR rate_limit >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS atrium.api_key_config (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  enforce_api_keys boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS atrium.api_key_clients (
  client_name text PRIMARY KEY,
  enforce_api_keys boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
