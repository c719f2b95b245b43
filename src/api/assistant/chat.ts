// GET /api/providers, POST /api/chat, POST /api/execute.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { chat, execute, type AssistantDeps } from '../../assistant/chat.js'
import { userOf } from './access.js'

const MAX_ROWS = Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 }))
const CONNECTION_ID = Type.String({ minLength: 1, maxLength: 63 })

export function chatRoutes(app: FastifyInstance, deps: AssistantDeps): void {
  app.get('/providers', {
    config: { operation: 'assistant.providers' },
    schema: { summary: 'The providers configured on this server', tags: ['assistant'] },
  }, async () => ({ providers: deps.providers.names() }))

  app.post('/chat', {
    config: { operation: 'assistant.chat' },
    schema: {
      summary: 'A question about a connection → validated SQL (and its results with auto_execute)',
      tags: ['assistant'],
      body: Type.Object({
        connection_id: CONNECTION_ID,
        prompt: Type.String({ minLength: 1, maxLength: 4000 }),
        provider: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
        auto_execute: Type.Optional(Type.Boolean()),
        dialect: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
        max_rows: MAX_ROWS,
      }),
    },
  }, async (req) => chat(deps, userOf(req), req.body as never, req.deadlineSignal()))

  app.post('/execute', {
    config: { operation: 'assistant.execute' },
    schema: {
      summary: 'Hand-written SQL on a connection, with the same validation as generated SQL',
      tags: ['assistant'],
      body: Type.Object({ connection_id: CONNECTION_ID, sql: Type.String({ minLength: 1, maxLength: 100_000 }), max_rows: MAX_ROWS }),
    },
  }, async (req) => execute(deps, userOf(req), req.body as never, req.deadlineSignal()))
}
