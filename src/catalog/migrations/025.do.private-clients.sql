-- A client can be private to one session user (an Assistant connection): owner_sub is the token `sub` of its
-- owner. Such a client is reached only through that user's /api routes; every other surface answers as for an
-- unknown client, and listings other principals see leave it out. NULL = an ordinary, shared client.
ALTER TABLE atrium.clients ADD COLUMN IF NOT EXISTS owner_sub text;

-- connections registered before this column existed become their owner's
UPDATE atrium.clients c SET owner_sub = a.owner_sub
  FROM atrium.assistant_connections a
 WHERE a.client_name = c.client_name AND c.owner_sub IS NULL;
