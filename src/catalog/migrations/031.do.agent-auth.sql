-- Auth headers of workspace agents (src/agents/agent-auth.ts): header name → value sealed with the secret box,
-- sent on every connection to the agent's endpoint. Answers show the names only; null means none.
ALTER TABLE atrium.ws_agents ADD COLUMN IF NOT EXISTS auth_headers jsonb;
