-- Public routes: one operation an administrator publishes under a route key, callable without a key.
CREATE TABLE IF NOT EXISTS atrium.public_routes (
  route_key text PRIMARY KEY CHECK (route_key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  client_name text NOT NULL,
  -- what is published: 'fetch' (rows and their count from one table); other kinds are added as new values
  operation text NOT NULL CHECK (operation IN ('fetch')),
  table_name text NOT NULL,
  -- the columns a caller may read, filter and order by; never empty
  columns text[] NOT NULL CHECK (cardinality(columns) > 0),
  -- Athena conditions ANDed to every call
  conditions jsonb NOT NULL DEFAULT '[]',
  -- most rows one call returns
  max_limit integer NOT NULL CHECK (max_limit BETWEEN 1 AND 1000),
  -- calls per rate-limit window per address; NULL uses rateLimits.publicPerIp
  rate_limit integer CHECK (rate_limit > 0),
  description text,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Deferred gateway requests (Prefer: respond-async): the request as submitted, who submitted it, and what came
-- of it. The job (atrium.jobs, pg-boss) runs it; this row keeps the answer, which a job record must not hold.
CREATE TABLE IF NOT EXISTS atrium.deferred_requests (
  id uuid PRIMARY KEY,
  -- who submitted it, and so who may read it: an API key's id, a session user's sub, or 'admin'
  owner_kind text NOT NULL CHECK (owner_kind IN ('admin', 'key', 'user')),
  owner_id text NOT NULL,
  -- a session user's role and token expiry, so the rights can be checked again when the request runs
  owner_role text,
  owner_expires_at timestamptz,
  client_name text NOT NULL,
  -- the gateway operation (gateway.fetch, gateway.insert, …) and its request: body, X-Strip-Nulls, X-Publish-Event
  operation text NOT NULL,
  request jsonb NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  -- the HTTP status and body the synchronous call would have answered
  result_status integer,
  result_body text,
  error_code text,
  error_message text,
  job_id uuid NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  -- a finished request's answer is served until then; the row is deleted deferred.retentionDays after it
  expires_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS deferred_requests_expires ON atrium.deferred_requests (expires_at);
