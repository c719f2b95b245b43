-- Workspace agents (src/agents/, docs/agents.md): MCP or A2A endpoints a tenant registers, assigned to its
-- projects, and reached through the agent gateway under their own rate limits. Deletes are soft (archived_at).
CREATE TABLE IF NOT EXISTS atrium.ws_agents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  name text NOT NULL,
  description text,
  protocol text NOT NULL,
  endpoint_url text NOT NULL,
  capabilities jsonb,
  agent_metadata jsonb,
  status text NOT NULL DEFAULT 'active',
  created_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
ALTER TABLE atrium.ws_agents DROP CONSTRAINT IF EXISTS ws_agents_protocol;
ALTER TABLE atrium.ws_agents ADD CONSTRAINT ws_agents_protocol CHECK (protocol IN ('MCP', 'A2A'));
ALTER TABLE atrium.ws_agents DROP CONSTRAINT IF EXISTS ws_agents_status;
ALTER TABLE atrium.ws_agents ADD CONSTRAINT ws_agents_status CHECK (status IN ('active', 'inactive'));
CREATE INDEX IF NOT EXISTS ws_agents_tenant ON atrium.ws_agents (tenant_id, created_at);

-- an agent's own limits; without a row the configured defaults apply (agents.default*). 0 = unlimited.
CREATE TABLE IF NOT EXISTS atrium.ws_agent_rate_limits (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  agent_id uuid NOT NULL UNIQUE REFERENCES atrium.ws_agents (id),
  per_second integer NOT NULL,
  per_minute integer NOT NULL,
  per_hour integer NOT NULL,
  max_concurrency integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- which projects may route to an agent; removal is soft so the history stays, and one live row per pair
CREATE TABLE IF NOT EXISTS atrium.ws_project_agents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES atrium.ws_tenants (id),
  project_id uuid NOT NULL REFERENCES atrium.ws_projects (id),
  agent_id uuid NOT NULL REFERENCES atrium.ws_agents (id),
  role text,
  created_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS ws_project_agents_live ON atrium.ws_project_agents (project_id, agent_id) WHERE archived_at IS NULL;
CREATE INDEX IF NOT EXISTS ws_project_agents_agent ON atrium.ws_project_agents (agent_id) WHERE archived_at IS NULL;
