// Gateway request headers: X-Strip-Nulls, X-Publish-Event, Prefer: return=minimal and the tenant headers (X-User-Id, X-Company-Id, X-Organization-Id).
import type { FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import { headerValue } from '../../query/parse/headers.js'

const one = (req: FastifyRequest, name: string) => headerValue(req.headers, name)

export function stripNullsHeader(req: FastifyRequest): boolean | undefined {
  const v = one(req, 'x-strip-nulls')?.trim().toLowerCase()
  if (v === undefined || v === '') return undefined
  if (v === 'true' || v === '1') return true
  if (v === 'false' || v === '0') return false
  throw new AppError('invalid_request', `X-Strip-Nulls must be true or false, got "${v}"`)
}

export function publishEventHeader(req: FastifyRequest): string | undefined {
  const v = one(req, 'x-publish-event')?.trim()
  return v ? v : undefined
}

/** whether `Prefer` names `token` (any position, any case): respond-async, return=minimal */
export function prefers(req: FastifyRequest, token: 'respond-async' | 'return=minimal'): boolean {
  const prefer = one(req, 'prefer')
  return prefer !== undefined && prefer.split(/[,;]/).some((p) => p.trim().toLowerCase() === token)
}

/**
 * The spec marks X-Company-Id and X-Organization-Id as required on writes, but the official SDKs do not
 * send them; they are recorded always and required (on structured writes) only when
 * gateway.requireTenantHeaders is on, which is when the gateway scope calls this.
 */
export function checkTenantHeaders(req: FastifyRequest): void {
  for (const name of ['x-company-id', 'x-organization-id']) {
    if (!one(req, name)?.trim()) {
      throw new AppError('missing_tenant_header', `${name.replace(/(^|-)(\w)/g, (_, d, c) => d + c.toUpperCase())} header is required on this server`, {
        hint: 'this server sets gateway.requireTenantHeaders; send X-Company-Id and X-Organization-Id',
      })
    }
  }
}

export function cacheBypassed(req: FastifyRequest): boolean {
  return /no-cache|no-store/i.test(one(req, 'cache-control') ?? '')
}
