// Turns anything thrown inside a request (AppError, Fastify framework errors, bugs) into one AppError.
import type { FastifyBaseLogger } from 'fastify'
import { AppError } from '../errors/app-error.js'
import { stackOverflowAsLimit } from '../query/input-limits.js'

interface FrameworkError extends Error {
  code?: string
  statusCode?: number
  validation?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>
  validationContext?: string
}

export function normalizeError(err: unknown, log: FastifyBaseLogger): AppError {
  if (err instanceof AppError) {
    if (err.status >= 500 && err.code !== 'source_unavailable' && err.code !== 'catalog_unavailable') log.error({ err: err.cause ?? err }, err.message)
    return err
  }
  const e = err as FrameworkError
  if (e?.validation) {
    const v = e.validation[0]
    const where = `${e.validationContext ?? 'body'}${v?.instancePath ? v.instancePath.replaceAll('/', '.') : ''}`
    const extra = v?.params?.additionalProperty ? ` "${v.params.additionalProperty}"` : v?.params?.missingProperty ? ` "${v.params.missingProperty}"` : ''
    return new AppError('invalid_request', `${where} ${v?.message ?? 'is invalid'}${extra}`)
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_json', e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'the request body is empty but Content-Type is application/json' : 'the request body is not valid JSON')
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('body_too_large', 'the request body is larger than the configured limit (server.bodyLimitBytes)')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'unsupported Content-Type; send application/json')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_request', 'Content-Length does not match the body')
  }
  if (err instanceof SyntaxError) return new AppError('invalid_json', 'the request body is not valid JSON')
  const tooDeep = stackOverflowAsLimit(err)
  if (tooDeep) return tooDeep
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError('invalid_request', e.message || 'bad request')
  }
  log.error({ err }, 'unhandled error')
  return new AppError('internal_error', 'internal server error', { cause: err })
}
