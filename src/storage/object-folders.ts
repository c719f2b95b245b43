// Folders of /storage/objects/folder*: a folder is a key prefix ending in "/". An empty folder exists through
// a placeholder object (FOLDER_PLACEHOLDER) that listings never show; delete and rename act on every key under
// the prefix, page by page. No framework here.
import { AppError } from '../errors/app-error.js'
import { validateListPrefix, validateObjectKey, type ObjectStore } from '../objects/object-store.js'
import type { RequestContext } from '../request-context.js'
import { objectRefOf, storeBucketOf, type Bucket, type BucketStore } from './bucket-store.js'
import type { ObjectVersions } from './object-versions.js'
import { resolveBucket } from './storage-access.js'

export const FOLDER_PLACEHOLDER = '.folder'

export interface FolderDeps {
  buckets: BucketStore
  objects: ObjectStore
  versions: ObjectVersions
}

/** "a/b" or "a/b/" → "a/b/": a valid key prefix of at least one segment */
export function normalizeFolder(prefix: unknown): string {
  if (typeof prefix !== 'string') throw new AppError('invalid_object_key', 'prefix must be a folder path such as "photos/2024/"')
  const trimmed = prefix.replace(/\/+$/, '')
  validateObjectKey(trimmed)
  return `${trimmed}/`
}

export class FolderService {
  constructor(private readonly deps: FolderDeps) {}

  async create(ctx: RequestContext, target: { s3Id: unknown; bucket: unknown }, prefix: unknown) {
    const bucket = await resolveBucket(this.deps.buckets, ctx, target, 'storage.write')
    const folder = normalizeFolder(prefix)
    await this.deps.objects.put(objectRefOf(bucket, folder + FOLDER_PLACEHOLDER), Buffer.alloc(0), { contentType: 'application/x-directory' })
    return { bucket: bucket.name, prefix: folder, created: true }
  }

  /** deletes every key under the folder (a versioned bucket keeps each as a version) */
  async delete(ctx: RequestContext, target: { s3Id: unknown; bucket: unknown }, prefix: unknown) {
    const bucket = await resolveBucket(this.deps.buckets, ctx, target, 'storage.write')
    const folder = normalizeFolder(prefix)
    let processed = 0
    await this.eachPage(bucket, folder, async (keys) => {
      // the placeholder holds no content: nothing to keep of it
      for (const key of keys) if (!key.endsWith(`/${FOLDER_PLACEHOLDER}`)) await this.deps.versions.keep(bucket, key)
      const out = await this.deps.objects.deleteMany(storeBucketOf(bucket), keys)
      if (out.errors.length) throw new AppError('object_store_error', `could not delete ${out.errors[0]!.key}: ${out.errors[0]!.message}`)
      processed += out.deleted.length
    })
    return { bucket: bucket.name, prefix: folder, processed_objects: processed }
  }

  /** moves every key under from_prefix to to_prefix (copy, then delete), refusing to move a folder into itself */
  async rename(ctx: RequestContext, target: { s3Id: unknown; bucket: unknown }, fromPrefix: unknown, toPrefix: unknown) {
    const bucket = await resolveBucket(this.deps.buckets, ctx, target, 'storage.write')
    const from = normalizeFolder(fromPrefix)
    const to = normalizeFolder(toPrefix)
    if (to.startsWith(from) || from.startsWith(to)) throw new AppError('invalid_request', `cannot move ${JSON.stringify(from)} to ${JSON.stringify(to)}: one contains the other`)
    let processed = 0
    await this.eachPage(bucket, from, async (keys) => {
      for (const key of keys) {
        const dest = to + key.slice(from.length)
        if (!key.endsWith(`/${FOLDER_PLACEHOLDER}`)) await this.deps.versions.keep(bucket, dest)
        await this.deps.objects.copy(objectRefOf(bucket, key), objectRefOf(bucket, dest))
      }
      await this.deps.objects.deleteMany(storeBucketOf(bucket), keys)
      processed += keys.length
    })
    return { bucket: bucket.name, from_prefix: from, to_prefix: to, processed_objects: processed }
  }

  /**
   * Hands the keys under `prefix` to `fn` a page at a time. `fn` removes the keys it is given, so each page is
   * read from the start again; the loop ends when nothing is left (bounded: each round removes ≥1 key).
   */
  private async eachPage(bucket: Bucket, prefix: string, fn: (keys: string[]) => Promise<void>): Promise<void> {
    validateListPrefix(prefix)
    for (;;) {
      const page = await this.deps.objects.list({ bucket: storeBucketOf(bucket), prefix, maxKeys: 1000 })
      if (page.objects.length === 0) return
      await fn(page.objects.map((o) => o.key))
    }
  }
}
