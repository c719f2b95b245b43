// The object store interface every feature stores files through (storage API, exports, backups, uploads),
// and the one validation of bucket names, keys and metadata every backend applies. No framework, no I/O here.
import { createHash } from 'node:crypto'
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { AppError } from '../errors/app-error.js'

/**
 * A bucket is a namespace inside the store (a folder on the filesystem, a key prefix in the one S3 bucket);
 * the key is the object's name inside it. Both are validated by `validateObjectRef` before any I/O.
 */
export interface ObjectRef {
  bucket: string
  key: string
}

/** user metadata: lower-case names, printable ASCII values (what S3 can carry as x-amz-meta-*) */
export type ObjectMetadata = Record<string, string>

export interface PutOptions {
  contentType?: string
  metadata?: ObjectMetadata
  /** '*': only create, never overwrite (a second writer gets 412 object_precondition_failed) */
  ifNoneMatch?: '*'
  /** only overwrite the object whose ETag is this one */
  ifMatch?: string
  /** bytes the body will have, when known (S3 can then stream it in one request) */
  contentLength?: number
  /** refuse (413 object_too_large) a body longer than this; nothing is stored */
  maxBytes?: number
}

export interface ObjectInfo extends ObjectRef {
  size: number
  contentType: string
  /** quoted, as HTTP sends it: "<md5 hex>" or, after a multipart upload, "<hex>-<parts>" */
  etag: string
  lastModified: Date
  metadata: ObjectMetadata
}

/** inclusive byte offsets, like HTTP's Range: bytes=start-end; `suffix` asks for the last n bytes */
export type ByteRange = { start: number; end?: number } | { suffix: number }

export interface GetResult extends ObjectInfo {
  /** the bytes asked for; the caller must consume or destroy it */
  body: Readable
  /** present when a range was asked for: what the body holds (inclusive) */
  range?: { start: number; end: number }
  /** bytes in `body` */
  contentLength: number
}

export interface ListOptions {
  bucket: string
  prefix?: string
  /** keys with this after the prefix are folded into one common prefix (usually '/') */
  delimiter?: string
  /** 1–1000, default 1000 */
  maxKeys?: number
  /** nextContinuationToken of the previous page */
  continuationToken?: string
}

export interface ObjectSummary {
  key: string
  size: number
  etag: string
  lastModified: Date
}

export interface ListResult {
  objects: ObjectSummary[]
  /** "folders": prefix + text up to and including the delimiter, each once */
  commonPrefixes: string[]
  /** set when there are more results; pass it back as continuationToken */
  nextContinuationToken?: string
}

export interface CopyOptions {
  /** replace the metadata (and content type) instead of copying the source's */
  metadata?: ObjectMetadata
  contentType?: string
}

export interface DeleteManyResult {
  deleted: string[]
  errors: { key: string; code: string; message: string }[]
}

export interface UploadedPart {
  partNumber: number
  etag: string
  size: number
  lastModified?: Date
}

export interface SignedUrl {
  url: string
  method: 'GET' | 'PUT'
  expiresAt: Date
}

export interface SignOptions {
  method: 'GET' | 'PUT'
  /** seconds, 1 to MAX_SIGNED_URL_SECONDS */
  expiresIn: number
  /** PUT: the Content-Type the object gets (S3 makes the uploader send exactly this one) */
  contentType?: string
  /** PUT: the exact size the body must have (S3 signs Content-Length; the filesystem refuses a longer body) */
  contentLength?: number
  /** PUT: refuse a longer body (filesystem: enforced by Atrium; S3 can only enforce an exact contentLength) */
  maxBytes?: number
}

/** what a browser form upload (HTML form, multipart/form-data POST) may send */
export interface PostPolicyOptions {
  /** seconds, 1 to MAX_SIGNED_URL_SECONDS */
  expiresIn: number
  /** the Content-Type form field must be exactly this */
  contentType?: string
  minBytes?: number
  maxBytes: number
  /** the status the upload answers with (S3's success_action_status); 204 by default */
  successActionStatus?: 200 | 201 | 204
}

/** a form upload: POST multipart/form-data to `url` with `fields` first, then the file as the field `file` */
export interface SignedPost {
  url: string
  fields: Record<string, string>
  expiresAt: Date
  /** the largest body the store accepts (the filesystem caps form uploads, which it reads whole) */
  maxBytes: number
}

export interface ObjectStore {
  /** 'filesystem' serves its signed URLs through Atrium (/objects/signed/…); 's3' hands out presigned S3 URLs */
  readonly kind: 'filesystem' | 's3'
  put(ref: ObjectRef, body: Readable | Buffer, opts?: PutOptions): Promise<ObjectInfo>
  /** throws 404 object_not_found, 416 invalid_range */
  get(ref: ObjectRef, opts?: { range?: ByteRange }): Promise<GetResult>
  /** throws 404 object_not_found */
  head(ref: ObjectRef): Promise<ObjectInfo>
  /** like head, undefined when there is no such object */
  stat(ref: ObjectRef): Promise<ObjectInfo | undefined>
  list(opts: ListOptions): Promise<ListResult>
  copy(from: ObjectRef, to: ObjectRef, opts?: CopyOptions): Promise<ObjectInfo>
  /** deleting what does not exist is not an error (as on S3) */
  delete(ref: ObjectRef): Promise<void>
  deleteMany(bucket: string, keys: string[]): Promise<DeleteManyResult>

  createMultipartUpload(ref: ObjectRef, opts?: { contentType?: string; metadata?: ObjectMetadata }): Promise<{ uploadId: string }>
  /** parts are numbered 1–10000; on S3 every part but the last must be at least 5 MiB */
  uploadPart(ref: ObjectRef, uploadId: string, partNumber: number, body: Readable | Buffer, opts?: { contentLength?: number; maxBytes?: number }): Promise<UploadedPart>
  /** a URL a client PUTs one part's bytes to; the response's ETag header is the part's etag */
  signPartUrl(ref: ObjectRef, uploadId: string, partNumber: number, opts: { expiresIn: number }): Promise<SignedUrl>
  listParts(ref: ObjectRef, uploadId: string): Promise<UploadedPart[]>
  completeMultipartUpload(ref: ObjectRef, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<ObjectInfo>
  abortMultipartUpload(ref: ObjectRef, uploadId: string): Promise<void>

  signedUrl(ref: ObjectRef, opts: SignOptions): Promise<SignedUrl>
  /** a signed policy for a browser form upload of `ref` (S3: a presigned POST; filesystem: a form Atrium takes) */
  signedPost(ref: ObjectRef, opts: PostPolicyOptions): Promise<SignedPost>
  close(): Promise<void>
}

/** SigV4 presigned URLs cannot live longer than a week; the filesystem backend keeps the same bound */
export const MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600
export const MAX_KEY_BYTES = 960 // S3 allows 1024 for the whole name; the bucket prefix takes the rest
export const MAX_SEGMENT_BYTES = 255
export const MAX_LIST_KEYS = 1000
export const MAX_PARTS = 10_000
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream'
const MAX_METADATA_BYTES = 2048 // S3's limit for all user metadata together

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,62}$/
const CONTROL = /[\u0000-\u001f\u007f]/
// half of a UTF-16 pair cannot be written as UTF-8, so it cannot be a file name or an S3 key
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const METADATA_NAME = /^[a-z0-9][a-z0-9_-]*$/
const METADATA_VALUE = /^[\u0020-\u007e]*$/

export function validateBucketName(bucket: unknown): asserts bucket is string {
  if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw new AppError('invalid_bucket_name', `bucket name ${JSON.stringify(String(bucket).slice(0, 80))} is not allowed`, {
      hint: '2–63 characters: lower-case letters, digits, ".", "_" and "-", starting with a letter or digit, no ".."',
    })
  }
}

/** the one key check: every backend calls it before touching anything, so `..` can never leave a bucket */
export function validateObjectKey(key: unknown): asserts key is string {
  const fail = (why: string) => {
    throw new AppError('invalid_object_key', `object key ${JSON.stringify(String(key).slice(0, 120))} is not allowed: ${why}`, {
      hint: `keys are 1–${MAX_KEY_BYTES} bytes of UTF-8, "/"-separated segments of at most ${MAX_SEGMENT_BYTES} bytes, with no empty, "." or ".." segment, no leading or trailing "/" and no control characters`,
    })
  }
  if (typeof key !== 'string' || key.length === 0) return fail('it is empty')
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return fail(`it is longer than ${MAX_KEY_BYTES} bytes`)
  if (CONTROL.test(key)) return fail('it contains a control character (NUL, newline, …)')
  if (key.startsWith('/')) return fail('it starts with "/"')
  if (LONE_SURROGATE.test(key)) return fail('it is not valid Unicode')
  // no trailing "/" either: on a filesystem "a/" and "a/b" cannot both be things; folders are prefixes
  for (const segment of key.split('/')) {
    if (segment === '') return fail('it has an empty segment ("//")')
    if (segment === '.' || segment === '..') return fail(`it has a "${segment}" segment`)
    // what a file name can be on common filesystems; the same on S3, so a key works on both backends
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) return fail(`a segment is longer than ${MAX_SEGMENT_BYTES} bytes`)
  }
}

export function validateObjectRef(ref: ObjectRef): void {
  validateBucketName(ref?.bucket)
  validateObjectKey(ref?.key)
}

/** a list prefix may be empty or end anywhere, but must not walk out of the bucket either */
export function validateListPrefix(prefix: string | undefined): void {
  if (prefix === undefined || prefix === '') return
  if (typeof prefix !== 'string' || CONTROL.test(prefix) || prefix.startsWith('/') || Buffer.byteLength(prefix, 'utf8') > MAX_KEY_BYTES ||
    prefix.split('/').some((s, i, all) => s === '..' || s === '.' || (s === '' && i < all.length - 1))) {
    throw new AppError('invalid_object_key', `list prefix ${JSON.stringify(String(prefix).slice(0, 120))} is not allowed`, {
      hint: 'a prefix is the start of a valid key: no leading "/", no "//", "." or ".." segment, no control characters',
    })
  }
}

/** normalises names to lower case (S3 does) and checks what S3 could not carry */
export function validateMetadata(metadata: ObjectMetadata | undefined): ObjectMetadata {
  const out: ObjectMetadata = {}
  if (metadata === undefined) return out
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new AppError('invalid_object_metadata', 'object metadata must be an object of string values')
  }
  let bytes = 0
  for (const [rawName, value] of Object.entries(metadata)) {
    const name = rawName.toLowerCase()
    if (!METADATA_NAME.test(name)) throw new AppError('invalid_object_metadata', `metadata name ${JSON.stringify(rawName)} is not allowed`, { hint: 'names are letters, digits, "_" and "-"' })
    if (typeof value !== 'string' || !METADATA_VALUE.test(value)) {
      throw new AppError('invalid_object_metadata', `metadata value of ${JSON.stringify(rawName)} must be printable ASCII text`, { hint: 'encode other text (e.g. with encodeURIComponent) before storing it' })
    }
    bytes += name.length + value.length
    out[name] = value
  }
  if (bytes > MAX_METADATA_BYTES) throw new AppError('invalid_object_metadata', `metadata is ${bytes} bytes; at most ${MAX_METADATA_BYTES} are allowed`)
  return out
}

/** the size bounds of a form upload: 0 ≤ min ≤ max */
export function validatePostSizes(opts: Pick<PostPolicyOptions, 'minBytes' | 'maxBytes'>): void {
  const min = opts.minBytes ?? 0
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(opts.maxBytes) || min < 0 || opts.maxBytes < min) {
    throw new AppError('invalid_request', `the size range ${min}–${opts.maxBytes} bytes is not valid`, { hint: 'min_size and max_size are whole numbers of bytes, min_size ≤ max_size' })
  }
}

export function validateExpiry(expiresIn: number): void {
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_SIGNED_URL_SECONDS) {
    throw new AppError('invalid_request', `expiresIn must be a whole number of seconds from 1 to ${MAX_SIGNED_URL_SECONDS} (a week), got ${expiresIn}`)
  }
}

export function validatePartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new AppError('invalid_multipart_part', `part number must be a whole number from 1 to ${MAX_PARTS}, got ${partNumber}`)
  }
}

export function validateMaxKeys(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return MAX_LIST_KEYS
  if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > MAX_LIST_KEYS) {
    throw new AppError('invalid_request', `maxKeys must be a whole number from 1 to ${MAX_LIST_KEYS}, got ${maxKeys}`)
  }
  return maxKeys
}

/** the byte span a range asks for in an object of `size` bytes; 416 invalid_range when it is outside */
export function resolveRange(range: ByteRange, size: number): { start: number; end: number } {
  let start: number
  let end: number
  if ('suffix' in range) {
    if (!Number.isInteger(range.suffix) || range.suffix < 1) throw new AppError('invalid_range', 'a suffix range asks for at least one byte')
    start = Math.max(0, size - range.suffix)
    end = size - 1
  } else {
    start = range.start
    end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1)
    if (!Number.isInteger(start) || start < 0 || (range.end !== undefined && (!Number.isInteger(range.end) || range.end < start))) {
      throw new AppError('invalid_range', `bytes=${start}-${range.end ?? ''} is not a valid range`)
    }
  }
  if (size === 0 || start >= size) {
    throw new AppError('invalid_range', `the range starts at byte ${start}, but the object has ${size} bytes`, { data: { size } })
  }
  return { start, end }
}

/** the store's own error for bodies over maxBytes */
export function tooLarge(maxBytes: number): AppError {
  return new AppError('object_too_large', `the object is larger than the limit of ${maxBytes} bytes`, { data: { limit: maxBytes } })
}

export function notFound(ref: ObjectRef): AppError {
  return new AppError('object_not_found', `no object ${JSON.stringify(ref.key)} in bucket ${JSON.stringify(ref.bucket)}`)
}

/** counts and hashes the bytes flowing through, and stops the stream once it passes maxBytes */
export class MeasureStream extends Transform {
  readonly md5 = createHash('md5')
  bytes = 0
  constructor(private readonly maxBytes: number) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.maxBytes) return done(tooLarge(this.maxBytes))
    this.md5.update(chunk)
    done(null, chunk)
  }
}
