-- Workspace (DataCovey): tenants, their users and invitations, projects → datasets → tables. Every row carries
-- its tenant, and every lookup names it, so another tenant's id is simply not found. Deletes are soft
-- (archived_at); archived rows leave lists and answer 404.
CREATE TABLE IF NOT EXISTS atrium.ws_tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);

-- role: 'Dataset user' < 'Dataset editor' < 'Org admin' (src/tenancy/roles.ts)
CREATE TABLE IF NOT EXISTS atrium.ws_users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('Dataset user', 'Dataset editor', 'Org admin')),
  -- the session token's sub once the user has signed in (or as created); a token is matched on it first
  identity_provider_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
-- a token finds at most one live user, by its sub or else its e-mail
CREATE UNIQUE INDEX IF NOT EXISTS ws_users_live_email ON atrium.ws_users (lower(email)) WHERE archived_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS ws_users_live_idp ON atrium.ws_users (identity_provider_id) WHERE archived_at IS NULL AND identity_provider_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ws_users_tenant ON atrium.ws_users (tenant_id, created_at);

-- an invitation becomes a user on the invitee's first sign-in (a token whose e-mail matches, before expires_at)
CREATE TABLE IF NOT EXISTS atrium.ws_invitations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('Dataset user', 'Dataset editor', 'Org admin')),
  -- sha-256 of the invitation token, which is shown once in the invite's answer
  token_hash text NOT NULL UNIQUE,
  invited_by uuid REFERENCES atrium.ws_users (id),
  expires_at timestamptz NOT NULL,
  accepted_user_id uuid REFERENCES atrium.ws_users (id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ws_invitations_email ON atrium.ws_invitations (lower(email)) WHERE accepted_user_id IS NULL;

CREATE TABLE IF NOT EXISTS atrium.ws_projects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  name text NOT NULL,
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
CREATE INDEX IF NOT EXISTS ws_projects_tenant ON atrium.ws_projects (tenant_id, created_at);

-- a dataset's name is how SQL names it (dataset.table): unique among the tenant's live datasets
CREATE TABLE IF NOT EXISTS atrium.ws_datasets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  project_id uuid NOT NULL REFERENCES atrium.ws_projects (id),
  name text NOT NULL,
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS ws_datasets_live_name ON atrium.ws_datasets (tenant_id, name) WHERE archived_at IS NULL;
CREATE INDEX IF NOT EXISTS ws_datasets_project ON atrium.ws_datasets (project_id, created_at);

-- schema: {"columns":[{"name","type","nullable","private"}]}; the warehouse table is named by the ids, so
-- renaming a table or its dataset never touches the warehouse
CREATE TABLE IF NOT EXISTS atrium.ws_tables (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  dataset_id uuid NOT NULL REFERENCES atrium.ws_datasets (id),
  name text NOT NULL,
  schema jsonb NOT NULL,
  -- when the table's columns or rows last changed: a stored query result over it is reused only if it is newer
  changed_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS ws_tables_live_name ON atrium.ws_tables (dataset_id, name) WHERE archived_at IS NULL;

-- saved queries of a project
CREATE TABLE IF NOT EXISTS atrium.ws_queries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  project_id uuid NOT NULL REFERENCES atrium.ws_projects (id),
  query_text text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
CREATE INDEX IF NOT EXISTS ws_queries_tenant ON atrium.ws_queries (tenant_id, created_at);

-- one run of a query: the durable job (atrium.jobs, running_job_id) runs it; its status is the job record's,
-- so a job retried or failed after a crash is never reported as running here. Statistics are BigQuery's.
CREATE TABLE IF NOT EXISTS atrium.ws_query_jobs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  project_id uuid NOT NULL REFERENCES atrium.ws_projects (id),
  query_id uuid NOT NULL REFERENCES atrium.ws_queries (id),
  query_text text NOT NULL,
  running_job_id uuid,
  -- private columns are masked for whoever submitted it (a role below Dataset editor, at submit time)
  mask_private boolean NOT NULL,
  submitted_by uuid REFERENCES atrium.ws_users (id),
  -- sha-256 of the query as run (after name resolution and masking): equal keys over unchanged tables share a result
  cache_key text,
  result_key text,
  result_columns jsonb,
  column_privacy jsonb,
  private_row_count bigint,
  total_rows bigint,
  total_bytes_processed bigint,
  total_slot_ms bigint,
  cache_hit boolean,
  num_dml_affected_rows bigint,
  query_plan jsonb,
  timeline jsonb,
  error_result jsonb,
  started timestamptz,
  ended timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ws_query_jobs_tenant ON atrium.ws_query_jobs (tenant_id, created_at);
CREATE INDEX IF NOT EXISTS ws_query_jobs_query ON atrium.ws_query_jobs (query_id, created_at);
CREATE INDEX IF NOT EXISTS ws_query_jobs_cache ON atrium.ws_query_jobs (tenant_id, cache_key) WHERE result_key IS NOT NULL;

-- what each query job cost: bytes processed × workspace.pricePerTbUsd, recorded when it finishes (0 on a cache hit);
-- the daily and monthly quotas are checked against these sums (UTC days and months) before a run is accepted
CREATE TABLE IF NOT EXISTS atrium.ws_query_costs (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  query_job_id uuid NOT NULL UNIQUE REFERENCES atrium.ws_query_jobs (id),
  bytes_processed bigint NOT NULL,
  cost_usd numeric(24, 12) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ws_query_costs_tenant ON atrium.ws_query_costs (tenant_id, created_at);
