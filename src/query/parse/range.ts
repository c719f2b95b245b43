// The rows a PostgREST request asks for: the Range header (items=0-24), limit/offset and the server's
// rest.maxRows, combined into one window. Framework-free; Content-Range and 206/416 are the surface's job.
import { AppError } from '../../errors/app-error.js'

export interface Window {
  offset: number
  limit?: number
  /** the caller asked for a range (header or parameters), which makes 206/416 possible */
  explicit: boolean
}

export interface RangeHeaders {
  range?: string | string[]
  'range-unit'?: string | string[]
}

/**
 * Combines the Range header with limit/offset parameters (the parameters win where both are given).
 *   requestWindow({ range: 'items=10-19' }, { limit: 5 }) → { offset: 10, limit: 5, explicit: true }
 */
export function requestWindow(headers: RangeHeaders, query: { limit?: number; offset?: number }, maxRows?: number): Window {
  let offset = query.offset ?? 0
  let limit = query.limit
  let explicit = query.limit !== undefined || query.offset !== undefined
  const header = headers.range
  if (typeof header === 'string' && header.trim()) {
    const unit = headers['range-unit']
    if (unit !== undefined && unit !== 'items') throw new AppError('invalid_range', `Range-Unit "${unit}" is not supported; use items`)
    const m = /^(?:items=)?\s*(\d+)-(\d*)\s*$/.exec(header.trim())
    if (!m) throw new AppError('invalid_range', `Range "${header}" is not of the form items=from-to`)
    const from = Number(m[1])
    const to = m[2] === '' ? undefined : Number(m[2])
    if (to !== undefined && to < from) throw new AppError('invalid_range', `Range "${header}" ends before it starts`)
    if (query.offset === undefined) offset = from
    if (to !== undefined) limit = Math.min(limit ?? Infinity, to - from + 1)
    explicit = true
  }
  if (maxRows !== undefined) limit = Math.min(limit ?? maxRows, maxRows)
  return { offset, limit, explicit }
}
