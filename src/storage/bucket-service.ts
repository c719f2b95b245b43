// Bucket operations of /storage/buckets/*: list, create, delete (refused while not empty unless forced), and the
// CORS, lifecycle, policy and public-access settings, each read, replaced or removed on its own. No framework.
import { AppError } from '../errors/app-error.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { RequestContext } from '../request-context.js'
import { storeBucketOf, type Bucket, type BucketDocument, type BucketOptions, type BucketStore, type CorsRule, type LifecycleRule, type PublicAccessBlock } from './bucket-store.js'
import type { ObjectVersions } from './object-versions.js'
import { storageScope } from './storage-access.js'

export interface BucketServiceDeps {
  buckets: BucketStore
  objects: ObjectStore
  versions: ObjectVersions
}

/** a bucket as the wire shows it */
export function bucketRecord(b: Bucket) {
  return {
    id: b.id,
    name: b.name,
    s3_id: b.s3Id,
    public: b.public,
    versioning: b.versioning,
    file_size_limit: b.fileSizeLimit,
    allowed_mime_types: b.allowedMimeTypes,
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
  }
}

const MAX_RULES = 100
const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])

const invalid = (what: string, why: string) => new AppError('invalid_request', `${what}: ${why}`)

const stringList = (value: unknown, what: string, max = 100): string[] => {
  if (!Array.isArray(value) || value.length > max || value.some((v) => typeof v !== 'string' || v.length === 0 || v.length > 1024)) {
    throw invalid(what, `must be a list of at most ${max} non-empty strings`)
  }
  return value as string[]
}

/** checks CORS rules (S3's CORSRule, in snake_case) */
export function normalizeCorsRules(rules: unknown): CorsRule[] {
  if (!Array.isArray(rules) || rules.length > MAX_RULES) throw invalid('rules', `must be a list of at most ${MAX_RULES} CORS rules`)
  return rules.map((rule: Record<string, unknown>, i) => {
    if (typeof rule !== 'object' || rule === null) throw invalid(`rules[${i}]`, 'must be an object')
    const methods = stringList(rule.allowed_methods, `rules[${i}].allowed_methods`).map((m) => m.toUpperCase())
    const bad = methods.find((m) => !METHODS.has(m))
    if (bad) throw invalid(`rules[${i}].allowed_methods`, `${JSON.stringify(bad)} is not one of GET, PUT, POST, DELETE, HEAD`)
    const out: CorsRule = { allowed_origins: stringList(rule.allowed_origins, `rules[${i}].allowed_origins`), allowed_methods: methods }
    if (rule.allowed_headers !== undefined) out.allowed_headers = stringList(rule.allowed_headers, `rules[${i}].allowed_headers`)
    if (rule.expose_headers !== undefined) out.expose_headers = stringList(rule.expose_headers, `rules[${i}].expose_headers`)
    if (rule.max_age_seconds !== undefined) {
      if (!Number.isSafeInteger(rule.max_age_seconds) || (rule.max_age_seconds as number) < 0) throw invalid(`rules[${i}].max_age_seconds`, 'must be a whole number of seconds')
      out.max_age_seconds = rule.max_age_seconds as number
    }
    return out
  })
}

const days = (value: unknown, what: string): number | undefined => {
  if (value === undefined || value === null) return undefined
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > 36_500) throw invalid(what, 'must be a whole number of days from 1 to 36500')
  return value as number
}

/** checks lifecycle rules (S3's LifecycleRule, in snake_case); status defaults to Enabled */
export function normalizeLifecycleRules(rules: unknown): LifecycleRule[] {
  if (!Array.isArray(rules) || rules.length > MAX_RULES) throw invalid('rules', `must be a list of at most ${MAX_RULES} lifecycle rules`)
  const ids = new Set<string>()
  return rules.map((rule: Record<string, unknown>, i) => {
    if (typeof rule !== 'object' || rule === null) throw invalid(`rules[${i}]`, 'must be an object')
    const id = rule.id === undefined ? `rule-${i + 1}` : rule.id
    if (typeof id !== 'string' || id.length === 0 || id.length > 255 || ids.has(id)) throw invalid(`rules[${i}].id`, 'must be a unique non-empty string of at most 255 characters')
    ids.add(id)
    const prefix = rule.prefix ?? ''
    if (typeof prefix !== 'string' || prefix.length > 960 || prefix.includes('\u0000')) throw invalid(`rules[${i}].prefix`, 'must be a key prefix')
    const status = String(rule.status ?? 'Enabled').toLowerCase()
    if (status !== 'enabled' && status !== 'disabled') throw invalid(`rules[${i}].status`, 'must be Enabled or Disabled')
    const out: LifecycleRule = { id, prefix, status: status === 'enabled' ? 'Enabled' : 'Disabled' }
    const expiration = days(rule.expiration_days, `rules[${i}].expiration_days`)
    const noncurrent = days(rule.noncurrent_version_expiration_days, `rules[${i}].noncurrent_version_expiration_days`)
    const abort = days(rule.abort_incomplete_multipart_upload_days, `rules[${i}].abort_incomplete_multipart_upload_days`)
    if (expiration !== undefined) out.expiration_days = expiration
    if (noncurrent !== undefined) out.noncurrent_version_expiration_days = noncurrent
    if (abort !== undefined) out.abort_incomplete_multipart_upload_days = abort
    if (typeof rule.expired_object_delete_marker === 'boolean') out.expired_object_delete_marker = rule.expired_object_delete_marker
    if (expiration === undefined && noncurrent === undefined && abort === undefined) {
      throw invalid(`rules[${i}]`, 'needs expiration_days, noncurrent_version_expiration_days or abort_incomplete_multipart_upload_days')
    }
    return out
  })
}

/** a bucket policy: a JSON object, or its text */
export function normalizePolicy(policy: unknown): Record<string, unknown> {
  let value = policy
  if (typeof policy === 'string') {
    try {
      value = JSON.parse(policy)
    } catch {
      throw invalid('policy', 'is not valid JSON')
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('policy', 'must be a JSON object (or its text)')
  if (JSON.stringify(value).length > 20_480) throw invalid('policy', 'is longer than 20 KiB')
  return value as Record<string, unknown>
}

export function normalizePublicAccess(body: Record<string, unknown>): PublicAccessBlock {
  const flag = (name: keyof PublicAccessBlock) => {
    const v = body[name]
    if (v !== undefined && typeof v !== 'boolean') throw invalid(name, 'must be true or false')
    return v === true
  }
  return { block_public_acls: flag('block_public_acls'), ignore_public_acls: flag('ignore_public_acls'), block_public_policy: flag('block_public_policy'), restrict_public_buckets: flag('restrict_public_buckets') }
}

/** whether objects of the bucket are served without a key: public, and not restricted by its public-access block */
export const isPubliclyReadable = (b: Bucket) => b.public && !b.publicAccess?.restrict_public_buckets && !b.publicAccess?.ignore_public_acls

export class BucketService {
  constructor(private readonly deps: BucketServiceDeps) {}

  async list(ctx: RequestContext, s3Id: unknown): Promise<Bucket[]> {
    return this.deps.buckets.list(storageScope(ctx, s3Id, 'storage.read'))
  }

  async create(ctx: RequestContext, s3Id: unknown, name: unknown, opts: BucketOptions): Promise<Bucket> {
    const scope = storageScope(ctx, s3Id, 'storage.write')
    return this.deps.buckets.create(scope, name, opts)
  }

  async get(ctx: RequestContext, s3Id: unknown, name: unknown, operation: 'storage.read' | 'storage.write' = 'storage.read'): Promise<Bucket> {
    return this.deps.buckets.resolve(storageScope(ctx, s3Id, operation), name)
  }

  /**
   * Deletes the bucket. While it holds objects or versions it is refused (409 bucket_not_empty) unless `force`,
   * which deletes them first, page by page.
   */
  async delete(ctx: RequestContext, s3Id: unknown, name: unknown, force: boolean): Promise<{ objectsDeleted: number }> {
    const bucket = await this.get(ctx, s3Id, name, 'storage.write')
    const store = storeBucketOf(bucket)
    const { objects, versions } = this.deps
    if (!force) {
      const page = await objects.list({ bucket: store, maxKeys: 1 })
      const versionCount = await versions.count(bucket)
      if (page.objects.length > 0 || versionCount > 0) {
        throw new AppError('bucket_not_empty', `bucket ${JSON.stringify(bucket.name)} is not empty`, { hint: 'delete its objects first, or send force: true to delete them with the bucket' })
      }
    }
    let deleted = 0
    for (;;) {
      const page = await objects.list({ bucket: store, maxKeys: 1000 })
      if (page.objects.length === 0) break
      const out = await objects.deleteMany(store, page.objects.map((o) => o.key))
      deleted += out.deleted.length
      if (out.errors.length) throw new AppError('object_store_error', `could not delete ${out.errors.length} objects of the bucket: ${out.errors[0]!.message}`)
    }
    await versions.deleteAll(bucket)
    await this.deps.buckets.delete(bucket)
    return { objectsDeleted: deleted }
  }

  /** replaces (value) or removes (null) one setting document of the bucket */
  async setDocument(ctx: RequestContext, s3Id: unknown, name: unknown, document: BucketDocument, value: unknown): Promise<Bucket> {
    const bucket = await this.get(ctx, s3Id, name, 'storage.write')
    return this.deps.buckets.setDocument(bucket, document, value)
  }
}
