-- Webhooks: endpoints that receive committed events, and one delivery record per (event, endpoint).

CREATE TABLE IF NOT EXISTS atrium.webhook_endpoints (
  id uuid PRIMARY KEY,
  url text NOT NULL,
  description text,
  -- which events the endpoint receives: an empty list in a dimension means every value
  filter_clients text[] NOT NULL DEFAULT '{}',
  filter_tables text[] NOT NULL DEFAULT '{}',
  filter_types text[] NOT NULL DEFAULT '{}',
  enabled boolean NOT NULL DEFAULT true,
  -- the signing secret (whsec_…), sealed with the secret key (auth/secret-box.ts); shown only on creation
  secret_sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (event, endpoint): its id is the webhook-id every attempt and replay carries, so a receiver can
-- drop duplicates. Test deliveries have no event.
CREATE TABLE IF NOT EXISTS atrium.webhook_deliveries (
  id uuid PRIMARY KEY,
  endpoint_id uuid NOT NULL REFERENCES atrium.webhook_endpoints (id) ON DELETE CASCADE,
  event_id bigint,
  event_type text NOT NULL,
  -- the body sent, fixed when the delivery is created so every attempt signs the same bytes
  body text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  response_status integer,
  last_error text,
  job_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (endpoint_id, event_id)
);
-- the deliveries of an endpoint, newest first
CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint ON atrium.webhook_deliveries (endpoint_id, created_at DESC, id DESC);
