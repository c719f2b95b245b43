-- GET /gateway/deferred lists a caller's deferred requests newest first, paged by (created_at, id): one index
-- per way of asking, so a page is read from the index whatever the table's size. A key or a session reads its
-- own (owner first); the admin key reads every owner's.
CREATE INDEX IF NOT EXISTS deferred_requests_owner_created
  ON atrium.deferred_requests (owner_kind, owner_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS deferred_requests_created
  ON atrium.deferred_requests (created_at DESC, id DESC);
