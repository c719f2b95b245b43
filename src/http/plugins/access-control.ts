// Decides who may call each route, before the body is read: route config `access` + the presented key.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { ADMIN, ANONYMOUS } from '../../auth/principal.js'
import { presentedKey, secretsEqual } from '../../auth/credentials.js'
import { AppError } from '../../errors/app-error.js'
import type { Services } from '../../services.js'
import type { Access } from '../fastify-types.js'

const clientHeader = (req: FastifyRequest) => {
  const v = req.headers['x-athena-client']
  return Array.isArray(v) ? v[0] : v
}

export const accessControl = fp<{ services: Services }>(async (app, { services }) => {
  app.decorateRequest('principal', null as never)
  app.decorateRequest('source', null as never)

  const isAdminKey = (key: string | undefined) => key !== undefined && secretsEqual(key, services.adminKey)

  const requireAdmin = (req: FastifyRequest) => {
    const key = presentedKey(req)
    if (!key) throw new AppError('missing_api_key', 'this route requires the admin key', { hint: 'send it as apikey, Authorization: Bearer, X-API-Key or X-Athena-Key' })
    if (!isAdminKey(key)) throw new AppError('invalid_api_key', 'the presented key is not the admin key')
    req.principal = ADMIN
  }

  app.addHook('onRequest', async (req) => {
    if (req.is404) return
    const access: Access = req.routeOptions.config?.access ?? defaultAccess(req.routeOptions.url)
    if (access === 'public') {
      req.principal = isAdminKey(presentedKey(req)) ? ADMIN : ANONYMOUS
      return
    }
    if (access === 'admin') return requireAdmin(req)
    if (access === 'client') {
      req.source = services.registry.resolve(clientHeader(req))
      req.principal = isAdminKey(presentedKey(req)) ? ADMIN : ANONYMOUS
      return
    }
    const setting = services.config.security.protect[access.protect]
    if (setting === 'public') {
      req.principal = ANONYMOUS
      return
    }
    requireAdmin(req)
  })
})

// Routes that did not declare access (framework routes such as the docs UI assets) are public only
// when they are documentation; anything else needs the admin key.
function defaultAccess(url: string | undefined): Access {
  if (url === '/docs/json' || url === '/docs/yaml') return { protect: 'openapi' }
  if (url?.startsWith('/docs')) return 'public'
  return 'admin'
}
