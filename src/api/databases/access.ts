// The Databases API's credential reader: a platform key (Authorization: Bearer pk_live_…) on every route of
// the family, then the key's requests_per_minute and the scope the route declares (config.scope).
import type { FastifyInstance } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import { presentedKey } from '../../http/credentials.js'
import type { DatabasesApiDeps } from './deps.js'

const KEY_HINT = 'send Authorization: Bearer pk_live_… (POST /admin/platform-keys creates one)'

export function installPlatformKeyAccess(app: FastifyInstance, deps: DatabasesApiDeps): void {
  app.decorateRequest('platformKey', null)
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return
    try {
      const key = presentedKey(req)
      if (!key) throw new AppError('missing_api_key', 'an API key is required', { hint: KEY_HINT })
      // bad keys count against their address too, so keys cannot be guessed faster than its limit
      await deps.rateLimits.checkAddress(req.ip)
      const context = await deps.platformKeys.authenticate(key, req.ip)
      req.platformKey = context
      req.principal = context.principal
      await deps.rateLimits.checkPlatformKey(context.principal.publicId, context.requestsPerMinute)
      const scope = req.routeOptions.config?.scope
      if (scope && !context.principal.scopes.has(scope)) {
        throw new AppError('missing_scope', `this API key lacks the "${scope}" scope`, { data: { required_scope: scope }, hint: 'create a key with that scope' })
      }
    } catch (err) {
      // the body of a refused request is never read: close the connection after the answer
      reply.header('connection', 'close')
      throw err
    }
  })
}
