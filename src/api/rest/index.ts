// The /rest/v1 family (PostgREST protocol): reads, writes and RPC with PostgREST's error shape
// {"code","details","hint","message"} and codes (postgrest-codes.ts); a request without X-Athena-Client is about
// rest.defaultClient.
import type { FastifyRequest } from 'fastify'
import { messageFor, type AppError } from '../../errors/app-error.js'
import { installKeyAccess } from '../../http/access-control.js'
import type { ErrorReply, Family } from '../family.js'
import type { RestDeps } from './deps.js'
import { postgrestCodeOf } from './postgrest-codes.js'
import { readRoute } from './read.js'
import { rpcRoutes } from './rpc.js'
import { writeRoutes } from './write.js'

/** `isAdmin`: the caller holds the static admin key, the only one shown database role and host names */
export function renderRestError(err: AppError, isAdmin = false) {
  return {
    code: err.extra.sqlstate ?? postgrestCodeOf(err.code).code,
    details: err.extra.detail ?? null,
    hint: err.extra.hint ?? null,
    message: messageFor(err, isAdmin),
  }
}

/** PostgREST's status where it differs from Atrium's (a missing table is its 404, an ambiguous embed its 300) */
const renderPostgrestError = (err: AppError, req: FastifyRequest): ErrorReply =>
  ({ status: postgrestCodeOf(err.code).status ?? err.status, body: renderRestError(err, req.principal?.kind === 'admin') })

export const restFamily: Family<RestDeps> = {
  name: 'rest',
  prefix: '/rest/v1',
  readCredentials: (scope, services) =>
    installKeyAccess(scope, services, { defaultClient: services.config.rest.defaultClient }),
  renderError: renderPostgrestError,
  async routes(app, services) {
    readRoute(app, services)
    writeRoutes(app, services)
    rpcRoutes(app, services)
  },
}
