-- Job records: what a user (or an operator) sees of a durable job. pg-boss (schema atrium_jobs) owns the
-- queue and its retries; this row owns the story told about the job: who asked, how far it got, what came
-- out, and why it failed. Both are written in the same catalog transactions.
CREATE TABLE IF NOT EXISTS atrium.jobs (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  -- who the job belongs to: an API key id, a session user's sub, a tenant id; NULL for Atrium's own jobs
  owner_kind text CHECK (owner_kind IN ('key', 'user', 'tenant')),
  owner_id text,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  progress real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  progress_message text,
  -- handler runs started so far (a run handed back at shutdown does not count)
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  -- a pointer or a summary (an object key, a row count), never a large payload
  result jsonb,
  error_code text,
  error_message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  boss_job_id uuid NOT NULL,
  CHECK ((owner_kind IS NULL) = (owner_id IS NULL))
);

-- a user's jobs, newest first (list pages by (created_at, id))
CREATE INDEX IF NOT EXISTS jobs_owner_created ON atrium.jobs (owner_kind, owner_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_created ON atrium.jobs (created_at DESC, id DESC);
-- the maintenance sweep looks at unfinished records only
CREATE INDEX IF NOT EXISTS jobs_unfinished ON atrium.jobs (status) WHERE status IN ('queued', 'running');

-- Steps a handler has finished (JobContext.step): written in the same transaction as the step's own effect,
-- so a job run again after a crash skips what is already done instead of doing it twice.
CREATE TABLE IF NOT EXISTS atrium.job_steps (
  job_id uuid NOT NULL REFERENCES atrium.jobs (id) ON DELETE CASCADE,
  step text NOT NULL,
  output jsonb,
  done_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, step)
);
