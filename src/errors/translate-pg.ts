// Turns node-postgres errors into AppErrors by SQLSTATE class; the only place that knows pg's error shapes.
import { AppError } from './app-error.js'
import type { ErrorCode } from './codes.js'
import { connectionFailureReason } from './connection-failure.js'
import { stackOverflowAsLimit } from '../query/input-limits.js'

interface PgDatabaseError extends Error {
  code?: string
  detail?: string
  hint?: string
  position?: string
  column?: string
  table?: string
  constraint?: string
}

const BY_SQLSTATE: Record<string, ErrorCode> = {
  '23505': 'unique_violation',
  '23P01': 'unique_violation',
  '23503': 'foreign_key_violation',
  '23502': 'not_null_violation',
  '23514': 'check_violation',
  '42703': 'unknown_column',
  '42501': 'insufficient_privilege',
  '25006': 'read_only_transaction',
  '57014': 'statement_timeout',
}

// Classes that mean "the database cannot serve us right now", not "your request is wrong".
const UNAVAILABLE_CLASSES = ['08', '53', '57P0', '3D', '28']
// What callers other than the admin key are told for each class: nothing that names a role, host or database.
const UNAVAILABLE_REASONS: Array<[sqlstateClass: string, reason: string]> = [
  ['28', 'the data source refused the connection (authentication failed)'],
  ['3D', 'the data source refused the connection (its database does not exist)'],
  ['53', 'the database server is out of resources'],
  ['57P0', 'the database server is shutting down or restarting'],
  ['08', 'the connection to the database failed'],
]

export function translatePgError(err: unknown, source: string): AppError {
  if (err instanceof AppError) return err
  const e = err as PgDatabaseError
  const sqlstate = typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined
  if (!sqlstate) {
    const reason = connectionFailureReason(err)
    // the driver's own text ("connect ECONNREFUSED 10.0.0.5:5432") names the host: administrators only
    if (reason) return sourceUnavailable(source, reason, err, undefined, `${reason} (${(err as Error).message})`)
    return stackOverflowAsLimit(err) ?? new AppError('internal_error', 'the database driver failed unexpectedly', { cause: err })
  }
  if (UNAVAILABLE_CLASSES.some((c) => sqlstate.startsWith(c)) && sqlstate !== '57014') {
    // the server's text names the role and database ("password authentication failed for user …")
    return sourceUnavailable(source, UNAVAILABLE_REASONS.find(([c]) => sqlstate.startsWith(c))![1], err, sqlstate, e.message)
  }
  const code: ErrorCode = BY_SQLSTATE[sqlstate] ?? (sqlstate.startsWith('22') ? 'invalid_value' : sqlstate.startsWith('XX') ? 'internal_error' : 'sql_error')
  const message = code === 'statement_timeout' ? 'the statement took longer than the configured timeout and was cancelled' : e.message
  return new AppError(code, message, {
    sqlstate,
    detail: e.detail,
    hint: e.hint,
    data: { ...(e.constraint ? { constraint: e.constraint } : {}), ...(e.position ? { position: Number(e.position) } : {}) },
    cause: err,
  })
}

/** `reason` is safe for every caller; `adminReason`, when given, is what the static admin key sees instead */
export function sourceUnavailable(source: string, reason: string, cause?: unknown, sqlstate?: string, adminReason?: string): AppError {
  return new AppError('source_unavailable', `data source "${source}" is unavailable: ${reason}`, {
    ...(adminReason ? { adminMessage: `data source "${source}" is unavailable: ${adminReason}` } : {}),
    hint: 'check that the database is running and reachable; Atrium reconnects on its own once it is back',
    retryAfter: 5,
    sqlstate,
    cause,
  })
}
