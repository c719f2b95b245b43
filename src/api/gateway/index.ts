// The Athena gateway surface: structured CRUD, raw SQL and RPC routes in the gateway envelope.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../../services.js'

export const gatewayRoutes: FastifyPluginAsync<{ services: Services }> = async () => {}
