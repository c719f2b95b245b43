// The MCP family's credential reader: every request to /mcp presents a credential, checked before any MCP work
// (none or a bad one is a 401): the admin key, an API key, a session JWT (the gateway's sessions, which Workspace
// users also sign in with) or a platform key. This only decides who is calling; what each tool may do is decided
// again by the route it calls, with the same credential (api/mcp/endpoint.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { adminKeyMatcher, authenticateCredential, type Credential } from '../../http/access-control.js'
import { presentedKey, presentedSessionToken } from '../../http/credentials.js'
import { AppError } from '../../errors/app-error.js'
import type { McpDeps } from './deps.js'

const KEY_HINT = 'send a key as apikey, Authorization: Bearer or X-API-Key (an API key, the admin key, a session JWT or a platform key pk_live_…)'

const isPlatformKey = (key: string) => key.startsWith('pk_live_')

/** the credential a request to /mcp presents, as the routes its tools call will read it */
export function credentialOf(deps: McpDeps, req: FastifyRequest): Credential | undefined {
  const key = presentedKey(req)
  const session = deps.sessions.enabled ? presentedSessionToken(req) : undefined
  return key || session ? { key, session } : undefined
}

export function installMcpAccess(app: FastifyInstance, deps: McpDeps): void {
  const isAdminKey = adminKeyMatcher(deps.adminKey)
  app.decorateRequest('platformKey', null)
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return
    try {
      const cred = credentialOf(deps, req)
      if (!cred) throw new AppError('missing_api_key', 'an API key is required', { hint: KEY_HINT })
      if (cred.key && !cred.session && isPlatformKey(cred.key)) {
        await deps.rateLimits.checkAddress(req.ip)
        const context = await deps.platformKeys.authenticate(cred.key, req.ip)
        req.platformKey = context
        req.principal = context.principal
        return
      }
      // the admin key, an API key (its IP policy, expiry, revocation) or a session; counts against the address
      req.principal = await authenticateCredential(deps, isAdminKey, cred, req.ip)
    } catch (err) {
      // the body of a refused request is never read: close the connection after the answer
      reply.header('connection', 'close')
      throw err
    }
  })
}
