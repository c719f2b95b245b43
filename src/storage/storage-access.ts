// Who may do what in storage: the right of the operation (storage.read or storage.write) and the bucket scope
// of a request (its client and s3_id). Every storage service starts here, so no operation skips the check.
import { requireOperation } from '../auth/operation-rights.js'
import type { RequestContext } from '../request-context.js'
import type { Bucket, BucketScope, BucketStore } from './bucket-store.js'
import { requireStorageCatalog } from './storage-catalogs.js'

export type StorageOperation = 'storage.read' | 'storage.write'

/**
 * The scope of a request: the client it is about (X-Athena-Client, resolved by the family's key access) and the
 * storage connection. Throws 403 missing_right without the operation's right, 404 for an unknown s3_id.
 */
export function storageScope(ctx: RequestContext, s3Id: unknown, operation: StorageOperation): BucketScope {
  requireOperation(ctx.principal, operation)
  requireStorageCatalog(s3Id)
  return { client: ctx.source.name, s3Id }
}

/**
 * The bucket a request names, after the right and the scope: client + s3_id + name → the bucket with its
 * options (public, versioning, file_size_limit, allowed_mime_types, …), or 404 bucket_not_found.
 */
export function resolveBucket(buckets: BucketStore, ctx: RequestContext, ref: { s3Id: unknown; bucket: unknown }, operation: StorageOperation): Promise<Bucket> {
  return buckets.resolve(storageScope(ctx, ref.s3Id, operation), ref.bucket)
}
