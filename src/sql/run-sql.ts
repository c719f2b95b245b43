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

/**
 * The database's error position made a position in the caller's query. The driver gives it in the text that
 * failed (data.statement_index, when it can tell which); that text may be the statement wrapped by cappedSelect,
 * and the statement is a part of the query. A position it cannot place is dropped rather than left pointing wrong.
 */
function positionInQuery(err: unknown, sql: ClassifiedSql, texts: string[], sent: string | undefined): unknown {
  if (!(err instanceof AppError)) return err
  // callers that do not pass the query (the Assistant's single statements) get positions in the statements
  const query = sent ?? sql.statements.map((s) => s.sql).join('\n')
  const data = { ...(err.extra.data as Record<string, unknown> | undefined) }
  const { position, statement_index: index } = data
  if (typeof position !== 'number') return err
  delete data.position
  const i = typeof index === 'number' ? index : sql.statements.length === 1 ? 0 : -1
  if (i >= 0 && i < sql.statements.length) {
    // each statement is a trimmed slice of the query, in order
    let offset = -1
    for (let k = 0, from = 0; k <= i; k++) {
      offset = query.indexOf(sql.statements[k].sql, from)
      if (offset < 0) break
      from = offset + sql.statements[k].sql.length
    }
    const statement = sql.statements[i].sql
    const inStatement = position - texts[i].indexOf(statement)
    if (offset >= 0 && inStatement >= 1 && inStatement <= statement.length + 1) data.position = offset + inStatement
  }
  return new AppError(err.code, err.message, { ...err.extra, data })
}

export async function runSql(source: Source, sql: ClassifiedSql, opts: { readOnly: boolean; cap: ResultCap; signal?: AbortSignal; query?: string }): Promise<SqlRunResult> {
  if (sql.statements.length === 0) throw new AppError('invalid_request', 'the query holds no SQL statement')
  if (sql.statements.some((s) => s.isTransactionControl)) {
    throw new AppError('invalid_request', 'transaction control (BEGIN, COMMIT, ROLLBACK…) is not allowed: the statements already run in one transaction')
  }
  // PostgreSQL renders a plain SELECT's rows itself, so numbers and timestamps keep to_json's types exactly
  const capSelect = source.dialectEntry.capPlainSelect
  const texts = sql.statements.map((stmt) => (capSelect && stmt.isPlainSelect ? capSelect(stmt.sql, opts.cap) : stmt.sql))
  // MySQL streams each result and keeps only what fits the cap (see the driver)
  let results: Awaited<ReturnType<typeof source.driver.script>>
  try {
    results = await source.driver.script(opts.readOnly ? 'read only' : 'read write', texts, { typed: true, cap: opts.cap, signal: opts.signal })
  } catch (err) {
    throw positionInQuery(err, sql, texts, opts.query)
  }
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
