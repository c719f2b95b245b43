// Pieces every /rest/v1 route shares: the target relation (with Accept-/Content-Profile schemas) and headers.
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RelationRef } from '../../query/ast.js'
import type { Preferences } from './prefer.js'

export const TableParams = Type.Object({ table: Type.String({ minLength: 1, maxLength: 200 }) })
export const RestHeaders = Type.Object({
  'x-athena-client': Type.Optional(Type.String({ description: 'the client (data source)' })),
  prefer: Type.Optional(Type.String({ description: 'return=…, count=…, resolution=…, missing=…, handling=…' })),
  range: Type.Optional(Type.String({ description: 'items=from-to' })),
  'accept-profile': Type.Optional(Type.String({ description: 'schema for reads' })),
  'content-profile': Type.Optional(Type.String({ description: 'schema for writes' })),
})

/** the table of the path, in the schema named by Accept-Profile (reads) or Content-Profile (writes) */
export function relationOf(req: FastifyRequest, table: string): RelationRef {
  const header = req.method === 'GET' || req.method === 'HEAD' ? req.headers['accept-profile'] : req.headers['content-profile']
  const schema = typeof header === 'string' && header.trim() ? header.trim() : undefined
  // supabase-js always names `public`; a MySQL client has one database, which is what it means there
  if (!schema || (schema === 'public' && req.source?.dialect === 'mysql')) return { name: table }
  return { schema, name: table }
}

export function applyPreferences(reply: FastifyReply, prefs: Preferences): void {
  if (prefs.applied.length) reply.header('preference-applied', prefs.applied.join(', '))
}
