// The storage capability, built once in boot.ts: the bucket store and the services the /storage family calls.
import type { ObjectStore } from '../objects/object-store.js'
import type { Executor } from '../sources/driver.js'
import { BucketService } from './bucket-service.js'
import type { BucketStore } from './bucket-store.js'
import { deriveListTokenKey } from './list-token.js'
import { FolderService } from './object-folders.js'
import { ObjectService } from './object-service.js'
import { ObjectVersions } from './object-versions.js'

export interface StorageCapabilityDeps {
  catalog: Executor
  objects: ObjectStore
  buckets: BucketStore
  /** the base URL of public object URLs (objects.publicBaseUrl, or where this server listens) */
  publicBaseUrl: () => string
  /** objects.maxUploadBytes */
  maxUploadBytes: number
  /** the server's secret key; the key of list continuation tokens is derived from it */
  secretKey: Buffer
}

export class Storage {
  readonly versions: ObjectVersions
  readonly bucketService: BucketService
  readonly objectService: ObjectService
  readonly folderService: FolderService

  constructor(deps: StorageCapabilityDeps) {
    this.versions = new ObjectVersions(deps.catalog, deps.objects)
    const parts = { buckets: deps.buckets, objects: deps.objects, versions: this.versions }
    this.bucketService = new BucketService(parts)
    this.objectService = new ObjectService({ ...parts, publicBaseUrl: deps.publicBaseUrl, maxUploadBytes: deps.maxUploadBytes, listTokenKey: deriveListTokenKey(deps.secretKey) })
    this.folderService = new FolderService(parts)
  }
}
