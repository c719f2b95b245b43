// X-Athena-Client: custom_supabase — the gateway routes forward to a PostgREST upstream named by headers.
import type { FastifyRequest } from 'fastify'
import { requireRight } from '../../auth/principal.js'
import type { Services } from '../../services.js'
import { CUSTOM_SUPABASE, upstreamFrom, type Upstream } from '../../upstream/postgrest-upstream.js'

/** the upstream for this request when it targets custom_supabase (after the right check), else undefined */
export function upstreamFor(services: Services, req: FastifyRequest, right: string, purpose: string): Upstream | undefined {
  if (req.source) return undefined
  const header = req.headers['x-athena-client']
  if ((Array.isArray(header) ? header[0] : header)?.trim() !== CUSTOM_SUPABASE) return undefined
  requireRight(req.principal, right, purpose)
  return upstreamFrom(req.headers, {
    allowedHosts: services.config.gateway.upstreamAllowedHosts,
    timeoutMs: services.config.gateway.upstreamTimeoutMs,
    acquire: (host) => services.rateLimits.acquireOutbound(host),
  })
}
