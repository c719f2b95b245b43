-- Local PostgreSQL instances started by /admin/provision/instances, from the embedded-postgres binaries or as a
-- Docker container: one row per instance, so any process sharing the catalog (on the same host) can inspect or
-- stop it: by the PID in its data directory, or through the Docker Engine by its container name.
CREATE TABLE IF NOT EXISTS atrium.provision_instances (
  container_name text PRIMARY KEY,
  -- the client the instance is (or would be) registered as
  client_name text NOT NULL,
  -- 'embedded': a postgres process of the embedded-postgres binaries, in data_dir, on host:port
  -- 'docker': a container named container_name, its port 5432 published on host:port (data_dir empty)
  backend text NOT NULL DEFAULT 'embedded',
  data_dir text NOT NULL,
  host text NOT NULL,
  port integer NOT NULL,
  db_name text NOT NULL,
  username text NOT NULL,
  -- sealed with the secret key, like atrium.clients.pg_uri_encrypted
  password_encrypted text NOT NULL,
  -- whether creating it also registered the client (so deleting it removes that client unless told not to)
  registered boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
