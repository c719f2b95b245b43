-- Retention of workspace export files (workspace.exportRetentionDays, src/warehouse/exports/export-retention.ts):
-- an hourly job deletes the file of an export finished longer ago than the retention, then sets file_deleted_at.
-- The row stays (its status stays done), so the export can still be listed and read, and download says why its
-- file is gone. object_key is kept: the job deletes the object before marking the row, and a run after a crash
-- in between deletes the (already missing) object again and marks the row.
ALTER TABLE atrium.ws_exports ADD COLUMN IF NOT EXISTS file_deleted_at timestamptz;

-- what the job looks for: written files not deleted yet, oldest first
CREATE INDEX IF NOT EXISTS ws_exports_retained_files ON atrium.ws_exports (completed_at)
  WHERE object_key IS NOT NULL AND file_deleted_at IS NULL;
