// System routes: status, health, metrics, OpenAPI, router registry, schema introspection and signed object URLs.
import type { FastifyPluginAsync } from 'fastify'
import type { RouteCatalog } from '../../http/route-catalog.js'
import type { Services } from '../../services.js'
import { healthRoutes } from './health.js'
import { metricsRoute } from './metrics.js'
import { openapiRoutes } from './openapi.js'
import { rootRoutes } from './root.js'
import { schemaRoutes } from './schema.js'
import { signedObjectRoutes } from './signed-objects.js'

export const systemRoutes: FastifyPluginAsync<{ services: Services; routes: RouteCatalog }> = async (app, opts) => {
  await app.register(rootRoutes, opts)
  await app.register(healthRoutes, opts)
  await app.register(metricsRoute, opts)
  await app.register(openapiRoutes, opts)
  await app.register(schemaRoutes, opts)
  await app.register(signedObjectRoutes, opts)
}
