// The Athena gateway's wire envelope: {status, message, data} on success, {status, code, message, error, data} on error.
import type { AppError } from '../../errors/app-error.js'

export function gatewaySuccess<T>(message: string, data: T, extra: Record<string, unknown> = {}) {
  return { status: 'success' as const, message, data, ...extra }
}

export function renderGatewayError(err: AppError, operation?: string) {
  const { detail, hint, data } = err.extra
  return {
    status: 'error' as const,
    code: err.code,
    message: err.message,
    // clients (the Athena SDK among them) show `error` first, so it always carries the main message
    error: detail ?? err.message,
    ...(hint ? { hint } : {}),
    data: { ...(operation ? { operation } : {}), ...(data ?? {}) },
  }
}
