// Where a structured gateway request goes: the client's registered source, or (X-Athena-Client: custom_supabase,
// which access control leaves without a source) the PostgREST upstream named by the request's headers.
import type { FastifyRequest } from 'fastify'
import type { DataTarget, TargetWriteContext } from '../../data/data-target.js'
import type { Services } from '../../services.js'
import { CUSTOM_SUPABASE } from '../../upstream/postgrest-upstream.js'
import { publishEventHeader } from './headers.js'

export function targetOf(req: FastifyRequest): DataTarget {
  if (!req.source) {
    const header = req.headers['x-athena-client']
    if ((Array.isArray(header) ? header[0] : header)?.trim() === CUSTOM_SUPABASE) return { kind: 'upstream', headers: req.headers }
  }
  return { kind: 'source', source: req.source }
}

export const targetWriteContext = (services: Services, req: FastifyRequest): TargetWriteContext => ({
  services, target: targetOf(req), principal: req.principal, requestId: req.id, publishEvent: publishEventHeader(req),
})
