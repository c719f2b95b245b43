// GET /storage/catalogs: the storage connections (s3_id values) this server has, in the SDK's raw { data } shape.
import type { FastifyInstance } from 'fastify'
import { contextOf } from '../../http/request-context.js'
import { listStorageCatalogs } from '../../storage/storage-catalogs.js'
import type { StorageDeps } from './deps.js'

export function catalogRoutes(app: FastifyInstance, services: StorageDeps): void {
  app.get('/catalogs', {
    config: { operation: 'storage.catalogs.list', access: 'client' },
    schema: { summary: 'List the storage connections (s3_id values) of this server', tags: ['storage'] },
  }, async (req) => ({ data: listStorageCatalogs(contextOf(req), services.objects, services.config) }))
}
