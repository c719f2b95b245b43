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
  created_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS ws_tables_live_name ON atrium.ws_tables (dataset_id, name) WHERE archived_at IS NULL;
