// Picks the object store backend from the configuration: S3 when objects.s3.bucket (S3_BUCKET) is set, else files.
import { join } from 'node:path'
import type { Config } from '../config/schema.js'
import { FilesystemObjectStore } from './filesystem-store.js'
import type { ObjectStore } from './object-store.js'
import { S3ObjectStore } from './s3-store.js'
import { deriveSigningKey } from './signed-token.js'

export interface ObjectStoreDeps {
  /** the resolved data directory; the filesystem store lives in its objects/ folder */
  dataDir: string
  /** the server secret (key material); the signing key of signed URLs is derived from it */
  secret: Buffer | string
  /** where this server is reachable, once it listens; objects.publicBaseUrl wins when set */
  listenUrl: () => string
}

export async function createObjectStore(config: Config, deps: ObjectStoreDeps): Promise<ObjectStore> {
  const { s3, publicBaseUrl } = config.objects
  if (s3.bucket) {
    return new S3ObjectStore({
      bucket: s3.bucket,
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: s3.forcePathStyle,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    })
  }
  return FilesystemObjectStore.open({
    root: join(deps.dataDir, 'objects'),
    signingKey: deriveSigningKey(deps.secret),
    publicBaseUrl: () => publicBaseUrl ?? deps.listenUrl(),
  })
}
