// The Athena gateway surface: structured CRUD, raw SQL, counts and RPC, in the gateway envelope.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Services } from '../../services.js'
import { countRoute } from './count.js'
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

export const gatewayRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  // gateway.requireTenantHeaders is checked here, for every structured write (local or forwarded to
  // custom_supabase), after the body is parsed and before any handler runs, so no write route can skip it
  if (services.config.gateway.requireTenantHeaders) {
    app.addHook('preHandler', async (req) => { if (isStructuredWrite(req)) checkTenantHeaders(req) })
  }
  fetchRoutes(app, services)
  writeRoutes(app, services)
  sqlRoutes(app, services)
  countRoute(app, services)
  rpcRoutes(app, services)
}
