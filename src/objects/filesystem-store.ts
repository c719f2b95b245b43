// The default object store: files under <dataDir>/objects. Streams every body (never holds an object in
// memory), writes atomically (temp file + rename), and never follows a symbolic link out of its root.
import { createHash, randomUUID } from 'node:crypto'
import { constants, createWriteStream } from 'node:fs'
import { link, mkdir, open, readdir, readFile, realpath, rename, rm, rmdir, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AppError } from '../errors/app-error.js'
import {
  DEFAULT_CONTENT_TYPE, MeasureStream, notFound, resolveRange, validateBucketName, validateExpiry, validateListPrefix, validateMaxKeys,
  validateMetadata, validateObjectRef, validatePartNumber, validatePostSizes,
  type ByteRange, type CopyOptions, type DeleteManyResult, type GetResult, type ListOptions, type ListResult, type ObjectInfo,
  type ObjectMetadata, type ObjectRef, type ObjectStore, type ObjectSummary, type PostPolicyOptions, type PutOptions, type SignedPost, type SignedUrl,
  type SignOptions, type UploadedPart,
} from './object-store.js'
import { signObjectToken, verifyObjectToken, type SignedClaims } from './signed-token.js'

/** the largest browser form upload the filesystem store takes: the form is read whole before it is stored */
export const FORM_POST_MAX_BYTES = 64 * 1024 * 1024

export interface FilesystemStoreOptions {
  /** the store's root directory, e.g. <dataDir>/objects; created when missing */
  root: string
  /** HMAC key of the signed URLs (deriveSigningKey of the server secret) */
  signingKey: Buffer
  /** base of the URLs Atrium serves signed objects under, e.g. https://atrium.example.com; read when a URL is made */
  publicBaseUrl: () => string
}

/** the sidecar JSON next to each object (in the parallel meta/ tree, so no key can collide with it) */
interface Sidecar {
  size: number
  etag: string
  contentType: string
  metadata: ObjectMetadata
  lastModified: string
}

interface UploadRecord { bucket: string; key: string; contentType: string; metadata: ObjectMetadata; created: string }

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
// O_NOFOLLOW: a symbolic link planted where an object should be is refused instead of followed
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW

/**
 * Bytes per file system read of an object's body. A read stream reads 64 KiB at a time by default, each read a
 * promise and a trip through the thread pool; 256 KiB reads take about half the CPU time per object
 * (bench/README.md, storage workload). Writes are not gathered likewise: measured, it saved nothing.
 */
const READ_CHUNK = 256 * 1024

const bytesOf = (s: string) => Buffer.from(s, 'utf8')
/** S3 lists keys in UTF-8 byte order, which is not JavaScript's UTF-16 order */
const compareKeys = (a: string, b: string) => Buffer.compare(bytesOf(a), bytesOf(b))
const quoted = (hex: string) => `"${hex}"`
const isCode = (err: unknown, ...codes: string[]) => codes.includes((err as NodeJS.ErrnoException)?.code ?? '')

const conflict = (ref: ObjectRef) => new AppError('object_key_conflict', `object key ${JSON.stringify(ref.key)} conflicts with another key in bucket ${JSON.stringify(ref.bucket)}`, {
  hint: 'on the filesystem store a key cannot be both an object and a folder of other keys ("a" and "a/b")',
})

export class FilesystemObjectStore implements ObjectStore {
  readonly kind = 'filesystem' as const
  private constructor(private readonly opts: FilesystemStoreOptions, private readonly realRoot: string) {}

  static async open(opts: FilesystemStoreOptions): Promise<FilesystemObjectStore> {
    for (const tree of ['data', 'meta', 'tmp', 'multipart']) await mkdir(join(opts.root, tree), { recursive: true, mode: 0o700 })
    const store = new FilesystemObjectStore(opts, await realpath(opts.root))
    // temp files of writes a crash interrupted are garbage: nothing refers to them
    await rm(join(opts.root, 'tmp'), { recursive: true, force: true })
    await mkdir(join(opts.root, 'tmp'), { mode: 0o700 })
    return store
  }

  async close(): Promise<void> {}

  // ---- paths -------------------------------------------------------------------------------------------

  private pathOf(tree: 'data' | 'meta', ref: ObjectRef): string {
    return join(this.realRoot, tree, ref.bucket, ...ref.key.split('/'))
  }

  /**
   * Keys are validated, so a path built from one stays inside the root lexically; this checks that no
   * directory on the way is a symbolic link to somewhere else (someone with access to the data directory
   * could plant one). The deepest existing ancestor is resolved and must still be inside the root.
   */
  private async assertInside(dir: string): Promise<void> {
    let current = dir
    for (;;) {
      try {
        const real = await realpath(current)
        if (real !== this.realRoot && !real.startsWith(this.realRoot + sep)) {
          throw new AppError('object_key_conflict', 'the object store refuses a path that leaves its directory through a symbolic link')
        }
        return
      } catch (err) {
        if (!isCode(err, 'ENOENT')) {
          if (isCode(err, 'ENOTDIR')) return // a file on the way: the operation itself will fail cleanly
          throw err
        }
        const parent = dirname(current)
        if (parent === current) return
        current = parent
      }
    }
  }

  private tmpPath(): string {
    return join(this.realRoot, 'tmp', randomUUID())
  }

  // ---- reading -----------------------------------------------------------------------------------------

  private async openData(ref: ObjectRef): Promise<FileHandle | undefined> {
    const path = this.pathOf('data', ref)
    await this.assertInside(dirname(path))
    try {
      const fh = await open(path, READ_FLAGS)
      const st = await fh.stat()
      if (!st.isFile()) {
        await fh.close()
        return undefined
      }
      return fh
    } catch (err) {
      // ELOOP: a symbolic link; EISDIR/ENOTDIR: a folder or a file on the way, i.e. no such object
      if (isCode(err, 'ENOENT', 'ELOOP', 'EISDIR', 'ENOTDIR')) return undefined
      throw err
    }
  }

  private async readSidecar(ref: ObjectRef, size: number, mtime: Date): Promise<Sidecar> {
    try {
      const side = JSON.parse(await readFile(this.pathOf('meta', ref), { encoding: 'utf8', flag: READ_FLAGS })) as Sidecar
      if (side.size === size) return side
    } catch (err) {
      if (!isCode(err, 'ENOENT', 'ELOOP', 'ENOTDIR', 'EISDIR') && !(err instanceof SyntaxError)) throw err
    }
    // no sidecar, or one from another version of the file (a crash between the two renames): describe the file
    return { size, etag: quoted(`${size.toString(16)}-${mtime.getTime().toString(16)}`), contentType: DEFAULT_CONTENT_TYPE, metadata: {}, lastModified: mtime.toISOString() }
  }

  private infoOf(ref: ObjectRef, side: Sidecar): ObjectInfo {
    return { bucket: ref.bucket, key: ref.key, size: side.size, contentType: side.contentType, etag: side.etag, lastModified: new Date(side.lastModified), metadata: { ...side.metadata } }
  }

  async stat(ref: ObjectRef): Promise<ObjectInfo | undefined> {
    validateObjectRef(ref)
    const fh = await this.openData(ref)
    if (!fh) return undefined
    try {
      const st = await fh.stat()
      return this.infoOf(ref, await this.readSidecar(ref, st.size, st.mtime))
    } finally {
      await fh.close()
    }
  }

  async head(ref: ObjectRef): Promise<ObjectInfo> {
    const info = await this.stat(ref)
    if (!info) throw notFound(ref)
    return info
  }

  async get(ref: ObjectRef, opts: { range?: ByteRange } = {}): Promise<GetResult> {
    validateObjectRef(ref)
    const fh = await this.openData(ref)
    if (!fh) throw notFound(ref)
    try {
      const st = await fh.stat()
      const info = this.infoOf(ref, await this.readSidecar(ref, st.size, st.mtime))
      const span = opts.range ? resolveRange(opts.range, st.size) : undefined
      // an empty file has no byte to start at; createReadStream would read from 0 to -1 otherwise
      const body = st.size === 0 ? Readable.from([]) : fh.createReadStream({ start: span?.start ?? 0, end: span?.end ?? st.size - 1, autoClose: true, highWaterMark: READ_CHUNK })
      if (st.size === 0) await fh.close()
      return { ...info, body, range: span, contentLength: span ? span.end - span.start + 1 : st.size }
    } catch (err) {
      await fh.close().catch(() => {})
      throw err
    }
  }

  // ---- writing -----------------------------------------------------------------------------------------

  /** streams the body into a new temp file; returns its path, size and MD5 */
  private async spool(body: Readable | Buffer, maxBytes = Number.MAX_SAFE_INTEGER, contentLength?: number): Promise<{ tmp: string; size: number; md5: Buffer }> {
    const tmp = this.tmpPath()
    const measure = new MeasureStream(maxBytes)
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, measure, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }))
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
    if (contentLength !== undefined && measure.bytes !== contentLength) {
      await rm(tmp, { force: true })
      throw new AppError('invalid_request', `the body had ${measure.bytes} bytes, but ${contentLength} were announced`, { hint: 'the upload was probably cut short; send it again' })
    }
    return { tmp, size: measure.bytes, md5: measure.md5.digest() }
  }

  private async makeParent(path: string, ref: ObjectRef): Promise<void> {
    await this.assertInside(dirname(path))
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    } catch (err) {
      if (isCode(err, 'ENOTDIR', 'EEXIST')) throw conflict(ref)
      throw err
    }
  }

  /** moves a spooled file into place with its sidecar, honouring the conditions; removes the temp file whatever happens */
  private async commit(tmp: string, ref: ObjectRef, side: Sidecar, cond: Pick<PutOptions, 'ifMatch' | 'ifNoneMatch'>): Promise<ObjectInfo> {
    const dataPath = this.pathOf('data', ref)
    const metaPath = this.pathOf('meta', ref)
    const tmpMeta = this.tmpPath()
    try {
      if (cond.ifMatch !== undefined) {
        const current = await this.stat(ref)
        if (!current || current.etag !== normalizeEtag(cond.ifMatch)) {
          throw new AppError('object_precondition_failed', `object ${JSON.stringify(ref.key)} does not have the ETag ${cond.ifMatch}`, { hint: 'read the object again and retry with its current ETag' })
        }
      }
      await this.makeParent(dataPath, ref)
      await this.makeParent(metaPath, ref)
      await writeFile(tmpMeta, JSON.stringify(side), { mode: 0o600, flag: 'wx' })
      try {
        if (cond.ifNoneMatch === '*') {
          // link() fails when the name exists: an atomic create-only, where a check-then-rename would race
          await link(tmp, dataPath)
        } else {
          await rename(tmp, dataPath)
        }
      } catch (err) {
        if (isCode(err, 'EEXIST') && cond.ifNoneMatch === '*') {
          throw new AppError('object_precondition_failed', `object ${JSON.stringify(ref.key)} already exists in bucket ${JSON.stringify(ref.bucket)}`, { hint: 'it was written with if-none-match: *, which never overwrites' })
        }
        if (isCode(err, 'EISDIR', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR')) throw conflict(ref)
        throw err
      }
      await rename(tmpMeta, metaPath)
      return this.infoOf(ref, side)
    } finally {
      await rm(tmp, { force: true })
      await rm(tmpMeta, { force: true })
    }
  }

  async put(ref: ObjectRef, body: Readable | Buffer, opts: PutOptions = {}): Promise<ObjectInfo> {
    validateObjectRef(ref)
    const metadata = validateMetadata(opts.metadata)
    const { tmp, size, md5 } = await this.spool(body, opts.maxBytes, opts.contentLength)
    const side: Sidecar = { size, etag: quoted(md5.toString('hex')), contentType: opts.contentType || DEFAULT_CONTENT_TYPE, metadata, lastModified: new Date().toISOString() }
    return this.commit(tmp, ref, side, opts)
  }

  async copy(from: ObjectRef, to: ObjectRef, opts: CopyOptions = {}): Promise<ObjectInfo> {
    validateObjectRef(to)
    const replace = opts.metadata !== undefined || opts.contentType !== undefined
    const metadata = replace ? validateMetadata(opts.metadata) : undefined
    const source = await this.get(from)
    const { tmp, size, md5 } = await this.spool(source.body)
    const side: Sidecar = {
      size,
      // a copy of a multipart object keeps its ETag, as S3 does for a copy in one request
      etag: source.etag.includes('-') ? source.etag : quoted(md5.toString('hex')),
      contentType: replace ? (opts.contentType || source.contentType) : source.contentType,
      metadata: metadata ?? source.metadata,
      lastModified: new Date().toISOString(),
    }
    return this.commit(tmp, to, side, {})
  }

  async delete(ref: ObjectRef): Promise<void> {
    validateObjectRef(ref)
    for (const tree of ['data', 'meta'] as const) {
      const path = this.pathOf(tree, ref)
      await this.assertInside(dirname(path))
      try {
        await unlink(path)
      } catch (err) {
        if (!isCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR', 'EPERM')) throw err
      }
      await this.pruneEmpty(dirname(path), join(this.realRoot, tree, ref.bucket))
    }
  }

  /** removes folders a delete left empty, so "a" can become an object again once "a/b" is gone */
  private async pruneEmpty(dir: string, stopAt: string): Promise<void> {
    for (let current = dir; current.length > stopAt.length && current.startsWith(stopAt + sep); current = dirname(current)) {
      try {
        await rmdir(current)
      } catch {
        return // not empty (or already gone): every folder above it is not empty either
      }
    }
  }

  async deleteMany(bucket: string, keys: string[]): Promise<DeleteManyResult> {
    validateBucketName(bucket)
    const result: DeleteManyResult = { deleted: [], errors: [] }
    for (const key of keys) {
      try {
        await this.delete({ bucket, key })
        result.deleted.push(key)
      } catch (err) {
        const e = err instanceof AppError ? err : new AppError('object_store_error', (err as Error).message)
        result.errors.push({ key, code: e.code, message: e.message })
      }
    }
    return result
  }

  // ---- listing -----------------------------------------------------------------------------------------

  /** the keys under `dir`, in S3's order (UTF-8 bytes), lazily; skips symbolic links and subtrees before `after` */
  private async *walk(dir: string, keyPrefix: string, prefix: string, after: string | undefined): AsyncGenerator<string> {
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return
      throw err
    }
    // a folder's keys all start with "name/", so sorting folders as "name/" puts them where their keys belong
    const named = entries
      .filter((e) => e.isFile() || e.isDirectory())
      .map((e) => ({ e, sortKey: keyPrefix + e.name + (e.isDirectory() ? '/' : '') }))
      .sort((a, b) => compareKeys(a.sortKey, b.sortKey))
    for (const { e, sortKey } of named) {
      if (!sortKey.startsWith(prefix) && !prefix.startsWith(sortKey)) continue
      if (e.isDirectory()) {
        // the whole folder sorts before `after` unless `after` is inside it
        if (after !== undefined && compareKeys(sortKey, after) < 0 && !after.startsWith(sortKey)) continue
        yield* this.walk(join(dir, e.name), sortKey, prefix, after)
      } else if (after === undefined || compareKeys(sortKey, after) > 0) {
        yield sortKey
      }
    }
  }

  async list(opts: ListOptions): Promise<ListResult> {
    validateBucketName(opts.bucket)
    validateListPrefix(opts.prefix)
    const maxKeys = validateMaxKeys(opts.maxKeys)
    const prefix = opts.prefix ?? ''
    const delimiter = opts.delimiter || undefined
    const resume = opts.continuationToken ? decodeListToken(opts.continuationToken) : undefined
    // start in the deepest folder the prefix names completely
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : ''
    const start = join(this.realRoot, 'data', opts.bucket, ...folder.split('/').filter(Boolean))
    await this.assertInside(start)

    const objects: ObjectSummary[] = []
    const commonPrefixes: string[] = []
    let last: { a: string; p: boolean } | undefined
    let truncated = false
    for await (const key of this.walk(start, folder, prefix, resume?.a)) {
      if (!key.startsWith(prefix)) continue
      if (resume?.p && key.startsWith(resume.a)) continue
      const rest = key.slice(prefix.length)
      const cut = delimiter ? rest.indexOf(delimiter) : -1
      if (cut >= 0) {
        const common = prefix + rest.slice(0, cut + delimiter!.length)
        if (last?.p && last.a === common) continue
        if (objects.length + commonPrefixes.length === maxKeys) { truncated = true; break }
        commonPrefixes.push(common)
        last = { a: common, p: true }
        continue
      }
      if (objects.length + commonPrefixes.length === maxKeys) { truncated = true; break }
      const ref = { bucket: opts.bucket, key }
      const fh = await this.openData(ref)
      if (!fh) continue // deleted while listing
      try {
        const st = await fh.stat()
        const side = await this.readSidecar(ref, st.size, st.mtime)
        objects.push({ key, size: side.size, etag: side.etag, lastModified: new Date(side.lastModified) })
      } finally {
        await fh.close()
      }
      last = { a: key, p: false }
    }
    return { objects, commonPrefixes, nextContinuationToken: truncated && last ? Buffer.from(JSON.stringify(last)).toString('base64url') : undefined }
  }

  // ---- multipart ---------------------------------------------------------------------------------------

  private uploadDir(uploadId: string): string {
    return join(this.realRoot, 'multipart', uploadId)
  }

  private async readUpload(ref: ObjectRef, uploadId: string): Promise<UploadRecord> {
    validateObjectRef(ref)
    const missing = () => new AppError('multipart_upload_not_found', `no multipart upload ${JSON.stringify(String(uploadId).slice(0, 80))} for ${JSON.stringify(ref.key)} in bucket ${JSON.stringify(ref.bucket)}`, {
      hint: 'it may have been completed or aborted; start a new one',
    })
    if (typeof uploadId !== 'string' || !UPLOAD_ID.test(uploadId)) throw missing()
    let record: UploadRecord
    try {
      record = JSON.parse(await readFile(join(this.uploadDir(uploadId), 'upload.json'), { encoding: 'utf8', flag: READ_FLAGS }))
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ELOOP', 'ENOTDIR')) throw missing()
      throw err
    }
    if (record.bucket !== ref.bucket || record.key !== ref.key) throw missing()
    return record
  }

  async createMultipartUpload(ref: ObjectRef, opts: { contentType?: string; metadata?: ObjectMetadata } = {}): Promise<{ uploadId: string }> {
    validateObjectRef(ref)
    const metadata = validateMetadata(opts.metadata)
    const uploadId = randomUUID()
    await mkdir(this.uploadDir(uploadId), { mode: 0o700 })
    const record: UploadRecord = { bucket: ref.bucket, key: ref.key, contentType: opts.contentType || DEFAULT_CONTENT_TYPE, metadata, created: new Date().toISOString() }
    await writeFile(join(this.uploadDir(uploadId), 'upload.json'), JSON.stringify(record), { mode: 0o600 })
    return { uploadId }
  }

  async uploadPart(ref: ObjectRef, uploadId: string, partNumber: number, body: Readable | Buffer, opts: { contentLength?: number; maxBytes?: number } = {}): Promise<UploadedPart> {
    validatePartNumber(partNumber)
    await this.readUpload(ref, uploadId)
    const { tmp, size, md5 } = await this.spool(body, opts.maxBytes, opts.contentLength)
    const part: UploadedPart = { partNumber, etag: quoted(md5.toString('hex')), size, lastModified: new Date() }
    const name = String(partNumber).padStart(5, '0')
    try {
      // the part's record first: a part file without one is never used, a record without a file cannot happen
      await writeFile(join(this.uploadDir(uploadId), `${name}.json`), JSON.stringify(part), { mode: 0o600 })
      await rename(tmp, join(this.uploadDir(uploadId), name))
    } catch (err) {
      await rm(tmp, { force: true })
      // aborted while the part was uploading
      if (isCode(err, 'ENOENT')) await this.readUpload(ref, uploadId)
      throw err
    }
    return part
  }

  async listParts(ref: ObjectRef, uploadId: string): Promise<UploadedPart[]> {
    await this.readUpload(ref, uploadId)
    const names = (await readdir(this.uploadDir(uploadId))).filter((n) => /^\d{5}\.json$/.test(n)).sort()
    const parts: UploadedPart[] = []
    for (const n of names) {
      try {
        const p = JSON.parse(await readFile(join(this.uploadDir(uploadId), n), 'utf8'))
        await stat(join(this.uploadDir(uploadId), n.slice(0, 5)))
        parts.push({ partNumber: p.partNumber, etag: p.etag, size: p.size, lastModified: new Date(p.lastModified) })
      } catch (err) {
        if (!isCode(err, 'ENOENT')) throw err
      }
    }
    return parts
  }

  async completeMultipartUpload(ref: ObjectRef, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<ObjectInfo> {
    const record = await this.readUpload(ref, uploadId)
    if (!Array.isArray(parts) || parts.length === 0) throw new AppError('invalid_multipart_part', 'completing a multipart upload needs at least one part')
    const stored = new Map((await this.listParts(ref, uploadId)).map((p) => [p.partNumber, p]))
    let previous = 0
    for (const p of parts) {
      validatePartNumber(p.partNumber)
      if (p.partNumber <= previous) throw new AppError('invalid_multipart_part', 'parts must be listed in ascending order of part number, each once')
      previous = p.partNumber
      const have = stored.get(p.partNumber)
      if (!have || have.etag !== normalizeEtag(p.etag)) {
        throw new AppError('invalid_multipart_part', `part ${p.partNumber} was not uploaded with ETag ${p.etag}`, { hint: 'listParts shows the parts and ETags the store has' })
      }
    }
    const dir = this.uploadDir(uploadId)
    const files = parts.map((p) => join(dir, String(p.partNumber).padStart(5, '0')))
    async function* concatenated() {
      for (const file of files) {
        const fh = await open(file, READ_FLAGS)
        try {
          for await (const chunk of fh.createReadStream({ autoClose: false })) yield chunk as Buffer
        } finally {
          await fh.close()
        }
      }
    }
    const { tmp, size } = await this.spool(Readable.from(concatenated()))
    // S3's multipart ETag: MD5 of the parts' binary MD5s, then "-<number of parts>"
    const md5s = Buffer.concat(parts.map((p) => Buffer.from(normalizeEtag(p.etag).replaceAll('"', ''), 'hex')))
    const side: Sidecar = { size, etag: quoted(`${createHash('md5').update(md5s).digest('hex')}-${parts.length}`), contentType: record.contentType, metadata: record.metadata, lastModified: new Date().toISOString() }
    const info = await this.commit(tmp, ref, side, {})
    await rm(dir, { recursive: true, force: true })
    return info
  }

  async abortMultipartUpload(ref: ObjectRef, uploadId: string): Promise<void> {
    await this.readUpload(ref, uploadId)
    await rm(this.uploadDir(uploadId), { recursive: true, force: true })
  }

  // ---- signed URLs -------------------------------------------------------------------------------------

  private urlFor(token: string, method: 'GET' | 'PUT', expires: number): SignedUrl {
    const base = this.opts.publicBaseUrl().replace(/\/+$/, '')
    return { url: `${base}/objects/signed/${token}`, method, expiresAt: new Date(expires * 1000) }
  }

  async signedUrl(ref: ObjectRef, opts: SignOptions): Promise<SignedUrl> {
    validateObjectRef(ref)
    validateExpiry(opts.expiresIn)
    if (opts.method !== 'GET' && opts.method !== 'PUT') throw new AppError('invalid_request', 'signed URLs are for GET or PUT')
    const expires = Math.floor(Date.now() / 1000) + opts.expiresIn
    const isPut = opts.method === 'PUT'
    const maxBytes = isPut ? Math.min(opts.maxBytes ?? Infinity, opts.contentLength ?? Infinity) : Infinity
    const token = signObjectToken(this.opts.signingKey, {
      method: opts.method, bucket: ref.bucket, key: ref.key, expires,
      contentType: isPut ? opts.contentType : undefined,
      maxBytes: Number.isFinite(maxBytes) ? maxBytes : undefined,
    })
    return this.urlFor(token, opts.method, expires)
  }

  /**
   * A form upload Atrium takes itself (POST <publicBaseUrl>/objects/signed-post): the policy field is a token
   * naming the object, its size range and content type. The form is read whole before it is stored, so the
   * size is capped at FORM_POST_MAX_BYTES; larger files go through signed PUT URLs.
   */
  async signedPost(ref: ObjectRef, opts: PostPolicyOptions): Promise<SignedPost> {
    validateObjectRef(ref)
    validateExpiry(opts.expiresIn)
    validatePostSizes(opts)
    const expires = Math.floor(Date.now() / 1000) + opts.expiresIn
    const maxBytes = Math.min(opts.maxBytes, FORM_POST_MAX_BYTES)
    const token = signObjectToken(this.opts.signingKey, {
      method: 'POST', bucket: ref.bucket, key: ref.key, expires, contentType: opts.contentType,
      maxBytes, minBytes: opts.minBytes, successStatus: opts.successActionStatus,
    })
    const fields: Record<string, string> = { key: ref.key, policy: token }
    if (opts.contentType !== undefined) fields['Content-Type'] = opts.contentType
    if (opts.successActionStatus !== undefined) fields.success_action_status = String(opts.successActionStatus)
    const base = this.opts.publicBaseUrl().replace(/\/+$/, '')
    return { url: `${base}/objects/signed-post`, fields, expiresAt: new Date(expires * 1000), maxBytes }
  }

  /** the claims of a token this store signed; 403 invalid_signed_url or signed_url_expired otherwise */
  verifySignedToken(token: string, method: 'GET' | 'PUT' | 'HEAD' | 'POST'): SignedClaims {
    const claims = verifyObjectToken(this.opts.signingKey, token, method)
    validateObjectRef(claims)
    return claims
  }

  async signPartUrl(ref: ObjectRef, uploadId: string, partNumber: number, opts: { expiresIn: number }): Promise<SignedUrl> {
    validatePartNumber(partNumber)
    validateExpiry(opts.expiresIn)
    await this.readUpload(ref, uploadId)
    const expires = Math.floor(Date.now() / 1000) + opts.expiresIn
    return this.urlFor(signObjectToken(this.opts.signingKey, { method: 'PUT', bucket: ref.bucket, key: ref.key, expires, uploadId, partNumber }), 'PUT', expires)
  }
}

/** ETags arrive quoted or not (and weak from some proxies); the store keeps them quoted */
export function normalizeEtag(etag: string): string {
  const bare = String(etag).trim().replace(/^W\//, '').replaceAll('"', '')
  return quoted(bare)
}

function decodeListToken(token: string): { a: string; p: boolean } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
    if (typeof parsed?.a === 'string' && typeof parsed?.p === 'boolean') return parsed
  } catch {
    /* fall through */
  }
  throw new AppError('invalid_request', 'the continuation token is not one this store gave out', { hint: 'pass nextContinuationToken of the previous page unchanged' })
}
