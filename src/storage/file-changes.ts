// Changes to storage file records: update (and move), visibility, soft delete, restore, purge, copy, and their
// many-file forms. A record and its object change together: a move copies the bytes before the record points
// at them and removes the old ones after. Framework-free; rights are checked here.
import { requireOperation } from '../auth/operation-rights.js'
import { AppError } from '../errors/app-error.js'
import type { RequestContext } from '../request-context.js'
import type { Executor } from '../sources/driver.js'
import { checkUpload } from './bucket-store.js'
import { clientOf, creatorOf, fileNotFound, findFile, normalizeChecksum, refOf } from './file-access.js'
import { toManagedFileRecord, type ManagedFileRecord } from './file-record.js'
import type { FileChanges as StoredChanges, FileVisibility, StoredFile } from './file-store.js'
import type { StorageFiles, StorageFilesDeps } from './files-service.js'

export interface FileUpdate {
  bucket?: string
  storage_key?: string
  file_name?: string
  name?: string
  original_name?: string
  mime_type?: string
  content_type?: string
  checksum_sha256?: string
  resource_id?: string
  metadata?: Record<string, unknown>
  visibility?: FileVisibility
  public?: boolean
  /** Atrium's own: accepted only when equal to what the record has */
  status?: string
  size_bytes?: number
}

export interface CopyInput {
  storage_key: string
  bucket?: string
  file_name?: string
  metadata?: Record<string, unknown>
  visibility?: FileVisibility
}

export interface VisibilityInput {
  visibility?: FileVisibility
  public?: boolean
}

const MAX_MANY = 1000

function visibilityOf(input: VisibilityInput): FileVisibility {
  const visibility = input.visibility ?? (input.public === undefined ? undefined : input.public ? 'public' : 'private')
  if (visibility === undefined) throw new AppError('invalid_request', 'send visibility (private, organization or public) or public (true or false)')
  return visibility
}

const uploadInProgress = (f: StoredFile) =>
  new AppError('storage_upload_in_progress', `file ${f.id} has a multipart upload in progress (${f.upload_id})`, {
    hint: 'complete or abort it (POST /storage/multipart/complete or /abort) first',
    data: { file_id: f.id, upload_id: f.upload_id },
  })

export class StorageFileChanges {
  constructor(private readonly deps: StorageFilesDeps, private readonly files: StorageFiles) {}

  private get store() {
    return this.files.store
  }

  async update(ctx: RequestContext, id: string, input: FileUpdate): Promise<ManagedFileRecord> {
    requireOperation(ctx.principal, 'storage.write')
    return toManagedFileRecord(await this.updateOne(ctx, await this.files.settle(ctx, await findFile(this.store, ctx, id)), input))
  }

  /** the same change to several files; ids that are not the client's are left out */
  async updateMany(ctx: RequestContext, ids: string[], input: FileUpdate): Promise<ManagedFileRecord[]> {
    requireOperation(ctx.principal, 'storage.write')
    if (input.storage_key !== undefined || input.file_name !== undefined) {
      throw new AppError('invalid_request', 'storage_key and file_name name one object: change them one file at a time (PATCH /storage/files/{id})')
    }
    const out: ManagedFileRecord[] = []
    for (const file of await this.many(ctx, ids)) {
      if (file.deleted_at === null) out.push(toManagedFileRecord(await this.updateOne(ctx, file, input)))
    }
    return out
  }

  private async updateOne(ctx: RequestContext, file: StoredFile, input: FileUpdate): Promise<StoredFile> {
    if (input.status !== undefined && input.status !== toManagedFileRecord(file).status) {
      throw new AppError('invalid_request', `status is Atrium's to set (file ${file.id} is ${toManagedFileRecord(file).status})`, { hint: 'it becomes uploaded when the bytes arrive; DELETE and POST …/restore change deletion' })
    }
    if (input.size_bytes !== undefined && file.status === 'uploaded' && input.size_bytes !== file.size_bytes) {
      throw new AppError('invalid_request', `size_bytes is measured by Atrium (file ${file.id} has ${file.size_bytes} bytes)`)
    }
    const changes: StoredChanges = {
      name: input.name,
      original_name: input.original_name,
      mime_type: input.mime_type,
      resource_id: input.resource_id,
      metadata: input.metadata,
      visibility: input.visibility ?? (input.public === undefined ? undefined : input.public ? 'public' : 'private'),
      checksum_sha256: normalizeChecksum(input.checksum_sha256),
      size_bytes: file.status === 'pending' ? input.size_bytes : undefined,
    }
    const contentType = input.content_type ?? input.mime_type
    if (contentType !== undefined) {
      const bucket = await this.deps.buckets.resolve({ client: ctx.source.name, s3Id: file.s3_id }, input.bucket ?? file.bucket)
      checkUpload(bucket, { contentType })
      changes.content_type = contentType
    }
    const slash = file.storage_key.lastIndexOf('/')
    const key = input.storage_key ?? (input.file_name === undefined ? file.storage_key : `${file.storage_key.slice(0, slash + 1)}${input.file_name}`)
    if (key !== file.storage_key || (input.bucket !== undefined && input.bucket !== file.bucket)) return this.move(ctx, file, input.bucket ?? file.bucket, key, changes)
    return (await this.store.update(clientOf(ctx), file.id, changes))!
  }

  /** a new key (and maybe bucket) for a file: its bytes are copied there first, and the old ones removed after */
  private async move(ctx: RequestContext, file: StoredFile, bucketName: string, key: string, changes: StoredChanges): Promise<StoredFile> {
    if (file.upload_id !== null) throw uploadInProgress(file)
    const bucket = await this.deps.buckets.resolve({ client: ctx.source.name, s3Id: file.s3_id }, bucketName)
    const from = refOf(file)
    const to = refOf({ bucket_id: bucket.id, storage_key: key })
    const hasBytes = file.status === 'uploaded'
    if (hasBytes) checkUpload(bucket, { size: file.size_bytes ?? undefined, contentType: changes.content_type ?? file.content_type ?? undefined })
    const moved = await this.deps.catalog.transaction(async (tx) => {
      await this.claimKey(tx, bucket.id, bucket.name, key)
      const updated = (await this.store.update(clientOf(ctx), file.id, { ...changes, bucket_id: bucket.id, storage_key: key }, tx))!
      // a failed copy rolls the record back; the old bytes go only once the record points at the new ones
      if (hasBytes) {
        await this.deps.versions.keep(bucket, key)
        await this.deps.objects.copy(from, to)
      }
      return updated
    })
    if (hasBytes) {
      await this.deps.versions.keep(await this.files.bucketOf(ctx, file), file.storage_key)
      await this.deps.objects.delete(from)
    }
    return moved
  }

  /** 409 storage_file_exists when another record holds the key */
  private async claimKey(tx: Executor, bucketId: string, bucketName: string, key: string): Promise<void> {
    const holder = await this.store.getByKey(bucketId, key, tx)
    if (holder) {
      throw new AppError('storage_file_exists', `file ${holder.id} already holds ${JSON.stringify(key)} in bucket ${JSON.stringify(bucketName)}`, { hint: 'pick another storage_key, or delete that file with ?force=true first', data: { file_id: holder.id } })
    }
  }

  /** soft delete (the bytes stay, restorable); `force` purges: record and bytes are gone for good */
  async delete(ctx: RequestContext, id: string, opts: { force?: boolean } = {}): Promise<ManagedFileRecord> {
    requireOperation(ctx.principal, 'storage.write')
    return this.deleteOne(ctx, await findFile(this.store, ctx, id, { deleted: true }), opts.force ?? false)
  }

  async deleteMany(ctx: RequestContext, ids: string[], opts: { force?: boolean } = {}): Promise<ManagedFileRecord[]> {
    requireOperation(ctx.principal, 'storage.write')
    const out: ManagedFileRecord[] = []
    for (const file of await this.many(ctx, ids)) out.push(await this.deleteOne(ctx, file, opts.force ?? false))
    return out
  }

  private async deleteOne(ctx: RequestContext, file: StoredFile, force: boolean): Promise<ManagedFileRecord> {
    if (force) return this.purgeOne(ctx, file)
    // deleting a deleted file again changes nothing
    if (file.deleted_at !== null) return toManagedFileRecord(file)
    return toManagedFileRecord((await this.store.update(clientOf(ctx), file.id, { deleted_at: 'now' }))!)
  }

  async purge(ctx: RequestContext, id: string): Promise<ManagedFileRecord> {
    requireOperation(ctx.principal, 'storage.write')
    return this.purgeOne(ctx, await findFile(this.store, ctx, id, { deleted: true }))
  }

  /** the record is removed first: bytes without a record are harmless, a record without bytes is not */
  private async purgeOne(ctx: RequestContext, file: StoredFile): Promise<ManagedFileRecord> {
    if (!(await this.store.remove(clientOf(ctx), file.id))) throw fileNotFound(file.id)
    if (file.upload_id !== null) await this.deps.objects.abortMultipartUpload(refOf(file), file.upload_id).catch(() => {})
    // a versioned bucket keeps what any delete removes, a purge's too (as S3 keeps a deleted object's versions)
    await this.deps.versions.keep(await this.files.bucketOf(ctx, file), file.storage_key)
    await this.deps.objects.delete(refOf(file))
    return { ...toManagedFileRecord(file), status: 'purged' }
  }

  /** undoes a soft delete; a file whose bytes are gone meanwhile comes back pending, with `force` only */
  async restore(ctx: RequestContext, id: string, opts: { force?: boolean } = {}): Promise<ManagedFileRecord> {
    requireOperation(ctx.principal, 'storage.write')
    const file = await findFile(this.store, ctx, id, { deleted: true })
    if (file.deleted_at === null) return toManagedFileRecord(file)
    const hasBytes = (await this.deps.objects.stat(refOf(file))) !== undefined
    if (file.status === 'uploaded' && !hasBytes && !opts.force) {
      throw new AppError('storage_file_not_uploaded', `the bytes of file ${file.id} are no longer in the store`, { hint: 'restore with force: true to get the record back as pending, then upload the bytes again', data: { file_id: file.id } })
    }
    const status = file.status === 'uploaded' && !hasBytes ? 'pending' : undefined
    const restored = (await this.store.update(clientOf(ctx), file.id, { deleted_at: null, status }))!
    // bytes that arrived through a signed URL before the delete are seen now
    return toManagedFileRecord(await this.files.settle(ctx, restored))
  }

  async setVisibility(ctx: RequestContext, id: string, input: VisibilityInput): Promise<ManagedFileRecord> {
    return this.update(ctx, id, { visibility: visibilityOf(input) })
  }

  /** the same for several files; ids that are not the client's, and deleted files, are left out */
  async setVisibilityMany(ctx: RequestContext, ids: string[], input: VisibilityInput): Promise<ManagedFileRecord[]> {
    requireOperation(ctx.principal, 'storage.write')
    const visibility = visibilityOf(input)
    const out: ManagedFileRecord[] = []
    for (const file of await this.many(ctx, ids)) {
      if (file.deleted_at === null) out.push(toManagedFileRecord((await this.store.update(clientOf(ctx), file.id, { visibility }))!))
    }
    return out
  }

  /** a new file record with a copy of the bytes, at another key (and maybe bucket) */
  async copy(ctx: RequestContext, id: string, input: CopyInput): Promise<ManagedFileRecord> {
    requireOperation(ctx.principal, 'storage.write')
    const file = await this.files.settle(ctx, await findFile(this.store, ctx, id), true)
    const bucket = await this.deps.buckets.resolve({ client: ctx.source.name, s3Id: file.s3_id }, input.bucket ?? file.bucket)
    checkUpload(bucket, { size: file.size_bytes ?? undefined, contentType: file.content_type ?? undefined })
    const to = refOf({ bucket_id: bucket.id, storage_key: input.storage_key })
    const copied = await this.deps.catalog.transaction(async (tx) => {
      await this.claimKey(tx, bucket.id, bucket.name, input.storage_key)
      const made = (await this.store.create({
        client: clientOf(ctx), bucketId: bucket.id, storageKey: input.storage_key,
        name: input.file_name ?? input.storage_key.slice(input.storage_key.lastIndexOf('/') + 1),
        originalName: file.original_name, mimeType: file.mime_type, contentType: file.content_type, sizeBytes: file.size_bytes,
        checksumSha256: file.checksum_sha256, resourceId: file.resource_id, metadata: input.metadata ?? file.metadata,
        visibility: input.visibility ?? file.visibility, createdBy: creatorOf(ctx.principal),
      }, tx))!
      await this.deps.versions.keep(bucket, input.storage_key)
      const info = await this.deps.objects.copy(refOf(file), to)
      return (await this.store.update(clientOf(ctx), made.id, { status: 'uploaded', etag: info.etag, size_bytes: info.size }, tx))!
    })
    return toManagedFileRecord(copied)
  }

  private async many(ctx: RequestContext, ids: string[]): Promise<StoredFile[]> {
    if (ids.length === 0 || ids.length > MAX_MANY) throw new AppError('invalid_request', `file_ids must list 1 to ${MAX_MANY} ids, got ${ids.length}`)
    return this.store.getMany(clientOf(ctx), [...new Set(ids)])
  }
}
