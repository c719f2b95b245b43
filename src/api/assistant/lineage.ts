// POST /api/lineage: what a statement reads and writes, from the dialect's parser; nothing runs.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { lineageOf } from '../../assistant/lineage.js'

export function lineageRoutes(app: FastifyInstance): void {
  app.post('/lineage', {
    config: { operation: 'assistant.lineage' },
    schema: {
      summary: 'The tables and columns a statement reads and writes',
      tags: ['assistant'],
      body: Type.Object({ sql: Type.String({ minLength: 1, maxLength: 100_000 }), dialect: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })) }),
    },
  }, async (req) => {
    const { sql, dialect } = req.body as { sql: string; dialect?: string }
    return lineageOf(sql, dialect ?? 'postgresql')
  })
}
