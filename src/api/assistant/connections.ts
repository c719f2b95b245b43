// POST /api/connections, GET and DELETE /api/connections/{connection_id}: the caller's own connections.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AssistantDeps } from '../../assistant/chat.js'
import { createConnection, describeConnection, removeConnection } from '../../assistant/connections.js'
import { userOf } from './access.js'

const PARAMS = Type.Object({ connection_id: Type.String({ minLength: 1, maxLength: 63 }) })

export function connectionRoutes(app: FastifyInstance, deps: AssistantDeps): void {
  app.post('/connections', {
    config: { operation: 'assistant.connections.create' },
    schema: {
      summary: 'Create a connection to a PostgreSQL or MySQL database',
      tags: ['assistant'],
      body: Type.Object({
        provider: Type.String({ minLength: 1, maxLength: 32 }),
        name: Type.String({ minLength: 1, maxLength: 63 }),
        allow_writes: Type.Optional(Type.Boolean()),
        config: Type.Object({
          host: Type.String({ minLength: 1, maxLength: 253 }),
          port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
          database: Type.String({ minLength: 1, maxLength: 512 }),
          user: Type.String({ minLength: 1, maxLength: 512 }),
          password: Type.Optional(Type.String({ maxLength: 512 })),
        }, { additionalProperties: false }),
      }, { additionalProperties: false }),
    },
  }, async (req, reply) => {
    reply.status(201)
    return createConnection(deps, userOf(req).sub, req.body as never)
  })

  app.get('/connections/:connection_id', {
    config: { operation: 'assistant.connections.get' },
    schema: { summary: 'A connection with its live status', tags: ['assistant'], params: PARAMS },
  }, async (req) => describeConnection(deps, userOf(req), (req.params as { connection_id: string }).connection_id))

  app.delete('/connections/:connection_id', {
    config: { operation: 'assistant.connections.delete' },
    schema: { summary: 'Delete a connection', tags: ['assistant'], params: PARAMS },
  }, async (req) => removeConnection(deps, userOf(req).sub, (req.params as { connection_id: string }).connection_id))
}
