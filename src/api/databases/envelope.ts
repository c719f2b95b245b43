// The Polykomos wire shapes: {data, request_id} on success, lists with has_more, and errors
// {error: {code, message, details}, request_id}; validation errors are 422 and name the field.
import type { FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import type { ErrorReply } from '../family.js'

export function ok<T>(req: FastifyRequest, data: T, extra: Record<string, unknown> = {}) {
  return { ...extra, data, request_id: req.id }
}

export function renderPolykomosError(err: AppError, req: FastifyRequest): ErrorReply {
  const error = err
  const { hint, data, detail } = error.extra
  const details: Record<string, unknown> = { ...(data ?? {}) }
  if (hint) details.hint = hint
  if (detail) details.detail = detail
  return { status: error.status, body: { error: { code: error.code, message: error.message, details }, request_id: req.id } }
}

interface SchemaError {
  instancePath?: string
  keyword?: string
  message?: string
  params?: Record<string, unknown>
}

/**
 * Ajv's first error as a 422 naming the field: `missing_required_field` for an absent one, else
 * `validation_failed`. Installed as the scope's schema error formatter, so it never reaches another family.
 */
export function validationError(errors: SchemaError[], dataVar: string): Error {
  const e = errors[0] ?? {}
  const path = (e.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.')
  const missing = e.params?.missingProperty as string | undefined
  const extra = e.params?.additionalProperty as string | undefined
  const field = [path, missing ?? extra].filter(Boolean).join('.') || dataVar
  const where = dataVar === 'body' ? '' : ` (${dataVar === 'querystring' ? 'query string' : dataVar})`
  if (missing) return new AppError('missing_required_field', `Missing required field: ${field}${where}`, { data: { field } })
  if (extra) return new AppError('validation_failed', `Unknown field: ${field}${where}`, { data: { field } })
  const allowed = e.params?.allowedValues as unknown[] | undefined
  const message = allowed ? `must be one of ${allowed.join(', ')}` : (e.message ?? 'is invalid')
  return new AppError('validation_failed', `${field}${where} ${message}`, { data: { field, rule: e.keyword } })
}
