// The Workspace wire shapes, FastAPI's: errors are {"detail": "<message>"}, validation errors are 422
// {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}, lists take skip/limit.
import type { FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import type { ErrorReply } from '../family.js'

interface SchemaError {
  instancePath?: string
  keyword?: string
  message?: string
  params?: Record<string, unknown>
}

/** a 422 carries where (loc) and what (msg, type); anything else is {detail: message} */
export function renderWorkspaceError(err: AppError, _req: FastifyRequest): ErrorReply {
  const loc = err.extra.data?.loc
  if (err.status === 422 || (err.code === 'validation_failed' && Array.isArray(loc))) {
    return { status: 422, body: { detail: [{ loc: Array.isArray(loc) ? loc : ['body'], msg: err.message, type: err.code }] } }
  }
  return { status: err.status, body: { detail: err.message } }
}

const LOCATION: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' }

/** Ajv's first error as FastAPI's 422: loc is [where, ...field path] */
export function workspaceValidationError(errors: SchemaError[], dataVar: string): Error {
  const e = errors[0] ?? {}
  const path = (e.instancePath ?? '').split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p))
  const missing = e.params?.missingProperty as string | undefined
  const extra = e.params?.additionalProperty as string | undefined
  const loc = [LOCATION[dataVar] ?? dataVar, ...path, ...(missing ? [missing] : extra ? [extra] : [])]
  const allowed = e.params?.allowedValues as unknown[] | undefined
  const msg = missing ? 'Field required' : extra ? 'Extra inputs are not permitted'
    : allowed ? `Input should be ${allowed.map((v) => `'${String(v)}'`).join(' or ')}` : (e.message ?? 'Input is invalid')
  return new AppError(missing ? 'missing_required_field' : 'validation_failed', msg, { data: { loc } })
}
