-- Backups: archives of a client's database in the object store, the backup and restore jobs that make and use
-- them (numbered, as the backup API names jobs; each is also a durable job in atrium.jobs), and schedules.

-- A backup or restore as the backup API shows it; its status, progress and error live on the job record.
CREATE TABLE IF NOT EXISTS atrium.backup_jobs (
  id bigserial PRIMARY KEY,
  job_id uuid NOT NULL UNIQUE,
  job_type text NOT NULL CHECK (job_type IN ('backup', 'restore')),
  -- backup: the client dumped; restore: the target client
  client_name text NOT NULL,
  label text,
  -- the archive's object key: chosen when a backup job is queued, or the one a restore reads
  backup_key text NOT NULL,
  schedule_id bigint,
  force boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS backup_jobs_newest ON atrium.backup_jobs (id DESC);

-- A finished archive. The row is written only after every byte is stored, in the job's last step, so a
-- backup that was cut short (crash, cancel, failed dump) is never listed.
CREATE TABLE IF NOT EXISTS atrium.backups (
  key text PRIMARY KEY,
  client_name text NOT NULL,
  engine text NOT NULL CHECK (engine IN ('postgres', 'mysql')),
  -- pg_custom: pg_dump -Fc (compressed by pg_dump); sql_gzip: mariadb-dump's SQL, gzipped
  format text NOT NULL,
  label text,
  size_bytes bigint NOT NULL,
  sha256 text NOT NULL,
  server_version text NOT NULL,
  tool_version text NOT NULL,
  -- [{schema, name, rows}] counted just before the dump
  tables jsonb NOT NULL DEFAULT '[]',
  backup_job_id bigint NOT NULL,
  schedule_id bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS backups_newest ON atrium.backups (completed_at DESC, key);
CREATE INDEX IF NOT EXISTS backups_schedule ON atrium.backups (schedule_id, completed_at DESC) WHERE schedule_id IS NOT NULL;

-- Recurring backups: a cron expression (UTC) and how many of the schedule's archives to keep.
CREATE TABLE IF NOT EXISTS atrium.backup_schedules (
  id bigserial PRIMARY KEY,
  client_name text NOT NULL,
  cron text NOT NULL,
  -- the SDK's frequency form, kept as given; cron is derived from it
  frequency text,
  time_of_day text,
  day_of_week integer,
  day_of_month integer,
  keep_last integer,
  label text,
  enabled boolean NOT NULL DEFAULT true,
  -- the last cron tick a backup was queued for; the tick job moves it forward exactly once per tick
  last_run_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
