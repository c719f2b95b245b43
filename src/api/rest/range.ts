// Ranges for /rest/v1: the Range header (items=0-24), limit/offset, rest.maxRows, and Content-Range.
import type { FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'

export interface Window {
  offset: number
  limit?: number
  /** the caller asked for a range (header or parameters), which makes 206/416 possible */
  explicit: boolean
}

/** combines the Range header with limit/offset parameters (the parameters win where both are given) */
export function requestWindow(req: FastifyRequest, query: { limit?: number; offset?: number }, maxRows?: number): Window {
  let offset = query.offset ?? 0
  let limit = query.limit
  let explicit = query.limit !== undefined || query.offset !== undefined
  const header = req.headers.range
  if (typeof header === 'string' && header.trim()) {
    const unit = req.headers['range-unit']
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

/** `0-24/*`, `0-24/100`, or `*\/0` for an empty page */
export function contentRange(offset: number, rows: number, total: number | undefined): string {
  const size = total === undefined ? '*' : String(total)
  return rows > 0 ? `${offset}-${offset + rows - 1}/${size}` : `*/${size}`
}

/**
 * 206 when a count shows the page holds less than everything; 416 when the requested start lies past the
 * end (or, without a count, when a range starting beyond the first row came back empty).
 */
export function pageStatus(window: Window, rows: number, total: number | undefined): 200 | 206 | 416 {
  if (window.explicit && window.offset > 0 && rows === 0 && (total === undefined || window.offset >= total)) return 416
  if (total !== undefined && rows < total && (window.offset > 0 || rows > 0 || window.limit === 0)) return 206
  return 200
}
