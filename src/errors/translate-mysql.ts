// Turns mysql2 errors into AppErrors by errno; the only place that knows MySQL/MariaDB error numbers.
import { AppError } from './app-error.js'
import type { ErrorCode } from './codes.js'
import { connectionFailureReason } from './connection-failure.js'
import { stackOverflowAsLimit } from '../query/input-limits.js'
import { sourceUnavailable } from './translate-pg.js'

interface MysqlError extends Error {
  errno?: number
  code?: string
  sqlState?: string
  sqlMessage?: string
  fatal?: boolean
}

const BY_ERRNO: Record<number, ErrorCode> = {
  1062: 'unique_violation', // ER_DUP_ENTRY
  1451: 'foreign_key_violation', // row is referenced
  1452: 'foreign_key_violation', // parent row missing
  1048: 'not_null_violation', // column cannot be null
  1364: 'not_null_violation', // field has no default
  3819: 'check_violation', // MySQL check constraint
  4025: 'check_violation', // MariaDB check constraint
  1054: 'unknown_column',
  1146: 'sql_error', // table doesn't exist
  1064: 'sql_error', // syntax
  1142: 'insufficient_privilege',
  1044: 'insufficient_privilege',
  1792: 'read_only_transaction', // cannot execute statement in a READ ONLY transaction
  1969: 'statement_timeout', // MariaDB max_statement_time exceeded
  3024: 'statement_timeout', // MySQL max_execution_time exceeded
  1366: 'invalid_value', // incorrect value for column
  1292: 'invalid_value', // truncated incorrect value
  1264: 'invalid_value', // out of range
  1406: 'invalid_value', // data too long
  1265: 'invalid_value', // data truncated
}

const UNAVAILABLE_ERRNOS = new Set([1040, 1045, 1049, 1053, 1077, 2002, 2003, 2006, 2013])
// What callers other than the admin key are told: MySQL's own texts name the account and host.
const UNAVAILABLE_REASONS: Record<number, string> = {
  1040: 'the database server has too many connections',
  1045: 'the data source refused the connection (authentication failed)',
  1049: 'the data source refused the connection (its database does not exist)',
  1053: 'the database server is shutting down or restarting',
  1077: 'the database server is shutting down or restarting',
}
// 'user'@'host' in MySQL's messages (access denied, command denied to user …)
const ACCOUNT = /'[^']*'@'[^']*'/g

export function translateMysqlError(err: unknown, source: string): AppError {
  if (err instanceof AppError) return err
  const e = err as MysqlError
  if (typeof e?.errno === 'number' && UNAVAILABLE_ERRNOS.has(e.errno)) {
    return sourceUnavailable(source, UNAVAILABLE_REASONS[e.errno] ?? 'the connection to the database failed', err, undefined, e.sqlMessage ?? e.message)
  }
  const reason = connectionFailureReason(err)
  if (reason || e?.fatal) return sourceUnavailable(source, reason ?? 'connection lost', err, undefined, `${reason ?? 'connection lost'} (${e?.message})`)
  if (typeof e?.errno !== 'number') return stackOverflowAsLimit(err) ?? new AppError('internal_error', 'the database driver failed unexpectedly', { cause: err })
  const code = BY_ERRNO[e.errno] ?? 'sql_error'
  const full = code === 'statement_timeout' ? 'the statement took longer than the configured timeout and was cancelled' : (e.sqlMessage ?? e.message)
  const message = full.replace(ACCOUNT, 'the connecting account')
  return new AppError(code, message, { sqlstate: e.sqlState, data: { errno: e.errno }, cause: err, ...(message !== full ? { adminMessage: full } : {}) })
}
