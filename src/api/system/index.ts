// The system family: status, health, metrics, OpenAPI and its UI, the web console's files, router registry, schema introspection and
// signed object URLs. Part of the Athena contract, so it answers in the Athena envelope, and it is the family
// that answers paths no family owns (http/app.ts).
import type { RouteCatalog } from '../../http/route-catalog.js'
import { installKeyAccess } from '../../http/access-control.js'
import type { AccessDeps } from '../../http/access-control.js'
import type { ConsoleDeps } from './console.js'
import type { HealthDeps } from './health.js'
import type { MetricsDeps } from './metrics.js'
import type { OpenapiDeps } from './openapi.js'
import type { RootDeps } from './root.js'
import type { SchemaRouteDeps } from './schema.js'
import type { SignedObjectDeps } from './signed-objects.js'
import type { Family } from '../family.js'
import { renderAthenaError } from '../gateway/envelope.js'
import { consoleRoutes } from './console.js'
import { docsUiRoutes } from './docs-ui.js'
import { healthRoutes } from './health.js'
import { metricsRoute } from './metrics.js'
import { openapiRoutes } from './openapi.js'
import { rootRoutes } from './root.js'
import { schemaRoutes } from './schema.js'
import { signedObjectRoutes } from './signed-objects.js'

/** what the system routes need */
export type SystemDeps = AccessDeps & ConsoleDeps & HealthDeps & MetricsDeps & OpenapiDeps & RootDeps & SchemaRouteDeps & SignedObjectDeps & { routes: RouteCatalog }

export const systemFamily: Family<SystemDeps> = {
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
    await app.register(docsUiRoutes, opts)
    await app.register(async (scope) => consoleRoutes(scope, deps))
  },
}
