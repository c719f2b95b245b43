// Noncurrent versions of objects in versioned buckets. The current content of a key is the object itself; before
// Atrium replaces or deletes it, the bytes are copied to the bucket's version area in the object store (bucket
// "v-<bucket id>", key = a fresh version id) and described in atrium.storage_object_versions. Only the object
// store's copy is used, so versions behave the same on the filesystem and on S3. No framework here.
import { randomUUID } from 'node:crypto'
import { AppError } from '../errors/app-error.js'
import type { ObjectInfo, ObjectMetadata, ObjectStore } from '../objects/object-store.js'
import type { Executor, Row } from '../sources/driver.js'
import { objectRefOf, versionBucketOf, type Bucket } from './bucket-store.js'

export interface ObjectVersion {
  version_id: string
  key: string
  size: number
  etag: string
  content_type: string
  /** when this content stopped being current */
  last_modified: string
  is_latest: false
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const COLUMNS = 'id, key, size, etag, content_type, metadata, created_at'

const versionNotFound = (key: string, versionId: string) =>
  new AppError('object_version_not_found', `no version ${JSON.stringify(versionId)} of ${JSON.stringify(key)}`, { hint: 'POST /storage/objects/versions lists the versions of a key' })

function toVersion(row: Row): ObjectVersion & { metadata: ObjectMetadata } {
  return {
    version_id: row.id as string,
    key: row.key as string,
    size: Number(row.size),
    etag: row.etag as string,
    content_type: row.content_type as string,
    metadata: row.metadata as ObjectMetadata,
    last_modified: new Date(row.created_at as string).toISOString(),
    is_latest: false,
  }
}

export class ObjectVersions {
  constructor(private readonly db: Executor, private readonly objects: ObjectStore) {}

  /**
   * Keeps the current content of `key` as a noncurrent version when the bucket is versioned and the object
   * exists; returns the version id. Called before every replace or delete Atrium makes.
   */
  async keep(bucket: Bucket, key: string, current?: ObjectInfo): Promise<string | undefined> {
    if (!bucket.versioning) return undefined
    const ref = objectRefOf(bucket, key)
    const info = current ?? (await this.objects.stat(ref))
    if (!info) return undefined
    const id = randomUUID()
    // bytes first: a row never points at bytes that are not there (an orphaned copy is only space)
    await this.objects.copy(ref, { bucket: versionBucketOf(bucket), key: id })
    await this.db.query({
      sql: `INSERT INTO atrium.storage_object_versions (id, bucket_id, key, size, etag, content_type, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      params: [id, bucket.id, key, info.size, info.etag, info.contentType, JSON.stringify(info.metadata)],
    })
    return id
  }

  /** noncurrent versions, newest first: of one key, or of every key under `prefix` */
  async list(bucket: Bucket, opts: { key?: string; prefix?: string; limit: number; after?: string }): Promise<ObjectVersion[]> {
    const after = opts.after && UUID.test(opts.after) ? opts.after : null
    const res = await this.db.query({
      sql: `SELECT ${COLUMNS} FROM atrium.storage_object_versions v
            WHERE bucket_id = $1 AND ($2::text IS NULL OR key = $2) AND ($3::text IS NULL OR starts_with(key, $3))
              AND ($4::uuid IS NULL OR EXISTS (
                -- after the marker in the listing's order: key ascending, then newest first, then id
                SELECT 1 FROM atrium.storage_object_versions m WHERE m.id = $4
                  AND (v.key > m.key OR (v.key = m.key AND (v.created_at < m.created_at OR (v.created_at = m.created_at AND v.id > m.id))))))
            ORDER BY key, created_at DESC, id LIMIT $5`,
      params: [bucket.id, opts.key ?? null, opts.prefix || null, after, opts.limit],
    })
    return res.rows.map((row) => {
      const { metadata: _m, ...version } = toVersion(row)
      return version
    })
  }

  private async get(bucket: Bucket, key: string, versionId: unknown): Promise<ObjectVersion & { metadata: ObjectMetadata }> {
    if (typeof versionId !== 'string' || !UUID.test(versionId)) throw versionNotFound(key, String(versionId))
    const res = await this.db.query({
      sql: `SELECT ${COLUMNS} FROM atrium.storage_object_versions WHERE bucket_id = $1 AND key = $2 AND id = $3`,
      params: [bucket.id, key, versionId],
    })
    if (!res.rows[0]) throw versionNotFound(key, versionId)
    return toVersion(res.rows[0])
  }

  /**
   * Makes a noncurrent version the current content of its key again. An existing object is kept as a version
   * first (versioned bucket); without `force`, an existing object is 409 object_exists.
   */
  async restore(bucket: Bucket, key: string, versionId: unknown, force: boolean): Promise<ObjectInfo> {
    const version = await this.get(bucket, key, versionId)
    const ref = objectRefOf(bucket, key)
    const current = await this.objects.stat(ref)
    if (current && !force) {
      throw new AppError('object_exists', `${JSON.stringify(key)} exists; restoring version ${version.version_id} would replace it`, { hint: 'send force: true to replace it (a versioned bucket keeps it as a version)' })
    }
    if (current) await this.keep(bucket, key, current)
    return this.objects.copy({ bucket: versionBucketOf(bucket), key: version.version_id }, ref, { metadata: version.metadata, contentType: version.content_type })
  }

  /** deletes one noncurrent version, bytes and record */
  async delete(bucket: Bucket, key: string, versionId: unknown): Promise<ObjectVersion> {
    const version = await this.get(bucket, key, versionId)
    await this.db.query({ sql: 'DELETE FROM atrium.storage_object_versions WHERE id = $1', params: [version.version_id] })
    await this.objects.delete({ bucket: versionBucketOf(bucket), key: version.version_id })
    const { metadata: _m, ...rest } = version
    return rest
  }

  /** deletes the versions under `prefix` that stopped being current before `cutoff`; returns how many */
  async expire(bucket: Bucket, prefix: string, cutoff: Date): Promise<number> {
    const res = await this.db.query({
      sql: `DELETE FROM atrium.storage_object_versions WHERE bucket_id = $1 AND starts_with(key, $2) AND created_at < $3 RETURNING id`,
      params: [bucket.id, prefix, cutoff],
    })
    const ids = res.rows.map((r) => r.id as string)
    for (let i = 0; i < ids.length; i += 1000) await this.objects.deleteMany(versionBucketOf(bucket), ids.slice(i, i + 1000))
    return ids.length
  }

  async count(bucket: Bucket): Promise<number> {
    const res = await this.db.query({ sql: 'SELECT count(*)::int AS n FROM atrium.storage_object_versions WHERE bucket_id = $1', params: [bucket.id] })
    return res.rows[0]!.n as number
  }

  /** every version of the bucket (its delete with force); the records go with the bucket's row */
  async deleteAll(bucket: Bucket): Promise<void> {
    // a moment ahead, so a version kept in this very millisecond goes too
    await this.expire(bucket, '', new Date(Date.now() + 60_000))
  }
}
