-- Storage file records (/storage/files*, /storage/multipart/*): one row per managed file. The bytes are one
-- object in the file's bucket (key = storage_key); this row holds what the SDK reads about it.

CREATE TABLE IF NOT EXISTS atrium.storage_files (
  id uuid PRIMARY KEY,
  -- the owning client, as its bucket's: another client's file is not found
  client text NOT NULL,
  -- a file goes with its bucket (deleting a bucket with force deletes its files)
  bucket_id uuid NOT NULL REFERENCES atrium.storage_buckets (id) ON DELETE CASCADE,
  storage_key text NOT NULL,
  name text NOT NULL,
  original_name text,
  mime_type text,
  content_type text,
  -- measured by Atrium once the bytes are in the store; before that, what the uploader announced
  size_bytes bigint CHECK (size_bytes IS NULL OR size_bytes >= 0),
  checksum_sha256 text,
  etag text,
  resource_id text,
  metadata jsonb NOT NULL DEFAULT '{}',
  visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'organization', 'public')),
  -- pending: the record exists, the bytes are not confirmed yet; uploaded: the object is in the store
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'uploaded')),
  -- the multipart upload in progress, if any (one at a time per file)
  upload_id text,
  -- who created the record: the key's public id, the session's subject, or 'admin'
  created_by text,
  -- clock_timestamp(): files made in one transaction (a batch of upload URLs) list in the order they were made
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- soft delete: the object stays until the file is purged, so a deleted file can be restored
  deleted_at timestamptz,
  -- one record per object, deleted or not: two records on one key would overwrite each other's bytes
  UNIQUE (bucket_id, storage_key)
);
-- lists are per client, newest last, by (created_at, id)
CREATE INDEX IF NOT EXISTS storage_files_client ON atrium.storage_files (client, created_at, id);
