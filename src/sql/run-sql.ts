// Runs classified raw SQL on a source: all statements in one transaction (read-only when asked, one round
// trip on PostgreSQL), results as JSON.
import { AppError } from '../errors/app-error.js'
import type { Source } from '../sources/source.js'
import type { ClassifiedSql } from './classify.js'

export interface SqlRunResult {
  /** JSON array text: rows of the last statement that returned rows */
  data: string
  returned: number
  affected: number
  statementCount: number
}

export async function runSql(source: Source, sql: ClassifiedSql, opts: { readOnly: boolean; signal?: AbortSignal }): Promise<SqlRunResult> {
  if (sql.statements.length === 0) throw new AppError('invalid_request', 'the query holds no SQL statement')
  if (sql.statements.some((s) => s.isTransactionControl)) {
    throw new AppError('invalid_request', 'transaction control (BEGIN, COMMIT, ROLLBACK…) is not allowed: the statements already run in one transaction')
  }
  const isPostgres = source.dialect === 'postgres'
  // PostgreSQL renders a plain SELECT's rows itself, so numbers and timestamps keep to_json's types exactly;
  // the newline keeps a trailing -- comment from swallowing the closing parenthesis
  const texts = sql.statements.map((stmt) => (isPostgres && stmt.isPlainSelect
    ? `SELECT coalesce(json_agg(_q), '[]')::text AS body, count(*)::int AS n FROM (${stmt.sql}\n) _q`
    : stmt.sql))
  const results = await source.driver.script(opts.readOnly ? 'read only' : 'read write', texts, { typed: true, signal: opts.signal })
  let data = '[]'
  let returned = 0
  let affected = 0
  sql.statements.forEach((stmt, i) => {
    const res = results[i]
    if (isPostgres && stmt.isPlainSelect) {
      const { body, n } = res.rows[0] as { body: string; n: number }
      data = body
      returned = n
      return
    }
    if (res.columns.length > 0) {
      data = JSON.stringify(res.rows)
      returned = res.rows.length
    }
    if (stmt.class === 'write' || res.columns.length === 0) affected += res.affected
  })
  return { data, returned, affected, statementCount: sql.statements.length }
}
