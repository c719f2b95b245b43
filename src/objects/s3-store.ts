// The S3 object store (AWS S3 or any S3-compatible server): every Atrium bucket is a prefix "<bucket>/" in the
// one configured S3 bucket. Streams bodies through the SDK; presigned URLs are signed by the SDK, not Atrium.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, ListPartsCommand, PutObjectCommand, S3Client,
  S3ServiceException, UploadPartCommand,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { createPresignedPost } from '@aws-sdk/s3-presigned-post'
import type { PresignedPostOptions } from '@aws-sdk/s3-presigned-post'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { Readable } from 'node:stream'
import { AppError } from '../errors/app-error.js'
import {
  DEFAULT_CONTENT_TYPE, MeasureStream, notFound, resolveRange, validateBucketName, validateExpiry, validateListPrefix, validateMaxKeys, validateMetadata,
  validateObjectRef, validatePartNumber, validatePostSizes, tooLarge,
  type ByteRange, type CopyOptions, type DeleteManyResult, type GetResult, type ListOptions, type ListResult, type ObjectInfo,
  type ObjectMetadata, type ObjectRef, type ObjectStore, type PostPolicyOptions, type PutOptions, type SignedPost, type SignedUrl, type SignOptions, type UploadedPart,
} from './object-store.js'

export interface S3StoreOptions {
  bucket: string
  region: string
  endpoint?: string
  /** path-style addressing (http://host/bucket/key), which MinIO, s3rver and most self-hosted servers need */
  forcePathStyle: boolean
  /** without them the SDK's own credential chain is used (instance roles, ~/.aws, …) */
  accessKeyId?: string
  secretAccessKey?: string
}

const asRange = (range: ByteRange) => ('suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end ?? ''}`)

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const
  private readonly client: S3Client
  private readonly bucket: string

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket
    this.client = new S3Client({
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.accessKeyId && opts.secretAccessKey ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } : undefined,
      // checksums only where S3 requires them: many S3-compatible servers reject the SDK's default CRC32 trailers
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
  }

  async close(): Promise<void> {
    this.client.destroy()
  }

  private keyOf(ref: ObjectRef): string {
    return `${ref.bucket}/${ref.key}`
  }

  /** S3's answers, as the store's own codes */
  private translate(err: unknown, ref: ObjectRef, uploadId?: string): Error {
    if (err instanceof AppError) return err
    const e = err as S3ServiceException
    const status = e?.$metadata?.httpStatusCode
    switch (e?.name) {
      case 'NoSuchUpload':
        return new AppError('multipart_upload_not_found', `no multipart upload ${JSON.stringify(uploadId ?? '')} for ${JSON.stringify(ref.key)} in bucket ${JSON.stringify(ref.bucket)}`, { hint: 'it may have been completed or aborted; start a new one' })
      case 'NoSuchBucket':
        return new AppError('object_store_error', `the S3 bucket ${JSON.stringify(this.bucket)} does not exist`, { hint: 'create it, or set S3_BUCKET to one that exists' })
      case 'InvalidPart':
      case 'InvalidPartOrder':
      case 'EntityTooSmall':
        return new AppError('invalid_multipart_part', e.message || e.name, { hint: 'every part but the last must be at least 5 MiB; list parts in ascending order with the ETags S3 returned' })
      case 'InvalidRange':
        return new AppError('invalid_range', 'the range is outside the object')
      case 'PreconditionFailed':
        return new AppError('object_precondition_failed', `the condition on ${JSON.stringify(ref.key)} failed`)
    }
    if (e?.name === 'NoSuchKey' || e?.name === 'NotFound' || status === 404) return notFound(ref)
    if (status === 412) return new AppError('object_precondition_failed', `the condition on ${JSON.stringify(ref.key)} failed`)
    if (status === 416) return new AppError('invalid_range', 'the range is outside the object')
    if (err instanceof Error && err.name === 'AbortError') return err
    return new AppError('object_store_error', `the S3 store failed: ${(err as Error)?.message ?? String(err)}`, { cause: err, retryAfter: 1 })
  }

  private infoFrom(ref: ObjectRef, out: { ContentLength?: number; ContentType?: string; ETag?: string; LastModified?: Date; Metadata?: Record<string, string> }, size?: number): ObjectInfo {
    return {
      bucket: ref.bucket,
      key: ref.key,
      size: size ?? out.ContentLength ?? 0,
      contentType: out.ContentType || DEFAULT_CONTENT_TYPE,
      etag: out.ETag ?? '',
      lastModified: out.LastModified ?? new Date(),
      metadata: { ...(out.Metadata ?? {}) },
    }
  }

  async stat(ref: ObjectRef): Promise<ObjectInfo | undefined> {
    validateObjectRef(ref)
    try {
      return this.infoFrom(ref, await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(ref) })))
    } catch (err) {
      const e = this.translate(err, ref)
      if (e instanceof AppError && e.code === 'object_not_found') return undefined
      throw e
    }
  }

  async head(ref: ObjectRef): Promise<ObjectInfo> {
    const info = await this.stat(ref)
    if (!info) throw notFound(ref)
    return info
  }

  async get(ref: ObjectRef, opts: { range?: ByteRange } = {}): Promise<GetResult> {
    validateObjectRef(ref)
    let range = opts.range
    // suffix ranges (bytes=-n) are answered wrongly by some S3-compatible servers; asked as start-end they are not
    if (range && 'suffix' in range) range = resolveRange(range, (await this.head(ref)).size)
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(ref), Range: range ? asRange(range) : undefined }))
      // Content-Range: bytes <start>-<end>/<size>
      const span = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange ?? '')
      const size = span ? Number(span[3]) : out.ContentLength ?? 0
      const info = this.infoFrom(ref, out, size)
      return { ...info, body: out.Body as Readable, contentLength: out.ContentLength ?? size, range: span ? { start: Number(span[1]), end: Number(span[2]) } : undefined }
    } catch (err) {
      const translated = this.translate(err, ref)
      // S3's 416 does not carry the object's size, which a 416's Content-Range (bytes */<size>) needs
      const size = range && translated instanceof AppError && translated.code === 'invalid_range' ? (await this.stat(ref))?.size : undefined
      if (size !== undefined) throw new AppError('invalid_range', `the range is outside the object of ${size} bytes`, { data: { size } })
      throw translated
    }
  }

  /** S3 servers that do not implement conditional writes ignore the headers; checking first keeps the contract there too */
  private async checkConditions(ref: ObjectRef, opts: Pick<PutOptions, 'ifMatch' | 'ifNoneMatch'>): Promise<void> {
    if (opts.ifNoneMatch !== '*' && opts.ifMatch === undefined) return
    const current = await this.stat(ref)
    if (opts.ifNoneMatch === '*' && current) {
      throw new AppError('object_precondition_failed', `object ${JSON.stringify(ref.key)} already exists in bucket ${JSON.stringify(ref.bucket)}`, { hint: 'it was written with if-none-match: *, which never overwrites' })
    }
    if (opts.ifMatch !== undefined && (!current || current.etag.replaceAll('"', '') !== opts.ifMatch.replace(/^W\//, '').replaceAll('"', ''))) {
      throw new AppError('object_precondition_failed', `object ${JSON.stringify(ref.key)} does not have the ETag ${opts.ifMatch}`, { hint: 'read the object again and retry with its current ETag' })
    }
  }

  async put(ref: ObjectRef, body: Readable | Buffer, opts: PutOptions = {}): Promise<ObjectInfo> {
    validateObjectRef(ref)
    const metadata = validateMetadata(opts.metadata)
    const max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER
    const length = Buffer.isBuffer(body) ? body.length : opts.contentLength
    if (length !== undefined && length > max) {
      if (!Buffer.isBuffer(body)) body.destroy()
      throw tooLarge(max)
    }
    await this.checkConditions(ref, opts)
    const params = {
      Bucket: this.bucket,
      Key: this.keyOf(ref),
      ContentType: opts.contentType || DEFAULT_CONTENT_TYPE,
      Metadata: metadata,
      IfNoneMatch: opts.ifNoneMatch,
      IfMatch: opts.ifMatch,
    }
    try {
      if (Buffer.isBuffer(body)) {
        await this.client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.length }))
      } else {
        // the counter stops a body that grows past maxBytes (or its announced length); the SDK then aborts the upload
        const measure = new MeasureStream(Math.min(max, length ?? max))
        body.on('error', (err) => measure.destroy(err))
        const upload = new Upload({ client: this.client, params: { ...params, Body: body.pipe(measure) }, queueSize: 2, leavePartsOnError: false })
        await upload.done()
        if (length !== undefined && measure.bytes !== length) {
          await this.delete(ref)
          throw new AppError('invalid_request', `the body had ${measure.bytes} bytes, but ${length} were announced`, { hint: 'the upload was probably cut short; send it again' })
        }
      }
    } catch (err) {
      throw this.translate(err, ref)
    }
    return this.head(ref)
  }

  async copy(from: ObjectRef, to: ObjectRef, opts: CopyOptions = {}): Promise<ObjectInfo> {
    validateObjectRef(from)
    validateObjectRef(to)
    const replace = opts.metadata !== undefined || opts.contentType !== undefined
    let contentType = opts.contentType
    if (replace && contentType === undefined) contentType = (await this.head(from)).contentType
    try {
      await this.client.send(new CopyObjectCommand({
        Bucket: this.bucket,
        Key: this.keyOf(to),
        // CopySource is "<bucket>/<key>", URL-encoded segment by segment
        CopySource: `${this.bucket}/${this.keyOf(from).split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: replace ? 'REPLACE' : 'COPY',
        ContentType: replace ? contentType : undefined,
        Metadata: replace ? validateMetadata(opts.metadata) : undefined,
      }))
    } catch (err) {
      throw this.translate(err, from)
    }
    return this.head(to)
  }

  async delete(ref: ObjectRef): Promise<void> {
    validateObjectRef(ref)
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(ref) }))
    } catch (err) {
      const e = this.translate(err, ref)
      if (!(e instanceof AppError && e.code === 'object_not_found')) throw e
    }
  }

  async deleteMany(bucket: string, keys: string[]): Promise<DeleteManyResult> {
    validateBucketName(bucket)
    const result: DeleteManyResult = { deleted: [], errors: [] }
    const valid: string[] = []
    for (const key of keys) {
      try {
        validateObjectRef({ bucket, key })
        valid.push(key)
      } catch (err) {
        result.errors.push({ key, code: (err as AppError).code, message: (err as AppError).message })
      }
    }
    // DeleteObjects takes at most 1000 keys a request
    for (let i = 0; i < valid.length; i += 1000) {
      const chunk = valid.slice(i, i + 1000)
      try {
        const out = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((key) => ({ Key: this.keyOf({ bucket, key }) })), Quiet: false } }))
        const strip = (k?: string) => (k ?? '').slice(bucket.length + 1)
        for (const d of out.Deleted ?? []) result.deleted.push(strip(d.Key))
        for (const e of out.Errors ?? []) result.errors.push({ key: strip(e.Key), code: 'object_store_error', message: `${e.Code}: ${e.Message}` })
      } catch (err) {
        throw this.translate(err, { bucket, key: chunk[0] })
      }
    }
    return result
  }

  async list(opts: ListOptions): Promise<ListResult> {
    validateBucketName(opts.bucket)
    validateListPrefix(opts.prefix)
    const maxKeys = validateMaxKeys(opts.maxKeys)
    const base = `${opts.bucket}/`
    try {
      const out = await this.client.send(new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: base + (opts.prefix ?? ''),
        Delimiter: opts.delimiter || undefined,
        MaxKeys: maxKeys,
        ContinuationToken: opts.continuationToken,
      }))
      return {
        objects: (out.Contents ?? []).map((o) => ({ key: o.Key!.slice(base.length), size: o.Size ?? 0, etag: o.ETag ?? '', lastModified: o.LastModified ?? new Date(0) })),
        commonPrefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix!.slice(base.length)),
        nextContinuationToken: out.IsTruncated ? out.NextContinuationToken : undefined,
      }
    } catch (err) {
      if ((err as S3ServiceException)?.name === 'InvalidArgument') {
        throw new AppError('invalid_request', 'the continuation token is not one this store gave out', { hint: 'pass nextContinuationToken of the previous page unchanged' })
      }
      throw this.translate(err, { bucket: opts.bucket, key: opts.prefix ?? '' })
    }
  }

  async createMultipartUpload(ref: ObjectRef, opts: { contentType?: string; metadata?: ObjectMetadata } = {}): Promise<{ uploadId: string }> {
    validateObjectRef(ref)
    const metadata = validateMetadata(opts.metadata)
    try {
      const out = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.keyOf(ref), ContentType: opts.contentType || DEFAULT_CONTENT_TYPE, Metadata: metadata }))
      return { uploadId: out.UploadId! }
    } catch (err) {
      throw this.translate(err, ref)
    }
  }

  async uploadPart(ref: ObjectRef, uploadId: string, partNumber: number, body: Readable | Buffer, opts: { contentLength?: number; maxBytes?: number } = {}): Promise<UploadedPart> {
    validateObjectRef(ref)
    validatePartNumber(partNumber)
    const length = Buffer.isBuffer(body) ? body.length : opts.contentLength
    if (length === undefined) {
      throw new AppError('invalid_request', 'a part sent to S3 as a stream needs its length', { hint: 'pass contentLength (the Content-Length of the upload)' })
    }
    if (opts.maxBytes !== undefined && length > opts.maxBytes) throw tooLarge(opts.maxBytes)
    try {
      const out = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: this.keyOf(ref), UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: length }))
      return { partNumber, etag: out.ETag ?? '', size: length, lastModified: new Date() }
    } catch (err) {
      throw this.translate(err, ref, uploadId)
    }
  }

  async listParts(ref: ObjectRef, uploadId: string): Promise<UploadedPart[]> {
    validateObjectRef(ref)
    const parts: UploadedPart[] = []
    let marker: string | undefined
    try {
      for (;;) {
        const out = await this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key: this.keyOf(ref), UploadId: uploadId, PartNumberMarker: marker }))
        for (const p of out.Parts ?? []) parts.push({ partNumber: p.PartNumber!, etag: p.ETag ?? '', size: p.Size ?? 0, lastModified: p.LastModified })
        if (!out.IsTruncated || !out.NextPartNumberMarker) return parts
        marker = out.NextPartNumberMarker
      }
    } catch (err) {
      throw this.translate(err, ref, uploadId)
    }
  }

  async completeMultipartUpload(ref: ObjectRef, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<ObjectInfo> {
    validateObjectRef(ref)
    if (!Array.isArray(parts) || parts.length === 0) throw new AppError('invalid_multipart_part', 'completing a multipart upload needs at least one part')
    for (const p of parts) validatePartNumber(p.partNumber)
    try {
      await this.client.send(new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: this.keyOf(ref),
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }))
    } catch (err) {
      throw this.translate(err, ref, uploadId)
    }
    return this.head(ref)
  }

  async abortMultipartUpload(ref: ObjectRef, uploadId: string): Promise<void> {
    validateObjectRef(ref)
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.keyOf(ref), UploadId: uploadId }))
    } catch (err) {
      throw this.translate(err, ref, uploadId)
    }
  }

  async signedUrl(ref: ObjectRef, opts: SignOptions): Promise<SignedUrl> {
    validateObjectRef(ref)
    validateExpiry(opts.expiresIn)
    const command = opts.method === 'PUT'
      ? new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(ref), ContentType: opts.contentType, ContentLength: opts.contentLength })
      : new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(ref) })
    if (opts.method !== 'GET' && opts.method !== 'PUT') throw new AppError('invalid_request', 'signed URLs are for GET or PUT')
    const url = await getSignedUrl(this.client, command, { expiresIn: opts.expiresIn })
    return { url, method: opts.method, expiresAt: new Date(Date.now() + opts.expiresIn * 1000) }
  }

  async signedPost(ref: ObjectRef, opts: PostPolicyOptions): Promise<SignedPost> {
    validateObjectRef(ref)
    validateExpiry(opts.expiresIn)
    validatePostSizes(opts)
    // S3 checks the policy: the body's size range, and the exact Content-Type field when one is asked for
    const conditions: NonNullable<PresignedPostOptions['Conditions']> = [['content-length-range', opts.minBytes ?? 0, opts.maxBytes]]
    const fields: Record<string, string> = {}
    if (opts.contentType !== undefined) {
      conditions.push(['eq', '$Content-Type', opts.contentType])
      fields['Content-Type'] = opts.contentType
    }
    if (opts.successActionStatus !== undefined) fields.success_action_status = String(opts.successActionStatus)
    const post = await createPresignedPost(this.client, { Bucket: this.bucket, Key: this.keyOf(ref), Conditions: conditions, Fields: fields, Expires: opts.expiresIn })
    return { url: post.url, fields: post.fields, expiresAt: new Date(Date.now() + opts.expiresIn * 1000), maxBytes: opts.maxBytes }
  }

  async signPartUrl(ref: ObjectRef, uploadId: string, partNumber: number, opts: { expiresIn: number }): Promise<SignedUrl> {
    validateObjectRef(ref)
    validatePartNumber(partNumber)
    validateExpiry(opts.expiresIn)
    const url = await getSignedUrl(this.client, new UploadPartCommand({ Bucket: this.bucket, Key: this.keyOf(ref), UploadId: uploadId, PartNumber: partNumber }), { expiresIn: opts.expiresIn })
    return { url, method: 'PUT', expiresAt: new Date(Date.now() + opts.expiresIn * 1000) }
  }
}
