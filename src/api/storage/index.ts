// The storage family (/storage/*): buckets and objects of each client on a storage connection (s3_id), in the
// shapes the athena-js 5 storage module sends and reads; API keys or sessions like the gateway; the Athena envelope.
import { installKeyAccess } from '../../http/access-control.js'
import type { Family } from '../family.js'
import { renderAthenaError } from '../gateway/envelope.js'
import { bucketRoutes } from './buckets.js'
import { catalogRoutes } from './catalogs.js'
import type { StorageDeps } from './deps.js'
import { fileByteRoutes } from './file-bytes.js'
import { fileLinkRoutes } from './file-links.js'
import { fileRoutes } from './files.js'
import { folderRoutes } from './folders.js'
import { multipartRoutes } from './multipart.js'
import { objectRoutes } from './objects.js'
import { publicObjectRoutes } from './public-objects.js'

export const storageFamily: Family<StorageDeps> = {
  name: 'storage',
  prefix: '/storage',
  // a bucket belongs to the request's client: X-Athena-Client, or the client the API key is bound to
  readCredentials: (scope, services) => installKeyAccess(scope, services, { clientFromKey: true }),
  renderError: renderAthenaError,
  async routes(app, services) {
    catalogRoutes(app, services)
    bucketRoutes(app, services.storage.bucketService)
    objectRoutes(app, services.storage)
    publicObjectRoutes(app, services.storage)
    fileRoutes(app, services)
    fileLinkRoutes(app, services)
    folderRoutes(app, services)
    multipartRoutes(app, services)
    await fileByteRoutes(app, services)
  },
}
