// Pieces every /rest/v1 route shares: path and header schemas, and Preference-Applied.
import { Type } from '@sinclair/typebox'
import type { FastifyReply } from 'fastify'

export const TableParams = Type.Object({ table: Type.String({ minLength: 1, maxLength: 200 }) })
export const RestHeaders = Type.Object({
  'x-athena-client': Type.Optional(Type.String({ description: 'the client (data source)' })),
  prefer: Type.Optional(Type.String({ description: 'return=…, count=…, resolution=…, missing=…, handling=…' })),
  range: Type.Optional(Type.String({ description: 'items=from-to' })),
  'accept-profile': Type.Optional(Type.String({ description: 'schema for reads' })),
  'content-profile': Type.Optional(Type.String({ description: 'schema for writes' })),
})

/** the preferences the request's Prefer asked for and Atrium applied */
export function applyPreferences(reply: FastifyReply, applied: readonly string[]): void {
  if (applied.length) reply.header('preference-applied', applied.join(', '))
}
