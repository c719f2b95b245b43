// The Athena gateway surface: structured CRUD, raw SQL, counts and RPC, in the gateway envelope.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../../services.js'
import { countRoute } from './count.js'
import { fetchRoutes } from './fetch.js'
import { rpcRoutes } from './rpc.js'
import { sqlRoutes } from './sql.js'
import { writeRoutes } from './write.js'

export const gatewayRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  fetchRoutes(app, services)
  writeRoutes(app, services)
  sqlRoutes(app, services)
  countRoute(app, services)
  rpcRoutes(app, services)
}
