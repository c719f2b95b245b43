-- Admission events: every request refused before or while it was admitted (missing or bad key, missing
-- right, IP policy, frozen client, rate limit, deadline, raw-SQL concurrency), written in batches off the
-- request path. Listed by GET /admin/admission-events, newest first; pruned by admission.retentionDays.
CREATE TABLE IF NOT EXISTS atrium.admission_events (
  -- the listing order (newest first) and the cursor
  id bigserial PRIMARY KEY,
  -- when the refusal was answered
  at timestamptz NOT NULL,
  -- the error code the caller got (rate_limited, missing_right, ...)
  kind text NOT NULL,
  -- the X-Athena-Client client the request was about, when it named one
  client text,
  -- the public id of the presented API key (never its secret)
  key_id text,
  -- the subject of a verified session
  user_id text,
  ip text,
  method text NOT NULL,
  -- the route's path pattern, and its dotted operation id
  route text,
  operation text,
  status integer NOT NULL,
  request_id text,
  -- the refusal's message
  detail text
);
-- retention deletes by age; rows arrive in time order
CREATE INDEX IF NOT EXISTS admission_events_at ON atrium.admission_events USING brin (at);
-- the filters a listing takes, each walked newest first
CREATE INDEX IF NOT EXISTS admission_events_client ON atrium.admission_events (client, id);
CREATE INDEX IF NOT EXISTS admission_events_key ON atrium.admission_events (key_id, id);
CREATE INDEX IF NOT EXISTS admission_events_kind ON atrium.admission_events (kind, id);
