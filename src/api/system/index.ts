// The system family: status, health, metrics, OpenAPI and its UI, router registry, schema introspection and
// signed object URLs. Part of the Athena contract, so it answers in the Athena envelope, and it is the family
// that answers paths no family owns (http/app.ts).
import swaggerUi from '@fastify/swagger-ui'
import type { RouteCatalog } from '../../http/route-catalog.js'
import { installKeyAccess } from '../../http/access-control.js'
import type { Services } from '../../services.js'
import type { Family } from '../family.js'
import { renderAthenaError } from '../gateway/envelope.js'
import { healthRoutes } from './health.js'
import { metricsRoute } from './metrics.js'
import { openapiRoutes } from './openapi.js'
import { rootRoutes } from './root.js'
import { schemaRoutes } from './schema.js'
import { signedObjectRoutes } from './signed-objects.js'

export const systemFamily: Family<Services & { routes: RouteCatalog }> = {
  name: 'system',
  readCredentials: (scope, services) => installKeyAccess(scope, services),
  renderError: renderAthenaError,
  async routes(app, deps) {
    const opts = { services: deps, routes: deps.routes }
    await app.register(rootRoutes, opts)
    await app.register(healthRoutes, opts)
    await app.register(metricsRoute, opts)
    await app.register(openapiRoutes, opts)
    await app.register(schemaRoutes, opts)
    await app.register(signedObjectRoutes, opts)
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { url: '/openapi.json' } as never })
  },
}
