// The PostgREST-compatible /rest/v1 surface, with PostgREST's error shape {"code","details","hint","message"}.
import type { FastifyPluginAsync } from 'fastify'
import type { AppError } from '../../errors/app-error.js'
import { AppError as Err, messageFor } from '../../errors/app-error.js'
import { normalizeError } from '../../http/normalize-error.js'
import type { Services } from '../../services.js'
import { readRoute } from './read.js'
import { rpcRoutes } from './rpc.js'
import { writeRoutes } from './write.js'

/** `isAdmin`: the caller holds the static admin key, the only one shown database role and host names */
export function renderRestError(err: AppError, isAdmin = false) {
  return {
    code: err.extra.sqlstate ?? err.spec.pgrst ?? 'PGRST000',
    details: err.extra.detail ?? null,
    hint: err.extra.hint ?? null,
    message: messageFor(err, isAdmin),
  }
}

export const restRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  app.setErrorHandler((err, req, reply) => {
    const e = normalizeError(err, req.log)
    if (e.extra.retryAfter) reply.header('retry-after', String(e.extra.retryAfter))
    reply.status(e.spec.restStatus ?? e.status).send(renderRestError(e, req.principal?.kind === 'admin'))
  })
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(renderRestError(new Err('route_not_found', `no route ${req.method} ${req.url.split('?')[0]}`)))
  })
  readRoute(app, services)
  writeRoutes(app, services)
  rpcRoutes(app, services)
}
