// The Assistant API's credential reader: a session token (Authorization: Bearer <jwt>, e.g. a Supabase access
// token) on every route of the family. The user is the token's `sub`; what a user may reach is their own.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { UserPrincipal } from '../../auth/principal.js'
import { AppError } from '../../errors/app-error.js'
import { presentedSessionToken } from '../../http/credentials.js'
import type { AssistantApiDeps } from './deps.js'

export function installSessionAccess(app: FastifyInstance, deps: Pick<AssistantApiDeps, 'sessions' | 'rateLimits'>): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return
    try {
      // bad tokens count against their address too
      await deps.rateLimits.checkAddress(req.ip)
      const token = presentedSessionToken(req)
      if (!token || !deps.sessions.enabled) {
        throw new AppError('missing_session_token', deps.sessions.enabled ? 'a session token is required' : 'session tokens are not configured on this server', {
          hint: deps.sessions.enabled ? 'send Authorization: Bearer <access token> (a Supabase access token works)' : 'set sessions.jwtSecret (ATRIUM_JWT_SECRET) or sessions.jwksUrl',
        })
      }
      req.principal = await deps.sessions.authenticate(token)
      // the per-user limit (rateLimits.perKey): each chat may cost a provider call
      await deps.rateLimits.checkCaller(req.principal, undefined)
    } catch (err) {
      // the body of a refused request is never read: close the connection after the answer
      reply.header('connection', 'close')
      throw err
    }
  })
}

/** the signed-in user (set by the credential reader) */
export const userOf = (req: FastifyRequest): UserPrincipal => req.principal as UserPrincipal
