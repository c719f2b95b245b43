// The gateway family (Athena protocol): structured CRUD, raw SQL, counts and RPC under /gateway, deferred calls,
// published routes under /public (no key), the admin catalog under /admin and management DDL under /management;
// API keys or sessions; the Athena envelope.
import type { FastifyRequest } from 'fastify'
import { adminCatalogRoutes } from '../admin/catalog.js'
import type { Family } from '../family.js'
import type { GatewayDeps } from './deps.js'
import { installKeyAccess } from '../../http/access-control.js'
import { managementRoutes } from '../management/index.js'
import { renderAthenaError } from './envelope.js'
import { countRoute } from './count.js'
import { deferIfAsked, deferredRoutes } from './deferred.js'
import { publicCallRoutes } from './public-call.js'
import { fetchRoutes } from './fetch.js'
import { checkTenantHeaders } from './headers.js'
import { rpcRoutes } from './rpc.js'
import { sqlRoutes } from './sql.js'
import { writeRoutes } from './write.js'

/** structured writes: insert, delete, and POST /gateway/update once its body carries update_body (else it is a read) */
function isStructuredWrite(req: FastifyRequest): boolean {
  const operation = req.routeOptions.config?.operation
  if (operation === 'gateway.insert' || operation === 'gateway.delete') return true
  return operation === 'gateway.update' && (req.body as { update_body?: unknown } | undefined)?.update_body !== undefined
}

export const gatewayFamily: Family<GatewayDeps> = {
  name: 'gateway',
  readCredentials: (scope, services) => installKeyAccess(scope, services),
  renderError: renderAthenaError,
  async routes(app, services) {
    // gateway.requireTenantHeaders is checked here, for every structured write (local or forwarded to
    // custom_supabase), after the body is parsed and before any handler runs, so no write route can skip it
    if (services.config.gateway.requireTenantHeaders) {
      app.addHook('preHandler', async (req) => { if (isStructuredWrite(req)) checkTenantHeaders(req) })
    }
    // after the checks above: a deferred call is queued instead of run (Prefer: respond-async)
    app.addHook('preHandler', (req, reply, done) => deferIfAsked(services, req, reply, done))
    fetchRoutes(app, services)
    writeRoutes(app, services)
    sqlRoutes(app, services)
    countRoute(app, services)
    rpcRoutes(app, services)
    deferredRoutes(app, services)
    publicCallRoutes(app, services)
    await app.register(adminCatalogRoutes, { services })
    await app.register(managementRoutes, { services })
  },
}
