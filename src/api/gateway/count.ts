// POST /query/count: the number of rows matching Athena conditions.
import type { FastifyInstance } from 'fastify'
import type { GatewayDeps } from './deps.js'
import { answerCall } from './fetch.js'
import { FetchBody, GatewayHeaders } from './schemas.js'

export function countRoute(app: FastifyInstance, services: GatewayDeps): void {
  app.post('/query/count', {
    config: { operation: 'query.count', access: 'client' },
    schema: { summary: 'Count the rows matching conditions', tags: ['gateway'], headers: GatewayHeaders, body: FetchBody },
  }, (req, reply) => answerCall(services, req, reply, 'count', req.body))
}
