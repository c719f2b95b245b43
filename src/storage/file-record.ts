// The wire shape of one file record (what athena-js 5 reads as ManagedFileRecord), made from the stored row.
// Pure: no I/O.
import type { StoredFile } from './file-store.js'

export interface ManagedFileRecord {
  id: string
  name: string
  original_name: string | null
  file_name: string
  extension: string | null
  url: string | null
  bucket: string
  s3_id: string
  storage_key: string
  prefix_path: string | null
  size_bytes: number | null
  mime_type: string | null
  content_type: string | null
  checksum_sha256: string | null
  etag: string | null
  resource_id: string | null
  organization_id: string | null
  metadata: Record<string, unknown>
  visibility: StoredFile['visibility']
  is_public: boolean
  /** pending, uploaded, or deleted (soft-deleted: restorable until purged) */
  status: string
  upload_id: string | null
  created_by_user_id: string | null
  uploaded_by_user_id: string | null
  created_at: string
  updated_at: string
  deleted_at: string | null
}

export function toManagedFileRecord(f: StoredFile): ManagedFileRecord {
  const slash = f.storage_key.lastIndexOf('/')
  const fileName = f.storage_key.slice(slash + 1)
  const dot = fileName.lastIndexOf('.')
  return {
    id: f.id,
    name: f.name,
    original_name: f.original_name,
    file_name: fileName,
    extension: dot > 0 ? fileName.slice(dot + 1).toLowerCase() : null,
    // a URL is asked for (GET /storage/files/{id}/url): it expires, so a record does not carry one
    url: null,
    bucket: f.bucket,
    s3_id: f.s3_id,
    storage_key: f.storage_key,
    prefix_path: slash > 0 ? f.storage_key.slice(0, slash) : null,
    size_bytes: f.size_bytes,
    mime_type: f.mime_type,
    content_type: f.content_type,
    checksum_sha256: f.checksum_sha256,
    etag: f.etag,
    resource_id: f.resource_id,
    organization_id: null,
    metadata: f.metadata,
    visibility: f.visibility,
    is_public: f.visibility === 'public',
    status: f.deleted_at !== null ? 'deleted' : f.status,
    upload_id: f.upload_id,
    created_by_user_id: f.created_by,
    uploaded_by_user_id: f.created_by,
    created_at: f.created_at,
    updated_at: f.updated_at,
    deleted_at: f.deleted_at,
  }
}
