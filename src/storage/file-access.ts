// What every file operation shares: the client a request acts for, finding its file (or 404), who created it,
// and the checks of an object that arrived against the bucket's limits. No framework here.
import { createHash } from 'node:crypto'
import type { Principal } from '../auth/principal.js'
import { AppError } from '../errors/app-error.js'
import type { ObjectInfo, ObjectRef, ObjectStore } from '../objects/object-store.js'
import type { RequestContext } from '../request-context.js'
import type { Executor } from '../sources/driver.js'
import { checkUpload, objectRefOf, type BucketLimits } from './bucket-store.js'
import type { FileStore, StoredFile } from './file-store.js'

/** a file belongs to the client of the request (X-Athena-Client), as its bucket does */
export const clientOf = (ctx: RequestContext): string => ctx.source.name.toLowerCase()

export const fileNotFound = (id: string) =>
  new AppError('storage_file_not_found', `no file ${JSON.stringify(String(id).slice(0, 80))} for this client`, {
    hint: 'POST /storage/files/list lists the files of the client in X-Athena-Client',
  })

export const fileDeleted = (f: StoredFile) =>
  new AppError('storage_file_deleted', `file ${f.id} was deleted at ${f.deleted_at}`, {
    hint: `POST /storage/files/${f.id}/restore brings it back; DELETE /storage/files/${f.id}?force=true removes it for good`,
    data: { file_id: f.id },
  })

export const notUploaded = (f: StoredFile) =>
  new AppError('storage_file_not_uploaded', `file ${f.id} has no bytes yet`, {
    hint: 'PUT the bytes to the upload URL (or PUT /storage/files/{id}/upload, or complete its multipart upload), then try again',
    data: { file_id: f.id },
  })

/** the client's file, or 404; a deleted one only when `deleted` allows it (else 410 storage_file_deleted) */
export async function findFile(store: FileStore, ctx: RequestContext, id: string, opts: { deleted?: boolean; db?: Executor; lock?: boolean } = {}): Promise<StoredFile> {
  const file = await store.get(clientOf(ctx), id, opts.db, { lock: opts.lock })
  if (!file) throw fileNotFound(id)
  if (file.deleted_at !== null && !opts.deleted) throw fileDeleted(file)
  return file
}

/** where a file's bytes are in the object store */
export const refOf = (f: Pick<StoredFile, 'bucket_id' | 'storage_key'>): ObjectRef => objectRefOf({ id: f.bucket_id }, f.storage_key)

/** what `created_by` records: an API key's public id, a session's subject, or the admin key */
export function creatorOf(p: Principal): string | null {
  if (p.kind === 'key') return p.publicId
  if (p.kind === 'user') return p.sub
  if (p.kind === 'admin') return 'admin'
  return null
}

/**
 * Checks an object that has arrived (through a signed URL, an upload or a multipart completion) against its
 * bucket's limits, the one check of bucket-store.ts. Bytes that break them are removed, so an object the
 * bucket would refuse never stays behind a record; the refusal (413 or 415) is thrown.
 */
export async function admitObject(objects: ObjectStore, ref: ObjectRef, info: ObjectInfo, limits: BucketLimits, contentType = info.contentType): Promise<void> {
  try {
    checkUpload(limits, { size: info.size, contentType })
  } catch (err) {
    await objects.delete(ref)
    throw err
  }
}

/** the SHA-256 (hex) of an object's bytes, read through once */
export async function sha256Of(objects: ObjectStore, ref: ObjectRef): Promise<string> {
  const { body } = await objects.get(ref)
  const hash = createHash('sha256')
  for await (const chunk of body) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

const SHA256 = /^[0-9a-f]{64}$/

/** a checksum as the SDK sends it: 64 hex digits (any case); anything else is a 400 */
export function normalizeChecksum(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const hex = value.trim().toLowerCase()
  if (!SHA256.test(hex)) throw new AppError('invalid_request', 'checksum_sha256 must be the SHA-256 of the bytes as 64 hexadecimal digits')
  return hex
}

/** seconds a URL lives: `expires_in` when given (1 s to a week), else an hour */
export function expiresInOf(value: number | undefined, max: number): number {
  if (value === undefined) return 3600
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new AppError('invalid_request', `expires_in must be a whole number of seconds from 1 to ${max}, got ${value}`)
  }
  return value
}
