// Storage file records (/storage/files*): a managed file is a catalog record plus one object in its bucket.
// Creating a record hands out a signed upload URL; the bytes arrive there (or through PUT …/upload), and the
// record becomes `uploaded` once Atrium has seen the object and checked it against the bucket's limits.
// Framework-free: routes hand in a RequestContext; rights are checked here.
import { createHash } from 'node:crypto'
import { Transform, type Readable } from 'node:stream'
import { requireOperation } from '../auth/operation-rights.js'
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import { DEFAULT_CONTENT_TYPE, MAX_SIGNED_URL_SECONDS, type ByteRange, type GetResult, type ObjectStore } from '../objects/object-store.js'
import type { RequestContext } from '../request-context.js'
import type { Executor } from '../sources/driver.js'
import { checkUpload, type Bucket, type BucketStore } from './bucket-store.js'
import type { ObjectVersions } from './object-versions.js'
import { requireStorageCatalog } from './storage-catalogs.js'
import { admitObject, clientOf, creatorOf, expiresInOf, findFile, normalizeChecksum, notUploaded, refOf, sha256Of } from './file-access.js'
import { toManagedFileRecord, type ManagedFileRecord } from './file-record.js'
import { FileStore, type FileVisibility, type StoredFile } from './file-store.js'

export interface StorageFilesDeps {
  catalog: Catalog
  objects: ObjectStore
  buckets: BucketStore
  /** noncurrent versions: what a versioned bucket keeps before Atrium replaces or removes an object */
  versions: ObjectVersions
  /** the base of the URLs Atrium hands out (objects.publicBaseUrl, or where this server listens) */
  publicBaseUrl: () => string
  /** the filesystem store's limit for one body (objects.maxUploadBytes) */
  maxUploadBytes: number
}

export interface UploadUrlInput {
  s3_id: string
  bucket?: string
  storage_key?: string
  file_id?: string
  name?: string
  original_name?: string
  mime_type?: string
  content_type?: string
  size_bytes?: number
  checksum_sha256?: string
  resource_id?: string
  metadata?: Record<string, unknown>
  public?: boolean
  visibility?: FileVisibility
  expires_in?: number
}

/** a signed URL for one file, in the SDK's PresignedFileUrlResponse shape */
export interface FileUrl {
  file_id: string
  bucket: string
  storage_key: string
  url: string
  method: 'GET' | 'PUT'
  headers: Record<string, string>
  purpose: string
  expires_in: number
  expires_at: string
  expires_at_epoch_seconds: number
  cache_hit: false
  cache_layer: 'none'
}

export interface ConfirmInput {
  checksum_sha256?: string
  content_type?: string
  metadata?: Record<string, unknown>
  size_bytes?: number
}

export interface ListInput {
  s3_id: string
  /** search: a part of the name or the key, any case */
  query?: string
  bucket?: string
  prefix?: string
  key_prefix?: string
  name?: string
  mime_type?: string
  content_type?: string
  resource_id?: string
  status?: string
  visibility?: string
  metadata?: Record<string, unknown>
  limit?: number
  offset?: number
}

export interface FilePage {
  files: ManagedFileRecord[]
  count: number
  total: number
  limit: number
  offset: number
  has_more: boolean
  next_offset: number | null
}

const MAX_BATCH = 100
const DEFAULT_PAGE = 100

export class StorageFiles {
  readonly store: FileStore

  constructor(private readonly deps: StorageFilesDeps) {
    this.store = new FileStore(deps.catalog)
  }

  /** creates a pending record (or takes the caller's pending one, by file_id) and signs a PUT URL for its bytes */
  async createUploadUrl(ctx: RequestContext, input: UploadUrlInput): Promise<{ file: ManagedFileRecord; upload: FileUrl }> {
    return (await this.createUploadUrls(ctx, [input]))[0]!
  }

  /** the same for several files, all or none: one transaction creates every record */
  async createUploadUrls(ctx: RequestContext, inputs: UploadUrlInput[]): Promise<{ file: ManagedFileRecord; upload: FileUrl }[]> {
    requireOperation(ctx.principal, 'storage.write')
    if (inputs.length === 0 || inputs.length > MAX_BATCH) throw new AppError('invalid_request', `files must list 1 to ${MAX_BATCH} uploads, got ${inputs.length}`)
    const expiries = inputs.map((i) => expiresInOf(i.expires_in, MAX_SIGNED_URL_SECONDS))
    const made = await this.deps.catalog.transaction(async (tx) => {
      const records: { file: StoredFile; bucket: Bucket }[] = []
      for (const input of inputs) records.push(await this.recordFor(ctx, input, tx))
      return records
    })
    const out = []
    for (const [i, { file, bucket }] of made.entries()) {
      // what the signed PUT will replace is kept first, when the bucket keeps versions
      await this.deps.versions.keep(bucket, file.storage_key)
      out.push({ file: toManagedFileRecord(file), upload: await this.signUpload(file, expiries[i]!) })
    }
    return out
  }

  private async recordFor(ctx: RequestContext, input: UploadUrlInput, tx: Executor): Promise<{ file: StoredFile; bucket: Bucket }> {
    if (input.file_id !== undefined) return this.existingRecord(ctx, input, tx)
    if (input.bucket === undefined) throw new AppError('invalid_request', 'bucket is required', { hint: 'name a bucket of this client (POST /storage/buckets/list); a file lives in one bucket' })
    if (input.storage_key === undefined) throw new AppError('invalid_request', 'storage_key is required: the object key the file is stored under')
    const bucket = await this.deps.buckets.resolve({ client: ctx.source.name, s3Id: input.s3_id }, input.bucket, { db: tx })
    const contentType = input.content_type ?? input.mime_type
    // what the uploader announces is checked now; what actually arrives is checked again when it has
    checkUpload(bucket, { size: input.size_bytes, contentType })
    refOf({ bucket_id: bucket.id, storage_key: input.storage_key })
    const file = await this.store.create({
      client: clientOf(ctx),
      bucketId: bucket.id,
      storageKey: input.storage_key,
      name: input.name ?? input.storage_key.slice(input.storage_key.lastIndexOf('/') + 1),
      originalName: input.original_name ?? null,
      mimeType: input.mime_type ?? contentType ?? null,
      contentType: contentType ?? null,
      sizeBytes: input.size_bytes ?? null,
      checksumSha256: normalizeChecksum(input.checksum_sha256) ?? null,
      resourceId: input.resource_id ?? null,
      metadata: input.metadata ?? {},
      visibility: input.visibility ?? (input.public ? 'public' : 'private'),
      createdBy: creatorOf(ctx.principal),
    }, tx)
    if (file) return { file, bucket }
    const holder = await this.store.getByKey(bucket.id, input.storage_key, tx)
    throw new AppError('storage_file_exists', `file ${holder?.id ?? ''} already holds ${JSON.stringify(input.storage_key)} in bucket ${JSON.stringify(bucket.name)}${holder?.deleted_at ? ' (deleted, not purged)' : ''}`, {
      hint: 'send its file_id to get a new upload URL for it, pick another storage_key, or delete it with ?force=true first',
      data: { file_id: holder?.id },
    })
  }

  /** a new upload URL for a record the caller already has: a retry, or new bytes for it */
  private async existingRecord(ctx: RequestContext, input: UploadUrlInput, tx: Executor): Promise<{ file: StoredFile; bucket: Bucket }> {
    const file = await findFile(this.store, ctx, input.file_id!, { db: tx, lock: true })
    if ((input.storage_key !== undefined && input.storage_key !== file.storage_key) || (input.bucket !== undefined && input.bucket !== file.bucket)) {
      throw new AppError('invalid_request', `file ${file.id} is ${JSON.stringify(file.storage_key)} in bucket ${JSON.stringify(file.bucket)}`, { hint: 'to move it, PATCH /storage/files/{id} with the new storage_key or bucket' })
    }
    const bucket = await this.bucketOf(ctx, file, tx)
    const contentType = input.content_type ?? input.mime_type ?? file.content_type ?? undefined
    checkUpload(bucket, { size: input.size_bytes, contentType })
    // pending again: the record describes the new bytes once they are seen (the old ones, if none arrive)
    const changes = { status: 'pending' as const, content_type: contentType ?? null, size_bytes: input.size_bytes ?? file.size_bytes, checksum_sha256: normalizeChecksum(input.checksum_sha256) ?? null }
    return { file: (await this.store.update(clientOf(ctx), file.id, changes, tx))!, bucket }
  }

  /** the bucket a file is in, with its options and limits */
  bucketOf(ctx: RequestContext, file: StoredFile, db?: Executor): Promise<Bucket> {
    return this.deps.buckets.resolve({ client: ctx.source.name, s3Id: file.s3_id }, file.bucket, { db })
  }

  private async signUpload(file: StoredFile, expiresIn: number): Promise<FileUrl> {
    const contentType = file.content_type ?? DEFAULT_CONTENT_TYPE
    const signed = await this.deps.objects.signedUrl(refOf(file), { method: 'PUT', expiresIn, contentType })
    // S3 signs the content type into the URL: the uploader must send exactly this header
    return urlOf(file, signed, 'upload', expiresIn, { 'Content-Type': contentType })
  }

  /** the bytes of a file through Atrium: streamed to the store under the bucket's limits, hashed on the way */
  async upload(ctx: RequestContext, id: string, body: Readable | Buffer, opts: { contentType?: string; contentLength?: number }): Promise<ManagedFileRecord> {
    requireOperation(ctx.principal, 'storage.write')
    const file = await findFile(this.store, ctx, id)
    const bucket = await this.bucketOf(ctx, file)
    const contentType = opts.contentType ?? file.content_type ?? DEFAULT_CONTENT_TYPE
    checkUpload(bucket, { size: opts.contentLength, contentType })
    await this.deps.versions.keep(bucket, file.storage_key)
    // hashed on the way in, so the record carries the SHA-256 of exactly what was stored
    const hash = createHash('sha256')
    let source: Readable | Buffer = body
    if (Buffer.isBuffer(body)) hash.update(body)
    else {
      const hashing = new Transform({ transform(chunk: Buffer, _enc, done) { hash.update(chunk); done(null, chunk) } })
      body.once('error', (err) => hashing.destroy(err))
      source = body.pipe(hashing)
    }
    // the bucket's limit, but never more than the store takes in one body
    const maxBytes = Math.min(bucket.fileSizeLimit ?? Number.MAX_SAFE_INTEGER, this.deps.maxUploadBytes)
    const info = await this.deps.objects.put(refOf(file), source, { contentType, contentLength: opts.contentLength, maxBytes })
    const updated = await this.store.update(clientOf(ctx), file.id, {
      status: 'uploaded', size_bytes: info.size, etag: info.etag, content_type: contentType,
      mime_type: file.mime_type ?? contentType, checksum_sha256: hash.digest('hex'),
    })
    return toManagedFileRecord(updated ?? file)
  }

  /**
   * Confirms that the bytes are in the store: their size (and checksum, when given) must match what the caller
   * says, and they must fit the bucket. An uploaded file is confirmed again, so the call can be retried.
   */
  async confirmUpload(ctx: RequestContext, id: string, input: ConfirmInput): Promise<ManagedFileRecord> {
    requireOperation(ctx.principal, 'storage.write')
    const file = await findFile(this.store, ctx, id)
    const ref = refOf(file)
    const info = await this.deps.objects.stat(ref)
    if (!info) throw notUploaded(file)
    if (input.size_bytes !== undefined && input.size_bytes !== info.size) {
      throw new AppError('storage_upload_mismatch', `the store has ${info.size} bytes for file ${file.id}, not the ${input.size_bytes} announced`, { hint: 'upload the bytes again, then confirm', data: { size_bytes: info.size } })
    }
    const bucket = await this.bucketOf(ctx, file)
    const contentType = input.content_type ?? file.content_type ?? info.contentType
    await admitObject(this.deps.objects, ref, info, bucket, contentType)
    const claimed = normalizeChecksum(input.checksum_sha256) ?? file.checksum_sha256 ?? undefined
    let checksum = file.status === 'uploaded' ? file.checksum_sha256 : null
    if (claimed !== undefined) {
      checksum = await sha256Of(this.deps.objects, ref)
      if (checksum !== claimed) {
        throw new AppError('storage_upload_mismatch', `the bytes of file ${file.id} have SHA-256 ${checksum}, not ${claimed}`, { hint: 'upload the bytes again, then confirm', data: { checksum_sha256: checksum } })
      }
    }
    const updated = await this.store.update(clientOf(ctx), file.id, {
      status: 'uploaded', size_bytes: info.size, etag: info.etag, content_type: contentType, checksum_sha256: checksum,
      mime_type: file.mime_type ?? contentType, metadata: input.metadata === undefined ? undefined : { ...file.metadata, ...input.metadata },
    })
    return toManagedFileRecord(updated ?? file)
  }

  /**
   * A pending file whose bytes have arrived through its signed URL becomes uploaded when it is next read: the
   * SDK's single-PUT upload never calls confirm-upload. Bytes that break the bucket's limits are removed then
   * (and `strict` callers, who need the bytes, get the refusal).
   */
  async settle(ctx: RequestContext, file: StoredFile, strict = false): Promise<StoredFile> {
    if (file.status !== 'pending' || file.deleted_at !== null || file.upload_id !== null) {
      if (strict && file.status !== 'uploaded') throw notUploaded(file)
      return file
    }
    const ref = refOf(file)
    const info = await this.deps.objects.stat(ref)
    if (!info) {
      if (strict) throw notUploaded(file)
      return file
    }
    try {
      const bucket = await this.bucketOf(ctx, file)
      await admitObject(this.deps.objects, ref, info, bucket, file.content_type ?? info.contentType)
    } catch (err) {
      if (strict) throw err
      return file
    }
    const updated = await this.store.update(clientOf(ctx), file.id, {
      status: 'uploaded', size_bytes: info.size, etag: info.etag, content_type: file.content_type ?? info.contentType,
      mime_type: file.mime_type ?? info.contentType,
    })
    return updated ?? file
  }

  async get(ctx: RequestContext, id: string): Promise<ManagedFileRecord> {
    requireOperation(ctx.principal, 'storage.read')
    return toManagedFileRecord(await this.settle(ctx, await findFile(this.store, ctx, id, { deleted: true })))
  }

  /** a signed GET URL of the file's bytes; `purpose` is echoed (read, download, stream) */
  async url(ctx: RequestContext, id: string, opts: { purpose?: string; expires_in?: number }): Promise<FileUrl> {
    requireOperation(ctx.principal, 'storage.read')
    const expiresIn = expiresInOf(opts.expires_in, MAX_SIGNED_URL_SECONDS)
    const file = await this.settle(ctx, await findFile(this.store, ctx, id), true)
    const signed = await this.deps.objects.signedUrl(refOf(file), { method: 'GET', expiresIn })
    return urlOf(file, signed, opts.purpose ?? 'read', expiresIn, {})
  }

  /** one page of the client's live files (or deleted ones: status "deleted") on one storage connection */
  async list(ctx: RequestContext, input: ListInput): Promise<FilePage> {
    requireOperation(ctx.principal, 'storage.read')
    const limit = input.limit ?? DEFAULT_PAGE
    const offset = input.offset ?? 0
    const bucket = input.bucket === undefined ? undefined : await this.deps.buckets.resolve({ client: ctx.source.name, s3Id: input.s3_id }, input.bucket)
    requireStorageCatalog(input.s3_id)
    const { files, total } = await this.store.list(clientOf(ctx), {
      s3Id: input.s3_id,
      bucketId: bucket?.id,
      keyPrefixes: [input.prefix, input.key_prefix].filter((p): p is string => p !== undefined && p !== ''),
      name: input.name, query: input.query, mimeType: input.mime_type, contentType: input.content_type, resourceId: input.resource_id,
      visibility: input.visibility, status: input.status, metadata: input.metadata, limit, offset,
    })
    const settled = []
    for (const f of files) settled.push(toManagedFileRecord(await this.settle(ctx, f)))
    const hasMore = offset + files.length < total
    return { files: settled, count: settled.length, total, limit, offset, has_more: hasMore, next_offset: hasMore ? offset + files.length : null }
  }

  /** the file's record and bytes (or a range of them: 416 invalid_range outside), for the proxy route to stream */
  async open(ctx: RequestContext, id: string, opts: { range?: ByteRange } = {}): Promise<{ file: ManagedFileRecord; object: GetResult }> {
    requireOperation(ctx.principal, 'storage.read')
    const file = await this.settle(ctx, await findFile(this.store, ctx, id), true)
    try {
      return { file: toManagedFileRecord(file), object: await this.deps.objects.get(refOf(file), { range: opts.range }) }
    } catch (err) {
      // S3 does not say how large the object is when a range misses it; the record does (Content-Range: bytes */size)
      if (err instanceof AppError && err.code === 'invalid_range' && err.extra.data?.size === undefined && file.size_bytes !== null) {
        throw new AppError('invalid_range', err.message, { ...err.extra, data: { ...err.extra.data, size: file.size_bytes } })
      }
      throw err
    }
  }
}

export function urlOf(file: StoredFile, signed: { url: string; method: 'GET' | 'PUT'; expiresAt: Date }, purpose: string, expiresIn: number, headers: Record<string, string>): FileUrl {
  return {
    file_id: file.id,
    bucket: file.bucket,
    storage_key: file.storage_key,
    url: signed.url,
    method: signed.method,
    headers,
    purpose,
    expires_in: expiresIn,
    expires_at: signed.expiresAt.toISOString(),
    expires_at_epoch_seconds: Math.floor(signed.expiresAt.getTime() / 1000),
    cache_hit: false,
    cache_layer: 'none',
  }
}
