// What the storage family's routes need, passed in from boot.ts through http/app.ts.
import type { Config } from '../../config/schema.js'
import type { AccessDeps } from '../../http/access-control.js'
import type { ObjectStore } from '../../objects/object-store.js'
import type { BucketStore } from '../../storage/bucket-store.js'
import type { FileServices } from '../../storage/file-services.js'
import type { Storage } from '../../storage/storage.js'

/** key access, the object store, the bucket store, the storage services and the file record services */
export type StorageDeps = AccessDeps & { config: Config; objects: ObjectStore; buckets: BucketStore; storage: Storage; storageFiles: FileServices }
