// Runs classified raw SQL on a source: all statements in one transaction (read-only when asked), results as JSON.
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

export async function runSql(source: Source, sql: ClassifiedSql, opts: { readOnly: boolean }): Promise<SqlRunResult> {
  if (sql.statements.length === 0) throw new AppError('invalid_request', 'the query holds no SQL statement')
  if (sql.statements.some((s) => s.isTransactionControl)) {
    throw new AppError('invalid_request', 'transaction control (BEGIN, COMMIT, ROLLBACK…) is not allowed: the statements already run in one transaction')
  }
  const isPostgres = source.dialect === 'postgres'
  return source.driver.transaction(opts.readOnly ? 'read only' : 'read write', async (tx) => {
    let data = '[]'
    let returned = 0
    let affected = 0
    for (const stmt of sql.statements) {
      if (isPostgres && stmt.isPlainSelect) {
        // PostgreSQL renders the rows itself, so numbers and timestamps keep to_json's types exactly;
        // the newline keeps a trailing -- comment from swallowing the closing parenthesis
        const res = await tx.query({ sql: `SELECT coalesce(json_agg(_q), '[]')::text, count(*)::int FROM (${stmt.sql}\n) _q`, params: [] }, { arrayRows: true })
        const [body, n] = res.rows[0] as unknown as [string, number]
        data = body
        returned = n
        continue
      }
      const res = await tx.query({ sql: stmt.sql, params: [] }, { typed: true })
      if (res.columns.length > 0) {
        data = JSON.stringify(res.rows)
        returned = res.rows.length
      }
      if (stmt.class === 'write' || res.columns.length === 0) affected += res.affected
    }
    // session settings changed by the SQL (SET, set_config) must not leak to the next request on this connection
    if (isPostgres) await tx.query({ sql: 'RESET ALL', params: [] })
    return { data, returned, affected, statementCount: sql.statements.length }
  })
}
