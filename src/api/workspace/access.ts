// The Workspace API's credential reader: the admin key (as Authorization: Bearer or apikey) acts as the platform
// administrator, inside the tenant X-Tenant-Id names; otherwise a session JWT (Authorization: Bearer) whose
// Workspace user (found by sub, else e-mail, or created from a pending invitation) is live.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import { adminKeyMatcher } from '../../http/access-control.js'
import { presentedKey, presentedSessionToken } from '../../http/credentials.js'
import { trimmedHeader } from '../../query/parse/headers.js'
import type { WorkspaceActor } from '../../tenancy/roles.js'
import type { WorkspaceDeps } from './deps.js'

const TOKEN_HINT = 'send Authorization: Bearer <session JWT>'

export function installWorkspaceAccess(app: FastifyInstance, deps: WorkspaceDeps): void {
  const isAdminKey = adminKeyMatcher(deps.adminKey)
  app.decorateRequest('workspace', null)
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404 || req.routeOptions.config?.access === 'public') return
    try {
      const key = presentedKey(req)
      if (!key) throw new AppError('authentication_required', 'Not authenticated', { hint: TOKEN_HINT })
      // bad credentials count against their address too, so they cannot be guessed faster than its limit
      await deps.rateLimits.checkAddress(req.ip)
      if (isAdminKey(key)) {
        req.workspace = { kind: 'platform-admin', tenantId: await namedTenant(req, deps) }
        req.principal = { kind: 'admin' }
        return
      }
      const token = presentedSessionToken(req)
      if (!token || !deps.sessions.enabled) {
        throw new AppError('invalid_session_token', deps.sessions.enabled ? 'the credential is not a session token' : 'this server verifies no session tokens (no JWT secret or JWKS is configured)', { hint: TOKEN_HINT })
      }
      const principal = await deps.sessions.authenticate(token)
      const user = await deps.tenancy.userOfSession(principal)
      req.principal = principal
      req.workspace = { kind: 'user', tenantId: user.tenant_id, userId: user.id, role: user.role }
    } catch (err) {
      // the body of a refused request is never read: close the connection after the answer
      reply.header('connection', 'close')
      throw err
    }
  })
}

/** the live tenant X-Tenant-Id names for the platform administrator, or null without the header */
async function namedTenant(req: FastifyRequest, deps: WorkspaceDeps): Promise<string | null> {
  const id = trimmedHeader(req.headers, 'x-tenant-id')
  if (!id) return null
  return (await deps.tenancy.getTenant(id)).id
}

/** the caller tied to one tenant: a user's own, or the administrator's X-Tenant-Id (400 without it) */
export function actorOf(req: FastifyRequest): WorkspaceActor {
  const caller = req.workspace!
  if (caller.kind === 'user') return caller
  if (!caller.tenantId) {
    throw new AppError('missing_tenant_header', 'the admin key acts inside one tenant: send X-Tenant-Id: <tenant id>', { hint: 'GET /api/v1/tenants lists them' })
  }
  return { kind: 'platform-admin', tenantId: caller.tenantId }
}

/** 403 unless the caller is the platform administrator (the admin key) */
export function requirePlatformAdmin(req: FastifyRequest): void {
  if (req.workspace?.kind !== 'platform-admin') {
    throw new AppError('admin_key_required', 'only the platform administrator (the admin key) may do this')
  }
}
