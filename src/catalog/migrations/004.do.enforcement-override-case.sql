-- Per-client key enforcement overrides are looked up by the lower-cased client name (client names are
-- case-insensitive everywhere), so they are stored lower-cased. Rows written in another case before this
-- are folded into one lower-case row per client: the most recently updated one wins, as it would have
-- been the last change an operator made.
DELETE FROM atrium.api_key_clients a
  USING atrium.api_key_clients b
  WHERE lower(a.client_name) = lower(b.client_name)
    AND a.client_name <> b.client_name
    AND (a.updated_at, a.client_name) < (b.updated_at, b.client_name);

UPDATE atrium.api_key_clients SET client_name = lower(client_name) WHERE client_name <> lower(client_name);

ALTER TABLE atrium.api_key_clients
  ADD CONSTRAINT api_key_clients_name_lower_case CHECK (client_name = lower(client_name));
