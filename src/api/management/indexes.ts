// /management/indexes*: create and drop indexes on the selected client.
import type { FastifyInstance } from 'fastify'
import { createIndex, dropIndex, type CreateIndexInput } from '../../management/index-operations.js'
import type { ManagementDeps } from '../../management/run-managed-change.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { ChangeReply, CreateIndexBody, DropIndexBody, IndexParams, ManagementHeaders } from './schemas.js'
import { contextOf } from '../../http/request-context.js'
import { bodyDefaultsToObject } from './tables.js'

export function indexRoutes(app: FastifyInstance, services: ManagementDeps): void {
  app.post('/management/indexes', {
    config: { operation: 'management.indexes.create', access: 'client' },
    schema: { summary: 'Create an index', tags: ['management'], headers: ManagementHeaders, body: CreateIndexBody, response: { 201: ChangeReply } },
  }, async (req, reply) => {
    const body = req.body as CreateIndexInput
    req.logContext.table = body.table_name
    const result = await createIndex(services, contextOf(req), body)
    return reply.status(201).send(gatewaySuccess(result.message, result.data))
  })

  app.delete('/management/indexes/:index_name', {
    config: { operation: 'management.indexes.drop', access: 'client' },
    preValidation: bodyDefaultsToObject,
    schema: { summary: 'Drop an index', tags: ['management'], headers: ManagementHeaders, params: IndexParams, body: DropIndexBody, response: { 200: ChangeReply } },
  }, async (req) => {
    const result = await dropIndex(services, contextOf(req), (req.params as { index_name: string }).index_name, req.body as { schema_name?: string })
    return gatewaySuccess(result.message, result.data)
  })
}
