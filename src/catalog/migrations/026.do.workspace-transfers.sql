-- Workspace imports and exports. An export writes a query job's stored result (query_job_id) or a table
-- (table_id) to one file in the object store; an import appends an uploaded file to a table. Each is run by a
-- durable job (atrium.jobs, running_job_id), whose record gives the status, so a crash leaves it retried or
-- failed, never running for ever. Every row carries its tenant and every lookup names it.
CREATE TABLE IF NOT EXISTS atrium.ws_exports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  query_job_id uuid REFERENCES atrium.ws_query_jobs (id),
  table_id uuid REFERENCES atrium.ws_tables (id),
  format text NOT NULL CHECK (format IN ('CSV', 'JSON', 'AVRO', 'PARQUET')),
  compression text NOT NULL CHECK (compression IN ('GZIP', 'DEFLATE', 'NONE')),
  -- private columns are NULL in the file: a table exported by a caller below Dataset editor, or a masked result
  mask_private boolean NOT NULL,
  requested_by uuid REFERENCES atrium.ws_users (id),
  running_job_id uuid,
  -- the file, once written: <bucket>/<key> in the object store
  object_key text,
  row_count bigint,
  size_bytes bigint,
  error_message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  CONSTRAINT ws_exports_one_source CHECK ((query_job_id IS NULL) <> (table_id IS NULL))
);
CREATE INDEX IF NOT EXISTS ws_exports_tenant ON atrium.ws_exports (tenant_id, created_at);
CREATE INDEX IF NOT EXISTS ws_exports_query_job ON atrium.ws_exports (query_job_id, created_at) WHERE query_job_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ws_exports_table ON atrium.ws_exports (table_id, created_at) WHERE table_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS atrium.ws_import_jobs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  table_id uuid NOT NULL REFERENCES atrium.ws_tables (id),
  -- the storage_path of POST /api/files/upload, as given; source_object is where it resolved (the caller's own folder)
  source_uri text NOT NULL,
  source_object text NOT NULL,
  format text NOT NULL CHECK (format IN ('CSV', 'JSONL', 'PARQUET')),
  requested_by uuid REFERENCES atrium.ws_users (id),
  running_job_id uuid,
  rows_read bigint,
  rows_imported bigint,
  bad_rows bigint,
  -- a few bad rows: [{row, reason}]
  bad_row_samples jsonb,
  error_message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);
CREATE INDEX IF NOT EXISTS ws_import_jobs_tenant ON atrium.ws_import_jobs (tenant_id, created_at);
CREATE INDEX IF NOT EXISTS ws_import_jobs_table ON atrium.ws_import_jobs (table_id, created_at);
