-- Workspace approvals: a project asks another tenant to join it (project_tenant) or asks for a dataset
-- (project_dataset); the Org admins of the other side approve (the association is created) or reject (the
-- reason is kept). A request left pending expires after workspace.approvalTtlDays (15 by default).
CREATE TABLE IF NOT EXISTS atrium.ws_approvals (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL,
  -- the requesting side: the project and its tenant
  requester_tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  project_id uuid NOT NULL REFERENCES atrium.ws_projects (id),
  -- the reviewing side: the invited tenant, or the tenant owning the dataset; its Org admins review
  target_tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  dataset_id uuid REFERENCES atrium.ws_datasets (id),
  status text NOT NULL DEFAULT 'pending',
  -- null when the platform administrator (the admin key) acted
  requested_by uuid REFERENCES atrium.ws_users (id),
  reviewed_by uuid REFERENCES atrium.ws_users (id),
  rejection_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  reviewed_at timestamptz
);
ALTER TABLE atrium.ws_approvals DROP CONSTRAINT IF EXISTS ws_approvals_kind_check;
ALTER TABLE atrium.ws_approvals ADD CONSTRAINT ws_approvals_kind_check CHECK (kind IN ('project_tenant', 'project_dataset'));
ALTER TABLE atrium.ws_approvals DROP CONSTRAINT IF EXISTS ws_approvals_status_check;
ALTER TABLE atrium.ws_approvals ADD CONSTRAINT ws_approvals_status_check CHECK (status IN ('pending', 'approved', 'rejected', 'expired'));
ALTER TABLE atrium.ws_approvals DROP CONSTRAINT IF EXISTS ws_approvals_dataset_check;
ALTER TABLE atrium.ws_approvals ADD CONSTRAINT ws_approvals_dataset_check CHECK ((kind = 'project_dataset') = (dataset_id IS NOT NULL));
-- one pending request per project and tenant, or per project and dataset
CREATE UNIQUE INDEX IF NOT EXISTS ws_approvals_one_pending ON atrium.ws_approvals (project_id, target_tenant_id, coalesce(dataset_id, project_id)) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS ws_approvals_target ON atrium.ws_approvals (target_tenant_id, status, created_at);
CREATE INDEX IF NOT EXISTS ws_approvals_expiry ON atrium.ws_approvals (expires_at) WHERE status = 'pending';

-- what an approval created: a tenant that joined a project, a dataset shared into a project (readable there)
CREATE TABLE IF NOT EXISTS atrium.ws_project_tenants (
  project_id uuid NOT NULL REFERENCES atrium.ws_projects (id),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  approval_id uuid NOT NULL REFERENCES atrium.ws_approvals (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, tenant_id)
);
CREATE TABLE IF NOT EXISTS atrium.ws_project_datasets (
  project_id uuid NOT NULL REFERENCES atrium.ws_projects (id),
  dataset_id uuid NOT NULL REFERENCES atrium.ws_datasets (id),
  approval_id uuid NOT NULL REFERENCES atrium.ws_approvals (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, dataset_id)
);

-- a query job's statement: select, insert, update or delete (dml_stats says which counts apply)
ALTER TABLE atrium.ws_query_jobs ADD COLUMN IF NOT EXISTS statement_kind text;
