// Object operations of /storage/objects*: list, head, exists, validate, update metadata, copy, delete (one or
// many), signed download and upload URLs, public URLs, and the versions of versioned buckets. Every operation
// resolves the bucket of the request's client first (storage-access.ts), so another client's bucket is a 404.
// No framework here.
import { createHash } from 'node:crypto'
import { requireOperation } from '../auth/operation-rights.js'
import { AppError } from '../errors/app-error.js'
import {
  DEFAULT_CONTENT_TYPE, validateExpiry, validateListPrefix, validateMaxKeys, validateMetadata,
  type ObjectInfo, type ObjectMetadata, type ObjectStore,
} from '../objects/object-store.js'
import type { RequestContext } from '../request-context.js'
import { isPubliclyReadable } from './bucket-service.js'
import { checkUpload, objectRefOf, storeBucketOf, type Bucket, type BucketStore } from './bucket-store.js'
import { unwrapListToken, wrapListToken } from './list-token.js'
import { FOLDER_PLACEHOLDER } from './object-folders.js'
import type { ObjectVersions } from './object-versions.js'
import { resolveBucket, type StorageOperation } from './storage-access.js'

export interface ObjectServiceDeps {
  buckets: BucketStore
  objects: ObjectStore
  versions: ObjectVersions
  /** the base URL public object URLs start with (objects.publicBaseUrl, or where this server listens) */
  publicBaseUrl: () => string
  /** objects.maxUploadBytes: the most one upload may carry when the bucket sets no limit */
  maxUploadBytes: number
  /** signs list continuation tokens (list-token.ts) */
  listTokenKey: Buffer
}

/** what a request names: the connection, the bucket and (for most operations) a key */
export interface ObjectTarget {
  s3Id: unknown
  bucket: unknown
}

export interface ListPageOptions {
  prefix?: string
  delimiter?: string
  continuationToken?: string
  maxKeys?: number
}

export const DEFAULT_URL_SECONDS = 3600
const MAX_DELETE_KEYS = 1000

/** an object as the wire shows it */
export function objectRecord(info: ObjectInfo) {
  return {
    key: info.key,
    size: info.size,
    content_type: info.contentType,
    etag: info.etag,
    last_modified: info.lastModified.toISOString(),
    metadata: info.metadata,
  }
}

/** what an update may change besides metadata: HTTP headers S3 keeps with an object, kept here as metadata */
const HEADER_FIELDS = { cache_control: 'cache-control', content_disposition: 'content-disposition', content_encoding: 'content-encoding', content_language: 'content-language' } as const
export type HeaderField = keyof typeof HEADER_FIELDS

/** the store's info with the bucket's own name in place of its object-store namespace (b-<id>, never shown) */
const inBucket = (bucket: Bucket, info: ObjectInfo) => ({ ...info, bucket: bucket.name })

export class ObjectService {
  constructor(private readonly deps: ObjectServiceDeps) {}

  bucket(ctx: RequestContext, target: ObjectTarget, operation: StorageOperation): Promise<Bucket> {
    return resolveBucket(this.deps.buckets, ctx, { s3Id: target.s3Id, bucket: target.bucket }, operation)
  }

  /** one page of keys under a prefix; with a delimiter, deeper keys fold into common prefixes ("folders") */
  async list(ctx: RequestContext, target: ObjectTarget, opts: ListPageOptions) {
    return this.listIn(await this.bucket(ctx, target, 'storage.read'), opts)
  }

  /** the same page in a bucket already resolved and authorised (a published storage read resolves its own) */
  async listIn(bucket: Bucket, opts: ListPageOptions) {
    validateListPrefix(opts.prefix)
    const maxKeys = validateMaxKeys(opts.maxKeys)
    if (opts.delimiter !== undefined && opts.delimiter !== '/' && opts.delimiter !== '') {
      throw new AppError('invalid_request', 'delimiter must be "/" (or absent)')
    }
    const continuationToken = opts.continuationToken === undefined ? undefined : unwrapListToken(this.deps.listTokenKey, bucket.id, opts.continuationToken)
    const page = await this.deps.objects.list({ bucket: storeBucketOf(bucket), prefix: opts.prefix, delimiter: opts.delimiter || undefined, maxKeys, continuationToken })
    // a folder's placeholder is how an empty folder exists; it is shown as the folder, never as an object
    const objects = page.objects.filter((o) => !o.key.endsWith(`/${FOLDER_PLACEHOLDER}`) && o.key !== FOLDER_PLACEHOLDER)
    return {
      bucket: bucket.name,
      prefix: opts.prefix ?? '',
      delimiter: opts.delimiter || null,
      objects: objects.map((o) => ({ key: o.key, size: o.size, etag: o.etag, last_modified: o.lastModified.toISOString() })),
      common_prefixes: page.commonPrefixes,
      key_count: objects.length + page.commonPrefixes.length,
      is_truncated: page.nextContinuationToken !== undefined,
      next_continuation_token: page.nextContinuationToken === undefined ? null : wrapListToken(this.deps.listTokenKey, bucket.id, page.nextContinuationToken),
    }
  }

  async head(ctx: RequestContext, target: ObjectTarget, key: unknown): Promise<ObjectInfo> {
    const bucket = await this.bucket(ctx, target, 'storage.read')
    return inBucket(bucket, await this.deps.objects.head(objectRefOf(bucket, key)))
  }

  async exists(ctx: RequestContext, target: ObjectTarget, key: unknown): Promise<ObjectInfo | undefined> {
    const bucket = await this.bucket(ctx, target, 'storage.read')
    return this.deps.objects.stat(objectRefOf(bucket, key))
  }

  /**
   * Checks a stored object against the bucket's limits (size, type) and, when given, an expected ETag and
   * SHA-256 (read from the stored bytes). Answers what failed instead of throwing.
   */
  async validate(ctx: RequestContext, target: ObjectTarget, key: unknown, expect: { etag?: string; checksumSha256?: string }) {
    const bucket = await this.bucket(ctx, target, 'storage.read')
    const ref = objectRefOf(bucket, key)
    const info = await this.deps.objects.head(ref)
    const problems: { code: string; message: string }[] = []
    try {
      checkUpload(bucket, { size: info.size, contentType: info.contentType })
    } catch (err) {
      problems.push({ code: (err as AppError).code, message: (err as AppError).message })
    }
    if (expect.etag !== undefined && expect.etag.replaceAll('"', '') !== info.etag.replaceAll('"', '')) {
      problems.push({ code: 'etag_mismatch', message: `the object's ETag is ${info.etag}, not ${expect.etag}` })
    }
    let sha256: string | undefined
    if (expect.checksumSha256 !== undefined) {
      const hash = createHash('sha256')
      const got = await this.deps.objects.get(ref)
      for await (const chunk of got.body) hash.update(chunk as Buffer)
      const hex = hash.digest('hex')
      sha256 = hex
      // S3 spells checksums in base64, most tools in hex: either matches
      const b64 = Buffer.from(hex, 'hex').toString('base64')
      if (expect.checksumSha256.toLowerCase() !== hex && expect.checksumSha256 !== b64) {
        problems.push({ code: 'checksum_mismatch', message: `the object's SHA-256 is ${hex}, not ${expect.checksumSha256}` })
      }
    }
    return {
      valid: problems.length === 0,
      problems,
      object: objectRecord(info),
      ...(sha256 ? { checksum_sha256: sha256 } : {}),
      limits: { file_size_limit: bucket.fileSizeLimit, allowed_mime_types: bucket.allowedMimeTypes },
    }
  }

  /** replaces the metadata and content type (the bytes stay); a new type must be one the bucket allows */
  async update(ctx: RequestContext, target: ObjectTarget, key: unknown, changes: { contentType?: string; metadata?: ObjectMetadata; headers?: Partial<Record<HeaderField, string>> }): Promise<ObjectInfo> {
    const bucket = await this.bucket(ctx, target, 'storage.write')
    const ref = objectRefOf(bucket, key)
    const current = await this.deps.objects.head(ref)
    const metadata: ObjectMetadata = { ...(changes.metadata === undefined ? current.metadata : validateMetadata(changes.metadata)) }
    for (const [field, name] of Object.entries(HEADER_FIELDS)) {
      const value = changes.headers?.[field as HeaderField]
      if (value !== undefined) metadata[name] = value
    }
    const contentType = changes.contentType ?? current.contentType
    if (changes.contentType !== undefined) checkUpload(bucket, { contentType })
    return inBucket(bucket, await this.deps.objects.copy(ref, ref, { metadata: validateMetadata(metadata), contentType }))
  }

  /** copies within the client's buckets; the destination's limits apply and its old content becomes a version */
  async copy(ctx: RequestContext, target: ObjectTarget, from: unknown, to: unknown, destinationBucket?: unknown): Promise<ObjectInfo> {
    // a copy writes the destination and reads the source: it needs both rights, the write checked first
    const source = await this.bucket(ctx, target, 'storage.write')
    requireOperation(ctx.principal, 'storage.read')
    const dest = destinationBucket === undefined || destinationBucket === source.name ? source : await this.bucket(ctx, { s3Id: target.s3Id, bucket: destinationBucket }, 'storage.write')
    const fromRef = objectRefOf(source, from)
    const toRef = objectRefOf(dest, to)
    if (dest === source && fromRef.key === toRef.key) {
      throw new AppError('invalid_request', 'the source and the destination are the same object', { hint: 'to change its content type or metadata, use /storage/objects/update' })
    }
    const info = await this.deps.objects.head(fromRef)
    checkUpload(dest, { size: info.size, contentType: info.contentType })
    await this.deps.versions.keep(dest, toRef.key)
    return inBucket(dest, await this.deps.objects.copy(fromRef, toRef))
  }

  /** deletes keys (what does not exist is not an error); a versioned bucket keeps each as a version first */
  async delete(ctx: RequestContext, target: ObjectTarget, keys: unknown[]) {
    const bucket = await this.bucket(ctx, target, 'storage.write')
    if (keys.length === 0 || keys.length > MAX_DELETE_KEYS) throw new AppError('invalid_request', `send key, or keys with 1 to ${MAX_DELETE_KEYS} keys`)
    const refs = keys.map((k) => objectRefOf(bucket, k))
    for (const ref of refs) await this.deps.versions.keep(bucket, ref.key)
    const out = await this.deps.objects.deleteMany(storeBucketOf(bucket), refs.map((r) => r.key))
    return { bucket: bucket.name, deleted: out.deleted, errors: out.errors }
  }

  /** a signed GET URL of an existing object, valid `expiresIn` seconds */
  async downloadUrl(ctx: RequestContext, target: ObjectTarget, key: unknown, expiresIn = DEFAULT_URL_SECONDS) {
    const bucket = await this.bucket(ctx, target, 'storage.read')
    validateExpiry(expiresIn)
    const ref = objectRefOf(bucket, key)
    await this.deps.objects.head(ref)
    const signed = await this.deps.objects.signedUrl(ref, { method: 'GET', expiresIn })
    return { bucket: bucket.name, key: ref.key, url: signed.url, method: 'GET' as const, expires_in: expiresIn, expires_at: signed.expiresAt.toISOString() }
  }

  /**
   * A signed PUT URL for `key`. The content type (default application/octet-stream) and a announced size are
   * checked against the bucket's limits now; the URL only takes that content type. In a versioned bucket the
   * current content is kept as a version when the URL is made (the PUT itself goes straight to the store).
   */
  async uploadUrl(ctx: RequestContext, target: ObjectTarget, key: unknown, opts: { contentType?: string; size?: number; expiresIn?: number }) {
    const bucket = await this.bucket(ctx, target, 'storage.write')
    const expiresIn = opts.expiresIn ?? DEFAULT_URL_SECONDS
    validateExpiry(expiresIn)
    const contentType = opts.contentType ?? DEFAULT_CONTENT_TYPE
    checkUpload(bucket, { size: opts.size, contentType })
    const ref = objectRefOf(bucket, key)
    await this.deps.versions.keep(bucket, ref.key)
    const signed = await this.deps.objects.signedUrl(ref, { method: 'PUT', expiresIn, contentType, contentLength: opts.size, maxBytes: bucket.fileSizeLimit ?? undefined })
    return {
      bucket: bucket.name,
      key: ref.key,
      url: signed.url,
      method: 'PUT' as const,
      headers: { 'content-type': contentType, ...(opts.size !== undefined ? { 'content-length': String(opts.size) } : {}) },
      expires_in: expiresIn,
      expires_at: signed.expiresAt.toISOString(),
    }
  }

  /** noncurrent versions (newest first) of one key or of every key, after the current object when there is one */
  async versions(ctx: RequestContext, target: ObjectTarget, opts: { key?: unknown; prefix?: string; maxKeys?: number; versionIdMarker?: string }) {
    const bucket = await this.bucket(ctx, target, 'storage.read')
    const limit = validateMaxKeys(opts.maxKeys)
    const key = opts.key === undefined ? undefined : objectRefOf(bucket, opts.key).key
    validateListPrefix(opts.prefix)
    const noncurrent = await this.deps.versions.list(bucket, { key, prefix: opts.prefix, limit: limit + 1, after: opts.versionIdMarker })
    const current = key !== undefined && opts.versionIdMarker === undefined ? await this.deps.objects.stat(objectRefOf(bucket, key)) : undefined
    const page = noncurrent.slice(0, limit)
    return {
      bucket: bucket.name,
      versioning: bucket.versioning,
      versions: [
        ...(current ? [{ version_id: 'current', key: current.key, size: current.size, etag: current.etag, content_type: current.contentType, last_modified: current.lastModified.toISOString(), is_latest: true }] : []),
        ...page,
      ],
      is_truncated: noncurrent.length > limit,
      next_version_id_marker: noncurrent.length > limit ? page[page.length - 1]!.version_id : null,
    }
  }

  async restoreVersion(ctx: RequestContext, target: ObjectTarget, key: unknown, versionId: unknown, force: boolean): Promise<ObjectInfo> {
    const bucket = await this.bucket(ctx, target, 'storage.write')
    return inBucket(bucket, await this.deps.versions.restore(bucket, objectRefOf(bucket, key).key, versionId, force))
  }

  async deleteVersion(ctx: RequestContext, target: ObjectTarget, key: unknown, versionId: unknown) {
    const bucket = await this.bucket(ctx, target, 'storage.write')
    return this.deps.versions.delete(bucket, objectRefOf(bucket, key).key, versionId)
  }

  /**
   * A POST policy for a browser form upload of `key`: the size range (never above the bucket's limit) and the
   * content type (required when the bucket limits types) are signed into it, so the store enforces them.
   */
  async postPolicy(ctx: RequestContext, target: ObjectTarget, key: unknown, opts: { contentType?: string; minSize?: number; maxSize?: number; expiresIn?: number; successActionStatus?: string }) {
    const bucket = await this.bucket(ctx, target, 'storage.write')
    const expiresIn = opts.expiresIn ?? DEFAULT_URL_SECONDS
    validateExpiry(expiresIn)
    if (bucket.allowedMimeTypes && opts.contentType === undefined) {
      throw new AppError('invalid_request', `bucket ${JSON.stringify(bucket.name)} limits content types; a POST policy must name one`, { hint: `send content_type, one of: ${bucket.allowedMimeTypes.join(', ')}` })
    }
    const ceiling = bucket.fileSizeLimit ?? this.deps.maxUploadBytes
    const maxBytes = Math.min(opts.maxSize ?? ceiling, ceiling)
    checkUpload(bucket, { size: opts.minSize, contentType: opts.contentType })
    const status = opts.successActionStatus === undefined ? undefined : Number(opts.successActionStatus)
    if (status !== undefined && status !== 200 && status !== 201 && status !== 204) throw new AppError('invalid_request', 'success_action_status must be "200", "201" or "204"')
    const ref = objectRefOf(bucket, key)
    await this.deps.versions.keep(bucket, ref.key)
    const post = await this.deps.objects.signedPost(ref, { expiresIn, contentType: opts.contentType, minBytes: opts.minSize, maxBytes, successActionStatus: status })
    return {
      bucket: bucket.name,
      key: ref.key,
      url: post.url,
      method: 'POST' as const,
      fields: post.fields,
      expires_in: expiresIn,
      expires_at: post.expiresAt.toISOString(),
      conditions: { min_size: opts.minSize ?? 0, max_size: post.maxBytes, content_type: opts.contentType ?? null },
    }
  }

  /** the URL anyone can read the object at, for public buckets only (served by Atrium on every backend) */
  async publicUrl(ctx: RequestContext, target: ObjectTarget, key: unknown) {
    const bucket = await this.bucket(ctx, target, 'storage.read')
    const ref = objectRefOf(bucket, key)
    if (!isPubliclyReadable(bucket)) {
      throw new AppError('bucket_not_public', `bucket ${JSON.stringify(bucket.name)} is not public`, { hint: 'create the bucket with public: true (and no restrict_public_buckets in its public access block), or use /storage/objects/url for a signed URL' })
    }
    return { bucket: bucket.name, key: ref.key, url: publicObjectUrl(this.deps.publicBaseUrl(), bucket, ref.key), public: true }
  }

  /** the object a public URL names, or 404 (an unknown, private or restricted bucket looks the same) */
  async readPublic(client: string, s3Id: string, bucketName: string, key: string) {
    let bucket: Bucket
    try {
      bucket = await this.deps.buckets.resolve({ client, s3Id }, bucketName)
    } catch (err) {
      if (err instanceof AppError && err.status < 500) throw new AppError('object_not_found', 'no such public object')
      throw err
    }
    if (!isPubliclyReadable(bucket)) throw new AppError('object_not_found', 'no such public object')
    return this.deps.objects.get(objectRefOf(bucket, key))
  }
}

/** <base>/storage/public/<client>/<s3_id>/<bucket>/<key>, each key segment URL-encoded */
export function publicObjectUrl(base: string, bucket: Bucket, key: string): string {
  const path = [bucket.client, bucket.s3Id, bucket.name, ...key.split('/')].map(encodeURIComponent).join('/')
  return `${base.replace(/\/+$/, '')}/storage/public/${path}`
}
