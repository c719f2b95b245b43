-- Public routes gain a second operation kind, storage_read: objects of one bucket under a fixed prefix, read
-- (get) and listed (list) without a key. A fetch names a table and columns; a storage read a bucket and prefix.
ALTER TABLE atrium.public_routes DROP CONSTRAINT IF EXISTS public_routes_operation_check;
ALTER TABLE atrium.public_routes ADD CONSTRAINT public_routes_operation_check CHECK (operation IN ('fetch', 'storage_read'));
ALTER TABLE atrium.public_routes ALTER COLUMN table_name DROP NOT NULL;
ALTER TABLE atrium.public_routes ALTER COLUMN columns DROP NOT NULL;
-- the bucket (of client_name, on storage connection s3_id) and the key prefix every call stays under ('' = all)
ALTER TABLE atrium.public_routes ADD COLUMN IF NOT EXISTS bucket text;
ALTER TABLE atrium.public_routes ADD COLUMN IF NOT EXISTS s3_id text;
ALTER TABLE atrium.public_routes ADD COLUMN IF NOT EXISTS prefix text;
-- each kind has exactly its own fields (dropped first: every migration may run again)
ALTER TABLE atrium.public_routes DROP CONSTRAINT IF EXISTS public_routes_kind_fields;
ALTER TABLE atrium.public_routes ADD CONSTRAINT public_routes_kind_fields CHECK (
  (operation = 'fetch' AND table_name IS NOT NULL AND columns IS NOT NULL AND bucket IS NULL AND s3_id IS NULL AND prefix IS NULL)
  OR (operation = 'storage_read' AND bucket IS NOT NULL AND s3_id IS NOT NULL AND prefix IS NOT NULL AND table_name IS NULL AND columns IS NULL)
);
