-- Storage (/storage/*): buckets of each client, and the noncurrent versions of their objects.
-- The bytes live in the object store (src/objects/); these tables hold what the object store cannot.

CREATE TABLE IF NOT EXISTS atrium.storage_buckets (
  id uuid PRIMARY KEY,
  -- the owning client (X-Athena-Client, lower case): another client's bucket is not found
  client text NOT NULL,
  -- the storage connection (s3_id) the bucket lives in; 'default' is Atrium's own object store
  s3_id text NOT NULL,
  name text NOT NULL,
  public boolean NOT NULL DEFAULT false,
  versioning boolean NOT NULL DEFAULT false,
  -- bytes; null = only the object store's own limit
  file_size_limit bigint CHECK (file_size_limit IS NULL OR file_size_limit > 0),
  -- exact types or "type/*"; null = any type
  allowed_mime_types text[],
  cors jsonb NOT NULL DEFAULT '[]',
  lifecycle jsonb NOT NULL DEFAULT '[]',
  policy jsonb,
  public_access jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (client, s3_id, name)
);

-- Noncurrent versions of objects in versioned buckets. The bytes of a version are an object of its own in the
-- object store (bucket "v-<bucket id hex>", key = the version id), so versions work the same on every backend.
CREATE TABLE IF NOT EXISTS atrium.storage_object_versions (
  id uuid PRIMARY KEY,
  bucket_id uuid NOT NULL REFERENCES atrium.storage_buckets (id) ON DELETE CASCADE,
  key text NOT NULL,
  size bigint NOT NULL,
  etag text NOT NULL,
  content_type text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  -- when the content was replaced or deleted (it stopped being current)
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS storage_object_versions_key ON atrium.storage_object_versions (bucket_id, key, created_at DESC, id);
