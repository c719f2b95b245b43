// One API family is one encapsulated Fastify scope: its credential reader, its error and 404 renderers, and its
// routes. Nothing a family installs reaches another family; the root keeps only what every request shares
// (request id, timing, metrics, deadlines, body parsing, CORS). Adding a family is a folder under api/ with an
// index.ts that exports a `Family`, and one line in http/app.ts.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors/app-error.js'
import { normalizeError } from '../http/normalize-error.js'
import { ADMISSION_KINDS } from '../monitoring/admission-log.js'

export interface ErrorReply {
  status: number
  body: unknown
}

export interface Family<D> {
  /** the family's name in docs and logs */
  name: string
  /**
   * The path prefix the family owns (its routes are declared relative to it); its 404 renderer answers for
   * every unknown path under it. Unknown paths outside every prefix are the root family's (system).
   */
  prefix?: string
  /** installs the family's credential reader on its scope (an onRequest hook that sets req.principal) */
  readCredentials(scope: FastifyInstance, deps: D): void
  /** the family's wire shape for an error; required, so no family can answer in another's shape */
  renderError(err: AppError, req: FastifyRequest): ErrorReply
  /** registers the family's routes on its scope */
  routes(scope: FastifyInstance, deps: D): Promise<void>
}

/** the answer to a path no route of the family matches */
export const routeNotFound = (req: FastifyRequest) =>
  new AppError('route_not_found', `no route ${req.method} ${req.url.split('?')[0]}`, {
    hint: 'GET /router/registry (or GET / with the admin key or a schema.read key) lists every route',
  })

/** sends an error (anything thrown) in the family's shape, with Retry-After when the error carries one */
export function sendFamilyError<D>(family: Family<D>, err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const appError = normalizeError(err, req.log)
  // request accounting records it (off the request path) when the request ends
  if (ADMISSION_KINDS.has(appError.code)) req.refusal = appError
  if (appError.extra.retryAfter) reply.header('retry-after', String(appError.extra.retryAfter))
  const { status, body } = family.renderError(appError, req)
  reply.status(status).send(body)
}

/** registers the family as an encapsulated scope (under its prefix, if it owns one) of `app` */
export async function mountFamily<D>(app: FastifyInstance, family: Family<D>, deps: D): Promise<void> {
  const scope: FastifyPluginAsync = async (scope) => {
    scope.setErrorHandler((err, req, reply) => sendFamilyError(family, err, req, reply))
    if (family.prefix) scope.setNotFoundHandler((req, reply) => sendFamilyError(family, routeNotFound(req), req, reply))
    family.readCredentials(scope, deps)
    await family.routes(scope, deps)
  }
  await app.register(scope, { prefix: family.prefix })
}
