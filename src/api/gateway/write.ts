// PUT /gateway/insert (insert or upsert) and DELETE /gateway/delete.
import type { FastifyInstance } from 'fastify'
import type { GatewayDeps } from './deps.js'
import { answerCall } from './fetch.js'
import { DeleteBody, GatewayHeaders, InsertBody } from './schemas.js'

export function writeRoutes(app: FastifyInstance, services: GatewayDeps): void {
  app.put('/gateway/insert', {
    config: { operation: 'gateway.insert', access: 'client', forwardsUpstream: true },
    schema: { summary: 'Insert rows (insert_body object or array); with update_body or on_conflict, upsert', tags: ['gateway'], headers: GatewayHeaders, body: InsertBody },
  }, (req, reply) => answerCall(services, req, reply, 'insert', req.body))

  app.delete('/gateway/delete', {
    config: { operation: 'gateway.delete', access: 'client', forwardsUpstream: true },
    schema: { summary: 'Delete rows by resource_id and/or conditions (never without a filter)', tags: ['gateway'], headers: GatewayHeaders, body: DeleteBody },
  }, (req, reply) => answerCall(services, req, reply, 'delete', req.body))
}
