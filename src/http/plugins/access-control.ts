// Decides who may call each route, before the body is read: the route's `access`, the presented key,
// the client's key enforcement, and the rate limits.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { createHash, timingSafeEqual } from 'node:crypto'
import { parseKey } from '../../auth/api-key-format.js'
import { presentedKey } from '../../auth/credentials.js'
import { ADMIN, ANONYMOUS, requireRight, type Principal } from '../../auth/principal.js'
import { AppError } from '../../errors/app-error.js'
import type { Services } from '../../services.js'
import { CUSTOM_SUPABASE } from '../../upstream/postgrest-upstream.js'
import type { Access } from '../fastify-types.js'

const clientHeader = (req: FastifyRequest) => {
  const v = req.headers['x-athena-client']
  return (Array.isArray(v) ? v[0] : v)?.trim() || undefined
}

const KEY_HINT = 'send a key as apikey, Authorization: Bearer, X-API-Key or X-Athena-Key'

export const accessControl = fp<{ services: Services }>(async (app, { services }) => {
  app.decorateRequest('principal', null as never)
  app.decorateRequest('source', null as never)
  const { auth, rateLimits } = services
  // hashed once: each request hashes only the presented key, then compares digests in constant time
  const adminDigest = createHash('sha256').update(services.adminKey).digest()
  const isAdminKey = (key: string) => timingSafeEqual(createHash('sha256').update(key).digest(), adminDigest)

  /** the principal of a key-protected request; `enforced` says whether having no key is acceptable */
  const principalFor = async (req: FastifyRequest, client: string | undefined, enforced: boolean): Promise<Principal> => {
    const key = presentedKey(req)
    if (!key) {
      if (enforced) throw new AppError('missing_api_key', 'an API key is required', { hint: KEY_HINT })
      return ANONYMOUS
    }
    if (isAdminKey(key)) return ADMIN
    return auth.authenticate(key, { client, ip: req.ip })
  }

  app.addHook('onRequest', async (req) => {
    if (req.is404) return
    const access: Access = req.routeOptions.config?.access ?? defaultAccess(req.routeOptions.url)
    if (access === 'public') {
      const key = presentedKey(req)
      req.principal = key && isAdminKey(key) ? ADMIN : ANONYMOUS
      return
    }
    if (access === 'admin') {
      const key = presentedKey(req)
      if (!key) throw new AppError('missing_api_key', 'this route needs the admin key', { hint: KEY_HINT })
      if (!isAdminKey(key)) {
        if (parseKey(key)) throw new AppError('admin_key_required', 'this route needs the static admin key; API keys cannot call it')
        throw new AppError('invalid_api_key', 'the presented key is not the admin key')
      }
      req.principal = ADMIN
      return
    }
    if (access === 'client') {
      // plain PostgREST clients (and Supabase-style upstream calls) send no X-Athena-Client; rest.defaultClient serves them
      const client = clientHeader(req) ?? (req.routeOptions.url?.startsWith('/rest/v1/') ? services.config.rest.defaultClient : undefined)
      // custom_supabase forwards to an upstream chosen by headers; it has no source of its own
      if (client !== CUSTOM_SUPABASE) req.source = services.registry.resolve(client)
      const name = req.source?.name ?? CUSTOM_SUPABASE
      req.principal = await principalFor(req, name, auth.enforced(name))
      await rateLimits.checkInbound(req.principal, name, req.ip)
      return
    }
    if (access === 'client-in-body') {
      // the client is only known once the body is read; everything that does not depend on it is checked now
      const key = presentedKey(req)
      if (key) req.principal = isAdminKey(key) ? ADMIN : await auth.authenticate(key, { ip: req.ip })
      else if (!auth.mayBeUnenforced()) throw new AppError('missing_api_key', 'an API key is required', { hint: KEY_HINT })
      return
    }
    if (services.config.security.protect[access.protect] === 'public') {
      const key = presentedKey(req)
      req.principal = key && isAdminKey(key) ? ADMIN : ANONYMOUS
      return
    }
    // protected metadata: the admin key, or an API key holding schema.read
    req.principal = await principalFor(req, clientHeader(req), true)
    requireRight(req.principal, 'schema.read', 'read this metadata')
    await rateLimits.checkInbound(req.principal, undefined, req.ip)
  })
})

/** completes an 'client-in-body' check once the route has read the client's name from the body */
export async function authorizeBodyClient(services: Services, req: FastifyRequest, client: string): Promise<void> {
  req.source = services.registry.resolve(client)
  const key = presentedKey(req)
  if (req.principal?.kind !== 'admin') {
    if (key) req.principal = await services.auth.authenticate(key, { client: req.source.name, ip: req.ip })
    else if (services.auth.enforced(req.source.name)) throw new AppError('missing_api_key', 'an API key is required', { hint: KEY_HINT })
    else req.principal = ANONYMOUS
  }
  await services.rateLimits.checkInbound(req.principal, req.source.name, req.ip)
}

// Routes that did not declare access (framework routes such as the docs UI assets) are public only
// when they are documentation; anything else needs the admin key.
function defaultAccess(url: string | undefined): Access {
  if (url === '/docs/json' || url === '/docs/yaml') return { protect: 'openapi' }
  if (url?.startsWith('/docs')) return 'public'
  return 'admin'
}
