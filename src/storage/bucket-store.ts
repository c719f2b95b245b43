// The catalog table of storage buckets (atrium.storage_buckets): each bucket belongs to one client and one
// storage connection (s3_id), and carries its options (public, versioning, limits) and its CORS, lifecycle,
// policy and public-access settings. Also the one upload check against a bucket's size and type limits.
// No framework, no object-store I/O here.
import { randomUUID } from 'node:crypto'
import { AppError } from '../errors/app-error.js'
import { validateBucketName, validateObjectKey, type ObjectRef } from '../objects/object-store.js'
import type { Executor, Row } from '../sources/driver.js'
import { requireStorageCatalog } from './storage-catalogs.js'

/** who a bucket belongs to: the client of the request and the storage connection named by s3_id */
export interface BucketScope {
  /** the data source name (X-Athena-Client), as the registry spells it */
  client: string
  /** the storage connection; 'default' is Atrium's own object store */
  s3Id: string
}

/** what an upload must respect */
export interface BucketLimits {
  /** bytes; null = only the object store's limit */
  fileSizeLimit: number | null
  /** exact types ("image/png") or families ("image/*"); null = any */
  allowedMimeTypes: string[] | null
}

export interface CorsRule {
  allowed_origins: string[]
  allowed_methods: string[]
  allowed_headers?: string[]
  expose_headers?: string[]
  max_age_seconds?: number
}

export interface LifecycleRule {
  id: string
  prefix: string
  status: 'Enabled' | 'Disabled'
  expiration_days?: number
  noncurrent_version_expiration_days?: number
  abort_incomplete_multipart_upload_days?: number
  expired_object_delete_marker?: boolean
}

export interface PublicAccessBlock {
  block_public_acls: boolean
  ignore_public_acls: boolean
  block_public_policy: boolean
  restrict_public_buckets: boolean
}

export interface Bucket extends BucketScope, BucketLimits {
  id: string
  name: string
  public: boolean
  versioning: boolean
  cors: CorsRule[]
  lifecycle: LifecycleRule[]
  policy: Record<string, unknown> | null
  publicAccess: PublicAccessBlock | null
  createdAt: Date
  updatedAt: Date
}

export interface BucketOptions {
  public?: boolean
  versioning?: boolean
  fileSizeLimit?: number | null
  allowedMimeTypes?: string[] | null
}

/** a setting kept as a document: changed alone by its own set/delete routes */
export type BucketDocument = 'cors' | 'lifecycle' | 'policy' | 'public_access'

const COLUMNS = 'id, client, s3_id, name, public, versioning, file_size_limit, allowed_mime_types, cors, lifecycle, policy, public_access, created_at, updated_at'
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/
const MAX_MIME_TYPES = 100

export const bucketNotFound = (name: string) =>
  new AppError('bucket_not_found', `no bucket ${JSON.stringify(name)} for this client`, { hint: 'POST /storage/buckets/list names the buckets of the client in X-Athena-Client' })

/** the object-store bucket holding a bucket's current objects: its id, so two clients' "photos" never meet */
export const storeBucketOf = (bucket: Pick<Bucket, 'id'>) => `b-${bucket.id.replaceAll('-', '')}`
/** the object-store bucket holding a bucket's noncurrent versions, one object per version id */
export const versionBucketOf = (bucket: Pick<Bucket, 'id'>) => `v-${bucket.id.replaceAll('-', '')}`

/** the object-store reference of `key` in `bucket`, after the one key check (no "..", no NUL, length limits) */
export function objectRefOf(bucket: Pick<Bucket, 'id'>, key: unknown): ObjectRef {
  validateObjectKey(key)
  return { bucket: storeBucketOf(bucket), key }
}

/** lower-cases and checks a list of MIME types; null stays "any type" */
export function normalizeMimeTypes(types: unknown): string[] | null {
  if (types === null || types === undefined) return null
  if (!Array.isArray(types) || types.length > MAX_MIME_TYPES) {
    throw new AppError('invalid_request', `allowed_mime_types must be a list of at most ${MAX_MIME_TYPES} MIME types`)
  }
  return [...new Set(types.map((t) => {
    const type = typeof t === 'string' ? t.trim().toLowerCase() : ''
    if (!MIME.test(type)) throw new AppError('invalid_request', `${JSON.stringify(t)} is not a MIME type`, { hint: 'use "type/subtype" or "type/*", e.g. "image/png" or "image/*"' })
    return type
  }))]
}

/** whether a content type is one the bucket accepts; parameters (";charset=…") are ignored */
export function isMimeTypeAllowed(limits: Pick<BucketLimits, 'allowedMimeTypes'>, contentType: string | undefined): boolean {
  if (!limits.allowedMimeTypes || limits.allowedMimeTypes.length === 0) return true
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  return limits.allowedMimeTypes.some((allowed) => allowed === type || (allowed.endsWith('/*') && type.startsWith(allowed.slice(0, -1))))
}

/**
 * The one check of an upload against a bucket's limits: throws 413 object_too_large when `size` passes
 * file_size_limit and 415 mime_type_not_allowed when `contentType` is not allowed. An unknown size passes
 * here; the caller then gives the store `maxBytes: limits.fileSizeLimit`.
 */
export function checkUpload(limits: BucketLimits, upload: { size?: number; contentType?: string }): void {
  if (upload.size !== undefined && limits.fileSizeLimit !== null && upload.size > limits.fileSizeLimit) {
    throw new AppError('object_too_large', `the object is ${upload.size} bytes; this bucket takes at most ${limits.fileSizeLimit}`, { data: { limit: limits.fileSizeLimit, size: upload.size } })
  }
  if (!isMimeTypeAllowed(limits, upload.contentType)) {
    throw new AppError('mime_type_not_allowed', `content type ${JSON.stringify(upload.contentType ?? '')} is not allowed in this bucket`, {
      hint: `allowed: ${limits.allowedMimeTypes!.join(', ')}`,
      data: { allowed_mime_types: limits.allowedMimeTypes },
    })
  }
}

function toBucket(row: Row): Bucket {
  return {
    id: row.id as string,
    client: row.client as string,
    s3Id: row.s3_id as string,
    name: row.name as string,
    public: row.public as boolean,
    versioning: row.versioning as boolean,
    fileSizeLimit: row.file_size_limit === null ? null : Number(row.file_size_limit),
    allowedMimeTypes: (row.allowed_mime_types as string[] | null) ?? null,
    cors: row.cors as CorsRule[],
    lifecycle: row.lifecycle as LifecycleRule[],
    policy: (row.policy as Record<string, unknown> | null) ?? null,
    publicAccess: (row.public_access as PublicAccessBlock | null) ?? null,
    createdAt: new Date(row.created_at as string),
    updatedAt: new Date(row.updated_at as string),
  }
}

function checkOptions(opts: BucketOptions): void {
  const limit = opts.fileSizeLimit
  if (limit !== undefined && limit !== null && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw new AppError('invalid_request', `file_size_limit must be a whole number of bytes above 0, got ${limit}`)
  }
}

export class BucketStore {
  constructor(private readonly db: Executor) {}

  /**
   * The bucket `name` of the client in `scope`, or 404 bucket_not_found (also when it belongs to another
   * client: a caller cannot tell). An unknown s3_id is 404 storage_catalog_not_found; a bad name is 400.
   */
  async resolve(scope: BucketScope, name: unknown, opts: { db?: Executor; forUpdate?: boolean } = {}): Promise<Bucket> {
    requireStorageCatalog(scope.s3Id)
    validateBucketName(name)
    // FOR UPDATE (inside the caller's transaction) holds the row, so a change cannot race the bucket's delete
    const res = await (opts.db ?? this.db).query({
      sql: `SELECT ${COLUMNS} FROM atrium.storage_buckets WHERE client = $1 AND s3_id = $2 AND name = $3${opts.forUpdate ? ' FOR UPDATE' : ''}`,
      params: [scope.client.toLowerCase(), scope.s3Id, name],
    })
    if (!res.rows[0]) throw bucketNotFound(name)
    return toBucket(res.rows[0])
  }

  async list(scope: BucketScope): Promise<Bucket[]> {
    requireStorageCatalog(scope.s3Id)
    const res = await this.db.query({
      sql: `SELECT ${COLUMNS} FROM atrium.storage_buckets WHERE client = $1 AND s3_id = $2 ORDER BY name`,
      params: [scope.client.toLowerCase(), scope.s3Id],
    })
    return res.rows.map(toBucket)
  }

  /** 409 bucket_already_exists when the client already has a bucket of that name on that connection */
  async create(scope: BucketScope, name: unknown, opts: BucketOptions): Promise<Bucket> {
    requireStorageCatalog(scope.s3Id)
    validateBucketName(name)
    checkOptions(opts)
    const res = await this.db.query({
      sql: `INSERT INTO atrium.storage_buckets (id, client, s3_id, name, public, versioning, file_size_limit, allowed_mime_types)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (client, s3_id, name) DO NOTHING
            RETURNING ${COLUMNS}`,
      params: [randomUUID(), scope.client.toLowerCase(), scope.s3Id, name, opts.public ?? false, opts.versioning ?? false,
        opts.fileSizeLimit ?? null, normalizeMimeTypes(opts.allowedMimeTypes)],
    })
    if (!res.rows[0]) throw new AppError('bucket_already_exists', `this client already has a bucket ${JSON.stringify(name)}`, { hint: 'bucket names are unique per client and s3_id; pick another name or use the existing bucket' })
    return toBucket(res.rows[0])
  }

  /** changes the options given (absent ones stay as they are) */
  async updateOptions(tx: Executor, bucket: Bucket, opts: BucketOptions): Promise<Bucket> {
    checkOptions(opts)
    const res = await tx.query({
      sql: `UPDATE atrium.storage_buckets SET
              public = COALESCE($2, public),
              versioning = COALESCE($3, versioning),
              file_size_limit = CASE WHEN $4::boolean THEN $5::bigint ELSE file_size_limit END,
              allowed_mime_types = CASE WHEN $6::boolean THEN $7::text[] ELSE allowed_mime_types END,
              updated_at = now()
            WHERE id = $1 RETURNING ${COLUMNS}`,
      params: [bucket.id, opts.public ?? null, opts.versioning ?? null,
        opts.fileSizeLimit !== undefined, opts.fileSizeLimit ?? null,
        opts.allowedMimeTypes !== undefined, opts.allowedMimeTypes === undefined ? null : normalizeMimeTypes(opts.allowedMimeTypes)],
    })
    return toBucket(res.rows[0]!)
  }

  /** replaces one document setting (null clears it: CORS and lifecycle become empty lists) */
  async setDocument(bucket: Bucket, document: BucketDocument, value: unknown): Promise<Bucket> {
    // the column is a constant of the code (BucketDocument), never input
    const column = { cors: 'cors', lifecycle: 'lifecycle', policy: 'policy', public_access: 'public_access' }[document]
    const empty = document === 'cors' || document === 'lifecycle' ? '[]' : null
    const res = await this.db.query({
      sql: `UPDATE atrium.storage_buckets SET ${column} = COALESCE($2::jsonb, $3::jsonb), updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      params: [bucket.id, value === null ? null : JSON.stringify(value), empty],
    })
    if (!res.rows[0]) throw bucketNotFound(bucket.name)
    return toBucket(res.rows[0])
  }

  async delete(bucket: Bucket, db: Executor = this.db): Promise<void> {
    await db.query({ sql: 'DELETE FROM atrium.storage_buckets WHERE id = $1', params: [bucket.id] })
  }

  /** buckets with at least one enabled lifecycle rule, for the expiry job */
  async withLifecycleRules(): Promise<Bucket[]> {
    const res = await this.db.query({
      sql: `SELECT ${COLUMNS} FROM atrium.storage_buckets WHERE lifecycle @> '[{"status":"Enabled"}]'::jsonb ORDER BY id`,
      params: [],
    })
    return res.rows.map(toBucket)
  }
}
