// Folders of managed files (/storage/folders/*): a folder is a key prefix ending in "/" among the client's file
// records. List, tree, delete and move act on file records (and move their bytes), one file at a time through
// the same changes a single file gets. Framework-free; rights are checked here.
import { requireOperation } from '../auth/operation-rights.js'
import { AppError } from '../errors/app-error.js'
import { validateListPrefix } from '../objects/object-store.js'
import type { RequestContext } from '../request-context.js'
import { clientOf } from './file-access.js'
import type { StorageFileChanges } from './file-changes.js'
import { toManagedFileRecord, type ManagedFileRecord } from './file-record.js'
import type { StorageFiles, StorageFilesDeps } from './files-service.js'
import { requireStorageCatalog } from './storage-catalogs.js'

export interface FolderInput {
  s3_id: string
  prefix?: string
  bucket?: string
}

export interface FolderTree {
  name: string
  prefix: string
  /** files directly in this folder */
  file_count: number
  folders: FolderTree[]
}

/** a folder operation touches at most this many files; more is a 400 that asks for a narrower prefix */
const MAX_FOLDER_FILES = 10_000
const MAX_LISTED = 1000

/** "" (the root) or a prefix ending in "/", checked like an object key's start */
function folderPrefix(prefix: string | undefined): string {
  const p = prefix ?? ''
  validateListPrefix(p)
  return p === '' || p.endsWith('/') ? p : `${p}/`
}

export class StorageFileFolders {
  constructor(private readonly deps: StorageFilesDeps, private readonly files: StorageFiles, private readonly changes: StorageFileChanges) {}

  async list(ctx: RequestContext, input: FolderInput): Promise<{ s3_id: string; prefix: string; folders: string[]; files: ManagedFileRecord[] }> {
    requireOperation(ctx.principal, 'storage.read')
    const { prefix, bucketId } = await this.scope(ctx, input)
    const found = await this.files.store.folder(clientOf(ctx), input.s3_id, prefix, bucketId, MAX_LISTED)
    return { s3_id: input.s3_id, prefix, folders: found.folders, files: found.files.map(toManagedFileRecord) }
  }

  /** every folder under the prefix, nested, with the number of files directly in each */
  async tree(ctx: RequestContext, input: FolderInput): Promise<{ s3_id: string; prefix: string; file_count: number; truncated: boolean; tree: FolderTree }> {
    requireOperation(ctx.principal, 'storage.read')
    const { prefix, bucketId } = await this.scope(ctx, input)
    const keys = await this.files.store.keysUnder(clientOf(ctx), input.s3_id, prefix, bucketId, MAX_FOLDER_FILES + 1)
    const root: FolderTree = { name: prefix.split('/').at(-2) ?? '', prefix, file_count: 0, folders: [] }
    for (const { storage_key: key } of keys.slice(0, MAX_FOLDER_FILES)) {
      let node = root
      const segments = key.slice(prefix.length).split('/')
      for (const segment of segments.slice(0, -1)) {
        let child = node.folders.find((f) => f.name === segment)
        if (!child) node.folders.push(child = { name: segment, prefix: `${node.prefix}${segment}/`, file_count: 0, folders: [] })
        node = child
      }
      node.file_count++
    }
    return { s3_id: input.s3_id, prefix, file_count: Math.min(keys.length, MAX_FOLDER_FILES), truncated: keys.length > MAX_FOLDER_FILES, tree: root }
  }

  /** deletes (soft; purges with `force`) every live file under the prefix */
  async delete(ctx: RequestContext, input: FolderInput & { force?: boolean }): Promise<{ s3_id: string; prefix: string; processed_files: number }> {
    requireOperation(ctx.principal, 'storage.write')
    const { prefix, files } = await this.filesUnder(ctx, input, 'prefix')
    let processed = 0
    for (let i = 0; i < files.length; i += 1000) processed += (await this.changes.deleteMany(ctx, files.slice(i, i + 1000).map((f) => f.id), { force: input.force })).length
    return { s3_id: input.s3_id, prefix, processed_files: processed }
  }

  /** gives every live file under from_prefix the key to_prefix + the rest of its key (bytes move with it) */
  async move(ctx: RequestContext, input: { s3_id: string; from_prefix: string; to_prefix: string; bucket?: string }): Promise<{ s3_id: string; prefix: string; from_prefix: string; processed_files: number }> {
    requireOperation(ctx.principal, 'storage.write')
    const to = folderPrefix(input.to_prefix)
    const { prefix: from, files } = await this.filesUnder(ctx, { ...input, prefix: input.from_prefix }, 'from_prefix')
    if (to === from) throw new AppError('invalid_request', 'from_prefix and to_prefix are the same folder')
    let processed = 0
    for (const f of files) {
      await this.changes.update(ctx, f.id, { storage_key: `${to}${f.storage_key.slice(from.length)}` })
      processed++
    }
    return { s3_id: input.s3_id, prefix: to, from_prefix: from, processed_files: processed }
  }

  private async scope(ctx: RequestContext, input: FolderInput): Promise<{ prefix: string; bucketId: string | undefined }> {
    requireStorageCatalog(input.s3_id)
    const prefix = folderPrefix(input.prefix)
    const bucket = input.bucket === undefined ? undefined : await this.deps.buckets.resolve({ client: ctx.source.name, s3Id: input.s3_id }, input.bucket)
    return { prefix, bucketId: bucket?.id }
  }

  /** the files a delete or move touches: a folder (never the root), and not more than MAX_FOLDER_FILES */
  private async filesUnder(ctx: RequestContext, input: FolderInput, field: string) {
    const { prefix, bucketId } = await this.scope(ctx, input)
    if (prefix === '') throw new AppError('invalid_request', `${field} must name a folder; it cannot be empty (the root)`)
    const files = await this.files.store.keysUnder(clientOf(ctx), input.s3_id, prefix, bucketId, MAX_FOLDER_FILES + 1)
    if (files.length > MAX_FOLDER_FILES) throw new AppError('invalid_request', `more than ${MAX_FOLDER_FILES} files are under ${JSON.stringify(prefix)}`, { hint: 'act on narrower folders, one at a time' })
    return { prefix, files }
  }
}
