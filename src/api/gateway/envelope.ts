// The Athena gateway's wire envelope: {status, message, data} on success, {status, code, message, error, data} on error.
import type { FastifyRequest } from 'fastify'
import { messageFor, type AppError } from '../../errors/app-error.js'
import type { ErrorReply } from '../family.js'

export function gatewaySuccess<T>(message: string, data: T, extra: Record<string, unknown> = {}) {
  return { status: 'success' as const, message, data, ...extra }
}

/** `isAdmin`: the caller holds the static admin key, the only one shown database role and host names */
export function renderGatewayError(err: AppError, operation?: string, isAdmin = false) {
  const { detail, hint, data } = err.extra
  const message = messageFor(err, isAdmin)
  return {
    status: 'error' as const,
    code: err.code,
    message,
    // clients (the Athena SDK among them) show `error` first, so it always carries the main message
    error: detail ?? message,
    ...(hint ? { hint } : {}),
    data: { ...(operation ? { operation } : {}), ...(data ?? {}) },
  }
}

/** the Athena families' (gateway, system) error reply; the route's operation id goes in `data.operation` */
export function renderAthenaError(err: AppError, req: FastifyRequest): ErrorReply {
  return { status: err.status, body: renderGatewayError(err, req.routeOptions.config?.operation, req.principal?.kind === 'admin') }
}
