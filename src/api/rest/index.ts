// The PostgREST-compatible /rest/v1 surface with PostgREST's error shape.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../../services.js'

export const restRoutes: FastifyPluginAsync<{ services: Services }> = async () => {}
