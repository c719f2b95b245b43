// The catalog table of storage file records (atrium.storage_files): typed reads and writes, always scoped to the
// owning client, so another client's file is simply not found. No object store I/O and no rights checks here.
import { randomUUID } from 'node:crypto'
import type { Executor, Row } from '../sources/driver.js'

export type FileVisibility = 'private' | 'organization' | 'public'
export type FileStatus = 'pending' | 'uploaded'

export interface StoredFile {
  id: string
  client: string
  bucket_id: string
  /** the bucket's name and storage connection, joined in */
  bucket: string
  s3_id: string
  storage_key: string
  name: string
  original_name: string | null
  mime_type: string | null
  content_type: string | null
  size_bytes: number | null
  checksum_sha256: string | null
  etag: string | null
  resource_id: string | null
  metadata: Record<string, unknown>
  visibility: FileVisibility
  status: FileStatus
  upload_id: string | null
  created_by: string | null
  created_at: string
  updated_at: string
  deleted_at: string | null
}

export interface NewFile {
  client: string
  bucketId: string
  storageKey: string
  name: string
  originalName: string | null
  mimeType: string | null
  contentType: string | null
  sizeBytes: number | null
  checksumSha256: string | null
  resourceId: string | null
  metadata: Record<string, unknown>
  visibility: FileVisibility
  createdBy: string | null
}

/** the columns a caller may change; every other one is Atrium's */
export interface FileChanges {
  bucket_id?: string
  storage_key?: string
  name?: string
  original_name?: string | null
  mime_type?: string | null
  content_type?: string | null
  size_bytes?: number | null
  checksum_sha256?: string | null
  etag?: string | null
  resource_id?: string | null
  metadata?: Record<string, unknown>
  visibility?: FileVisibility
  status?: FileStatus
  upload_id?: string | null
  deleted_at?: 'now' | null
}

export interface FileFilter {
  s3Id: string
  bucketId?: string
  /** every key starts with each of these */
  keyPrefixes: string[]
  /** a case-insensitive part of the name */
  name?: string
  /** a case-insensitive part of the name or the key (search) */
  query?: string
  mimeType?: string
  contentType?: string
  resourceId?: string
  visibility?: string
  /** 'deleted' lists soft-deleted files; any other status lists live files with it; none lists live files */
  status?: string
  /** files whose metadata contains this (jsonb @>) */
  metadata?: Record<string, unknown>
  limit: number
  offset: number
}

const COLUMNS = `f.id, f.client, f.bucket_id, b.name AS bucket, b.s3_id, f.storage_key, f.name, f.original_name, f.mime_type,
  f.content_type, f.size_bytes, f.checksum_sha256, f.etag, f.resource_id, f.metadata, f.visibility, f.status, f.upload_id,
  f.created_by, f.created_at, f.updated_at, f.deleted_at`
const FROM = 'atrium.storage_files f JOIN atrium.storage_buckets b ON b.id = f.bucket_id'
/** the rows an INSERT or UPDATE … RETURNING just wrote (a statement cannot see its own writes in the table) */
const WRITTEN = 'written f JOIN atrium.storage_buckets b ON b.id = f.bucket_id'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** whether `id` can name a file (a malformed id is "not found", not a database error) */
export const isFileId = (id: string): boolean => UUID.test(id)

// the columns FileChanges may name, so an update never puts a caller's text in place of a column name
const CHANGEABLE = new Set(['bucket_id', 'storage_key', 'name', 'original_name', 'mime_type', 'content_type', 'size_bytes',
  'checksum_sha256', 'etag', 'resource_id', 'metadata', 'visibility', 'status', 'upload_id'])

export class FileStore {
  constructor(private readonly db: Executor) {}

  /** undefined when another live or deleted record already holds the key in that bucket */
  async create(f: NewFile, db: Executor = this.db): Promise<StoredFile | undefined> {
    const res = await db.query({
      sql: `WITH written AS (
              INSERT INTO atrium.storage_files (id, client, bucket_id, storage_key, name, original_name, mime_type, content_type,
                size_bytes, checksum_sha256, resource_id, metadata, visibility, created_by)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
              ON CONFLICT (bucket_id, storage_key) DO NOTHING
              RETURNING *)
            SELECT ${COLUMNS} FROM ${WRITTEN}`,
      params: [randomUUID(), f.client, f.bucketId, f.storageKey, f.name, f.originalName, f.mimeType, f.contentType, f.sizeBytes,
        f.checksumSha256, f.resourceId, JSON.stringify(f.metadata), f.visibility, f.createdBy],
    })
    return res.rows[0] ? toFile(res.rows[0]) : undefined
  }

  /** the client's file, deleted or not; undefined for an unknown id or another client's file */
  async get(client: string, id: string, db: Executor = this.db, opts: { lock?: boolean } = {}): Promise<StoredFile | undefined> {
    if (!isFileId(id)) return undefined
    const res = await db.query({
      sql: `SELECT ${COLUMNS} FROM ${FROM} WHERE f.id = $1 AND f.client = $2${opts.lock ? ' FOR UPDATE OF f' : ''}`,
      params: [id, client],
    })
    return res.rows[0] ? toFile(res.rows[0]) : undefined
  }

  /** the record holding a key in a bucket, deleted or not */
  async getByKey(bucketId: string, storageKey: string, db: Executor = this.db): Promise<StoredFile | undefined> {
    const res = await db.query({ sql: `SELECT ${COLUMNS} FROM ${FROM} WHERE f.bucket_id = $1 AND f.storage_key = $2`, params: [bucketId, storageKey] })
    return res.rows[0] ? toFile(res.rows[0]) : undefined
  }

  async update(client: string, id: string, changes: FileChanges, db: Executor = this.db): Promise<StoredFile | undefined> {
    const sets: string[] = []
    const params: unknown[] = [id, client]
    for (const [column, value] of Object.entries(changes)) {
      if (value === undefined) continue
      if (column === 'deleted_at') {
        sets.push(value === 'now' ? 'deleted_at = now()' : 'deleted_at = NULL')
        continue
      }
      if (!CHANGEABLE.has(column)) throw new Error(`storage_files.${column} cannot be changed`)
      params.push(column === 'metadata' ? JSON.stringify(value) : value)
      sets.push(`${column} = $${params.length}`)
    }
    sets.push('updated_at = now()')
    const res = await db.query({
      sql: `WITH written AS (UPDATE atrium.storage_files SET ${sets.join(', ')} WHERE id = $1 AND client = $2 RETURNING *)
            SELECT ${COLUMNS} FROM ${WRITTEN}`,
      params,
    })
    return res.rows[0] ? toFile(res.rows[0]) : undefined
  }

  /** removes the record (a purge); true when there was one */
  async remove(client: string, id: string, db: Executor = this.db): Promise<boolean> {
    const res = await db.query({ sql: 'DELETE FROM atrium.storage_files WHERE id = $1 AND client = $2', params: [id, client] })
    return (res.affected ?? 0) > 0
  }

  /** one page of the client's files matching the filter, in creation order, and how many match in all */
  async list(client: string, filter: FileFilter): Promise<{ files: StoredFile[]; total: number }> {
    const params: unknown[] = [client, filter.s3Id]
    const where = ['f.client = $1', 'b.s3_id = $2']
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value)
      where.push(sql(`$${params.length}`))
    }
    if (filter.bucketId !== undefined) add((p) => `f.bucket_id = ${p}`, filter.bucketId)
    // starts_with compares text as it is: no LIKE wildcards to escape in a caller's prefix
    for (const prefix of filter.keyPrefixes) add((p) => `starts_with(f.storage_key, ${p})`, prefix)
    if (filter.name !== undefined) add((p) => `strpos(lower(f.name), lower(${p})) > 0`, filter.name)
    if (filter.query !== undefined) add((p) => `(strpos(lower(f.name), lower(${p})) > 0 OR strpos(lower(f.storage_key), lower(${p})) > 0)`, filter.query)
    if (filter.mimeType !== undefined) add((p) => `f.mime_type = ${p}`, filter.mimeType)
    if (filter.contentType !== undefined) add((p) => `f.content_type = ${p}`, filter.contentType)
    if (filter.resourceId !== undefined) add((p) => `f.resource_id = ${p}`, filter.resourceId)
    if (filter.visibility !== undefined) add((p) => `f.visibility = ${p}`, filter.visibility)
    if (filter.metadata !== undefined) add((p) => `f.metadata @> ${p}::jsonb`, JSON.stringify(filter.metadata))
    if (filter.status === 'deleted') where.push('f.deleted_at IS NOT NULL')
    else {
      where.push('f.deleted_at IS NULL')
      if (filter.status !== undefined) add((p) => `f.status = ${p}`, filter.status)
    }
    params.push(filter.limit, filter.offset)
    const res = await this.db.query({
      sql: `SELECT ${COLUMNS}, count(*) OVER () AS total FROM ${FROM} WHERE ${where.join(' AND ')}
            ORDER BY f.created_at, f.id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    })
    let total = res.rows.length === 0 ? 0 : Number(res.rows[0]!.total)
    // a page past the end has no rows to carry the count
    if (res.rows.length === 0 && filter.offset > 0) {
      const counted = await this.db.query({ sql: `SELECT count(*) AS total FROM ${FROM} WHERE ${where.join(' AND ')}`, params: params.slice(0, -2) })
      total = Number(counted.rows[0]!.total)
    }
    return { files: res.rows.map(toFile), total }
  }

  /**
   * What lies directly under a folder prefix among the client's live files: the sub-folders (prefix + next
   * segment + "/") and the files whose key has no further "/". At most `limit` of each, in key order.
   */
  async folder(client: string, s3Id: string, prefix: string, bucketId: string | undefined, limit: number): Promise<{ folders: string[]; files: StoredFile[] }> {
    const scope = `f.client = $1 AND b.s3_id = $2 AND f.deleted_at IS NULL AND starts_with(f.storage_key, $3) AND ($4::uuid IS NULL OR f.bucket_id = $4)`
    const rest = 'substr(f.storage_key, char_length($3) + 1)'
    const params = [client, s3Id, prefix, bucketId ?? null, limit]
    const folders = await this.db.query({
      sql: `SELECT DISTINCT $3 || split_part(${rest}, '/', 1) || '/' AS folder FROM ${FROM} WHERE ${scope} AND strpos(${rest}, '/') > 0 ORDER BY 1 LIMIT $5`,
      params,
    })
    const files = await this.db.query({
      sql: `SELECT ${COLUMNS} FROM ${FROM} WHERE ${scope} AND strpos(${rest}, '/') = 0 ORDER BY f.storage_key, b.name LIMIT $5`,
      params,
    })
    return { folders: folders.rows.map((r) => r.folder as string), files: files.rows.map(toFile) }
  }

  /** the keys (and ids) of the client's live files under a prefix, in key order; at most `limit` */
  async keysUnder(client: string, s3Id: string, prefix: string, bucketId: string | undefined, limit: number): Promise<{ id: string; storage_key: string }[]> {
    const res = await this.db.query({
      sql: `SELECT f.id, f.storage_key FROM ${FROM}
            WHERE f.client = $1 AND b.s3_id = $2 AND f.deleted_at IS NULL AND starts_with(f.storage_key, $3) AND ($4::uuid IS NULL OR f.bucket_id = $4)
            ORDER BY f.storage_key, b.name LIMIT $5`,
      params: [client, s3Id, prefix, bucketId ?? null, limit],
    })
    return res.rows.map((r) => ({ id: r.id as string, storage_key: r.storage_key as string }))
  }

  /** live files still pending that nothing has touched since `before`, oldest first (the abandoned-upload sweep) */
  async pendingSince(before: Date, limit: number): Promise<StoredFile[]> {
    const res = await this.db.query({
      sql: `SELECT ${COLUMNS} FROM ${FROM} WHERE f.status = 'pending' AND f.deleted_at IS NULL AND f.updated_at < $1 ORDER BY f.updated_at, f.id LIMIT $2`,
      params: [before.toISOString(), limit],
    })
    return res.rows.map(toFile)
  }

  /** the client's files among these ids (unknown ids and other clients' files are left out) */
  async getMany(client: string, ids: string[], db: Executor = this.db): Promise<StoredFile[]> {
    const valid = ids.filter(isFileId)
    if (valid.length === 0) return []
    const res = await db.query({
      sql: `SELECT ${COLUMNS} FROM ${FROM} WHERE f.client = $1 AND f.id = ANY($2::uuid[]) ORDER BY f.created_at, f.id`,
      params: [client, valid],
    })
    return res.rows.map(toFile)
  }
}

function toFile(row: Row): StoredFile {
  return {
    id: row.id as string,
    client: row.client as string,
    bucket_id: row.bucket_id as string,
    bucket: row.bucket as string,
    s3_id: row.s3_id as string,
    storage_key: row.storage_key as string,
    name: row.name as string,
    original_name: (row.original_name as string | null) ?? null,
    mime_type: (row.mime_type as string | null) ?? null,
    content_type: (row.content_type as string | null) ?? null,
    size_bytes: row.size_bytes === null || row.size_bytes === undefined ? null : Number(row.size_bytes),
    checksum_sha256: (row.checksum_sha256 as string | null) ?? null,
    etag: (row.etag as string | null) ?? null,
    resource_id: (row.resource_id as string | null) ?? null,
    metadata: (row.metadata as Record<string, unknown>) ?? {},
    visibility: row.visibility as FileVisibility,
    status: row.status as FileStatus,
    upload_id: (row.upload_id as string | null) ?? null,
    created_by: (row.created_by as string | null) ?? null,
    created_at: row.created_at as string,
    updated_at: row.updated_at as string,
    deleted_at: (row.deleted_at as string | null) ?? null,
  }
}
