// Where a structured gateway request goes: the client's registered source, or (X-Athena-Client: custom_supabase,
// which access control leaves without a source) the PostgREST upstream named by the request's headers.
import type { FastifyRequest } from 'fastify'
import type { DataTarget } from '../../data/data-target.js'
import { trimmedHeader } from '../../query/parse/headers.js'
import { CUSTOM_SUPABASE } from '../../upstream/postgrest-upstream.js'

const LOCAL: DataTarget = Object.freeze({ kind: 'source' })

export function targetOf(req: FastifyRequest): DataTarget {
  if (!req.source) {
    if (trimmedHeader(req.headers, 'x-athena-client') === CUSTOM_SUPABASE) return { kind: 'upstream', headers: req.headers }
  }
  return LOCAL
}
