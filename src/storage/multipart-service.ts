// Multipart uploads of storage files (/storage/multipart/*) on the object store's multipart API: one upload at a
// time per file record, parts PUT straight to signed part URLs, and the completed object checked against the
// bucket's limits before the record becomes uploaded. Framework-free; rights are checked here.
import { requireOperation } from '../auth/operation-rights.js'
import { AppError } from '../errors/app-error.js'
import { DEFAULT_CONTENT_TYPE, MAX_SIGNED_URL_SECONDS, validatePartNumber, type ObjectRef } from '../objects/object-store.js'
import type { RequestContext } from '../request-context.js'
import { checkUpload } from './bucket-store.js'
import { admitObject, clientOf, expiresInOf, findFile, refOf } from './file-access.js'
import { toManagedFileRecord, type ManagedFileRecord } from './file-record.js'
import type { StoredFile } from './file-store.js'
import type { StorageFiles, StorageFilesDeps } from './files-service.js'
import { urlOf, type FileUrl } from './files-service.js'

export interface UploadRef {
  file_id: string
  upload_id: string
}

export interface MultipartUpload {
  file_id: string
  upload_id: string
  bucket: string
  storage_key: string
  content_type: string
}

export interface UploadedPartRecord {
  part_number: number
  etag: string
  size: number
  last_modified: string | null
}


export class StorageMultipart {
  constructor(private readonly deps: StorageFilesDeps, private readonly files: StorageFiles) {}

  /** starts a multipart upload for a file record; one that was in progress for it is aborted */
  async create(ctx: RequestContext, input: { file_id: string; content_type?: string }): Promise<MultipartUpload> {
    requireOperation(ctx.principal, 'storage.write')
    const file = await findFile(this.files.store, ctx, input.file_id)
    const bucket = await this.files.bucketOf(ctx, file)
    const contentType = input.content_type ?? file.content_type ?? DEFAULT_CONTENT_TYPE
    checkUpload(bucket, { size: file.status === 'pending' ? file.size_bytes ?? undefined : undefined, contentType })
    const ref = refOf(file)
    if (file.upload_id !== null) await this.deps.objects.abortMultipartUpload(ref, file.upload_id).catch(() => {})
    // what the completed upload will replace is kept first, when the bucket keeps versions
    await this.deps.versions.keep(bucket, file.storage_key)
    const { uploadId } = await this.deps.objects.createMultipartUpload(ref, { contentType })
    await this.files.store.update(clientOf(ctx), file.id, { upload_id: uploadId, content_type: contentType })
    return { file_id: file.id, upload_id: uploadId, bucket: file.bucket, storage_key: file.storage_key, content_type: contentType }
  }

  /** a URL one part's bytes are PUT to; the response's ETag header is what complete needs for that part */
  async signPart(ctx: RequestContext, input: UploadRef & { part_number: number; expires_in?: number }): Promise<FileUrl & { part_number: number; upload_id: string }> {
    requireOperation(ctx.principal, 'storage.write')
    validatePartNumber(input.part_number)
    const expiresIn = expiresInOf(input.expires_in, MAX_SIGNED_URL_SECONDS)
    const file = await this.uploading(ctx, input)
    const signed = await this.deps.objects.signPartUrl(refOf(file), input.upload_id, input.part_number, { expiresIn })
    // an upload still signing parts is alive: the abandoned-upload sweep goes by when a file was last touched
    await this.files.store.update(clientOf(ctx), file.id, {})
    return { ...urlOf(file, signed, 'upload_part', expiresIn, {}), part_number: input.part_number, upload_id: input.upload_id }
  }

  async listParts(ctx: RequestContext, input: UploadRef): Promise<{ file_id: string; upload_id: string; parts: UploadedPartRecord[] }> {
    requireOperation(ctx.principal, 'storage.read')
    const file = await this.uploading(ctx, input)
    const parts = await this.deps.objects.listParts(refOf(file), input.upload_id)
    return {
      file_id: file.id,
      upload_id: input.upload_id,
      parts: parts.map((p) => ({ part_number: p.partNumber, etag: p.etag, size: p.size, last_modified: p.lastModified?.toISOString() ?? null })),
    }
  }

  /** joins the parts into the file's object, checks it against the bucket, and marks the file uploaded */
  async complete(ctx: RequestContext, input: UploadRef & { parts: { part_number: number; etag: string }[] }): Promise<ManagedFileRecord> {
    requireOperation(ctx.principal, 'storage.write')
    const file = await this.uploading(ctx, input)
    const ref = refOf(file)
    const parts = [...input.parts].sort((a, b) => a.part_number - b.part_number).map((p) => ({ partNumber: p.part_number, etag: p.etag }))
    await this.checkParts(ref, input.upload_id, parts)
    const info = await this.deps.objects.completeMultipartUpload(ref, input.upload_id, parts)
    // the upload is over either way: a refused object is removed by admitObject
    await this.files.store.update(clientOf(ctx), file.id, { upload_id: null })
    const bucket = await this.files.bucketOf(ctx, file)
    await admitObject(this.deps.objects, ref, info, bucket, file.content_type ?? info.contentType)
    const updated = await this.files.store.update(clientOf(ctx), file.id, {
      status: 'uploaded', size_bytes: info.size, etag: info.etag, mime_type: file.mime_type ?? file.content_type ?? info.contentType,
    })
    return toManagedFileRecord(updated ?? file)
  }

  async abort(ctx: RequestContext, input: UploadRef): Promise<{ aborted: true; file_id: string; upload_id: string }> {
    requireOperation(ctx.principal, 'storage.write')
    const file = await this.uploading(ctx, input)
    await this.deps.objects.abortMultipartUpload(refOf(file), input.upload_id)
    await this.files.store.update(clientOf(ctx), file.id, { upload_id: null })
    return { aborted: true, file_id: file.id, upload_id: input.upload_id }
  }

  /**
   * Every part named must have been uploaded with that ETag. The filesystem store and S3 check this, but not
   * every S3-compatible server does: checked here, the answer is the same 400 on every backend.
   */
  private async checkParts(ref: ObjectRef, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
    const unquoted = (etag: string) => etag.trim().replaceAll('"', '')
    const stored = new Map((await this.deps.objects.listParts(ref, uploadId)).map((p) => [p.partNumber, unquoted(p.etag)]))
    for (const p of parts) {
      if (stored.get(p.partNumber) !== unquoted(p.etag)) {
        throw new AppError('invalid_multipart_part', `part ${p.partNumber} was not uploaded with ETag ${p.etag}`, { hint: 'POST /storage/multipart/list-parts shows the parts and ETags the store has', data: { part_number: p.partNumber } })
      }
    }
  }

  /** the file whose upload in progress is `upload_id`; 404 multipart_upload_not_found for any other id */
  private async uploading(ctx: RequestContext, input: UploadRef): Promise<StoredFile> {
    const file = await findFile(this.files.store, ctx, input.file_id)
    if (file.upload_id === null || file.upload_id !== input.upload_id) {
      throw new AppError('multipart_upload_not_found', `file ${file.id} has no multipart upload ${JSON.stringify(String(input.upload_id).slice(0, 200))} in progress`, {
        hint: 'POST /storage/multipart/create starts one; a completed or aborted upload is over',
        data: { file_id: file.id },
      })
    }
    return file
  }
}
