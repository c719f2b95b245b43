// Runs classified raw SQL on a source: all statements in one transaction (read-only when asked, one round
// trip on PostgreSQL), results as JSON, cut off at a row and byte cap so one query cannot fill memory.
import { AppError } from '../errors/app-error.js'
import type { Source } from '../sources/source.js'
import type { ClassifiedSql } from './classify.js'

export interface SqlRunResult {
  /** JSON array text: rows of the last statement that returned rows */
  data: string
  returned: number
  affected: number
  statementCount: number
  /** the rows were cut off at the cap */
  truncated: boolean
}

export interface ResultCap {
  maxRows: number
  /** bytes of row JSON */
  maxBytes: number
}

/**
 * A plain SELECT wrapped so PostgreSQL itself keeps to the cap: at most maxRows + 1 rows are read (the extra
 * one only tells that there were more), and rows whose running JSON size passes maxBytes are counted but
 * never sent. The caps are integers from the configuration, never request values.
 */
export function cappedSelect(sql: string, cap: ResultCap): string {
  const rows = Math.trunc(cap.maxRows)
  const bytes = Math.trunc(cap.maxBytes)
  const kept = `_s.i <= ${rows} AND _s.total <= ${bytes}`
  // the newline keeps a trailing -- comment from swallowing the closing parenthesis
  return `SELECT coalesce(json_agg(_s.j ORDER BY _s.i) FILTER (WHERE ${kept}), '[]')::text AS body, count(*) FILTER (WHERE ${kept})::int AS n, count(*) FILTER (WHERE NOT (${kept})) > 0 AS cut`
    + ` FROM (SELECT _r.j, _r.i, sum(octet_length(_r.j::text) + 1) OVER (ORDER BY _r.i) AS total`
    + ` FROM (SELECT to_json(_q) AS j, row_number() OVER () AS i FROM (${sql}\n) _q LIMIT ${rows + 1}) _r) _s`
}

/** the rows that fit the cap, for results that came back whole (non-plain PostgreSQL statements) */
function capRows(rows: unknown[], cap: ResultCap): { json: string; count: number; truncated: boolean } {
  let bytes = 0
  const parts: string[] = []
  for (const row of rows) {
    if (parts.length >= cap.maxRows) break
    const json = JSON.stringify(row)
    bytes += json.length + 1
    if (bytes > cap.maxBytes) break
    parts.push(json)
  }
  return { json: `[${parts.join(',')}]`, count: parts.length, truncated: parts.length < rows.length }
}

export async function runSql(source: Source, sql: ClassifiedSql, opts: { readOnly: boolean; cap: ResultCap; signal?: AbortSignal }): Promise<SqlRunResult> {
  if (sql.statements.length === 0) throw new AppError('invalid_request', 'the query holds no SQL statement')
  if (sql.statements.some((s) => s.isTransactionControl)) {
    throw new AppError('invalid_request', 'transaction control (BEGIN, COMMIT, ROLLBACK…) is not allowed: the statements already run in one transaction')
  }
  // PostgreSQL renders a plain SELECT's rows itself, so numbers and timestamps keep to_json's types exactly
  const capSelect = source.dialectEntry.capPlainSelect
  const texts = sql.statements.map((stmt) => (capSelect && stmt.isPlainSelect ? capSelect(stmt.sql, opts.cap) : stmt.sql))
  // MySQL streams each result and keeps only what fits the cap (see the driver)
  const results = await source.driver.script(opts.readOnly ? 'read only' : 'read write', texts, { typed: true, cap: opts.cap, signal: opts.signal })
  let data = '[]'
  let returned = 0
  let affected = 0
  let truncated = false
  sql.statements.forEach((stmt, i) => {
    const res = results[i]
    if (capSelect && stmt.isPlainSelect) {
      const { body, n, cut } = res.rows[0] as { body: string; n: number; cut: boolean }
      data = body
      returned = n
      truncated = cut
      return
    }
    if (res.columns.length > 0) {
      // TODO(issue 18): RETURNING and SHOW results on PostgreSQL still arrive whole before they are cut here
      const capped = capRows(res.rows, opts.cap)
      data = capped.json
      returned = capped.count
      truncated = capped.truncated || res.truncated === true
    }
    if (stmt.class === 'write' || res.columns.length === 0) affected += res.affected
  })
  return { data, returned, affected, statementCount: sql.statements.length, truncated }
}
