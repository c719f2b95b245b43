// Links to a managed file and its versions: the public URL (public buckets only, served by the bucket's public
// route), the proxy URL (through Atrium, with the caller's key), and the noncurrent versions a versioned bucket
// keeps of the file's key. Framework-free; rights are checked here.
import { requireOperation } from '../auth/operation-rights.js'
import { AppError } from '../errors/app-error.js'
import type { RequestContext } from '../request-context.js'
import { isPubliclyReadable } from './bucket-service.js'
import { clientOf, findFile } from './file-access.js'
import { toManagedFileRecord, type ManagedFileRecord } from './file-record.js'
import type { StorageFiles, StorageFilesDeps } from './files-service.js'
import type { ObjectVersion } from './object-versions.js'
import { publicObjectUrl } from './object-service.js'

const PURPOSES = new Set(['read', 'download', 'stream'])

export class StorageFileLinks {
  constructor(private readonly deps: StorageFilesDeps, private readonly files: StorageFiles) {}

  /** the URL anyone can read the file at: only in a public bucket (a public bucket's objects are all public) */
  async publicUrl(ctx: RequestContext, id: string): Promise<{ file_id: string; bucket: string; storage_key: string; url: string; public: true }> {
    requireOperation(ctx.principal, 'storage.read')
    const file = await findFile(this.files.store, ctx, id)
    const bucket = await this.files.bucketOf(ctx, file)
    if (!isPubliclyReadable(bucket)) {
      throw new AppError('bucket_not_public', `file ${file.id} is in bucket ${JSON.stringify(bucket.name)}, which is not public`, {
        hint: 'GET /storage/files/{id}/url gives a signed, expiring URL; a public URL needs a public bucket',
      })
    }
    return { file_id: file.id, bucket: file.bucket, storage_key: file.storage_key, url: publicObjectUrl(this.deps.publicBaseUrl(), bucket, file.storage_key), public: true }
  }

  /** the proxy route's URL for the file: it streams the bytes through Atrium to a caller presenting a key */
  async proxyUrl(ctx: RequestContext, id: string, purpose = 'read'): Promise<{ file_id: string; url: string; purpose: string; method: 'GET'; requires_key: true }> {
    requireOperation(ctx.principal, 'storage.read')
    if (!PURPOSES.has(purpose)) throw new AppError('invalid_request', `purpose must be read, download or stream, got ${JSON.stringify(purpose.slice(0, 40))}`)
    const file = await findFile(this.files.store, ctx, id)
    const url = `${this.deps.publicBaseUrl().replace(/\/+$/, '')}/storage/files/${file.id}/proxy?purpose=${purpose}`
    return { file_id: file.id, url, purpose, method: 'GET', requires_key: true }
  }

  /** the noncurrent versions of the file's key, newest first (empty unless its bucket keeps versions) */
  async versions(ctx: RequestContext, id: string): Promise<{ file_id: string; bucket: string; storage_key: string; versioning: boolean; versions: ObjectVersion[] }> {
    requireOperation(ctx.principal, 'storage.read')
    const file = await findFile(this.files.store, ctx, id, { deleted: true })
    const bucket = await this.files.bucketOf(ctx, file)
    const versions = await this.deps.versions.list(bucket, { key: file.storage_key, limit: 1000 })
    return { file_id: file.id, bucket: file.bucket, storage_key: file.storage_key, versioning: bucket.versioning, versions }
  }

  /**
   * Makes a version the file's content again. The current bytes are replaced only when the bucket keeps them as
   * a version, or with `force` (else 409 object_exists).
   */
  async restoreVersion(ctx: RequestContext, id: string, versionId: string, opts: { force?: boolean } = {}): Promise<ManagedFileRecord> {
    requireOperation(ctx.principal, 'storage.write')
    const file = await findFile(this.files.store, ctx, id)
    const bucket = await this.files.bucketOf(ctx, file)
    const info = await this.deps.versions.restore(bucket, file.storage_key, versionId, opts.force ?? bucket.versioning)
    const updated = await this.files.store.update(clientOf(ctx), file.id, {
      status: 'uploaded', size_bytes: info.size, etag: info.etag, content_type: info.contentType, checksum_sha256: null,
    })
    return toManagedFileRecord(updated ?? file)
  }

  async deleteVersion(ctx: RequestContext, id: string, versionId: string): Promise<ObjectVersion> {
    requireOperation(ctx.principal, 'storage.write')
    const file = await findFile(this.files.store, ctx, id, { deleted: true })
    return this.deps.versions.delete(await this.files.bucketOf(ctx, file), file.storage_key, versionId)
  }
}
