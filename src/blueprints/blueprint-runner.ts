// Runs a blueprint's statements on a database as the database's own login (so a blueprint can do no more than
// its owner could), in one transaction: a failure rolls back what ran, and a dry run always rolls back.
// PostgreSQL's DDL is transactional; MySQL commits DDL implicitly, so there only DML is undone, and the
// result says so.
import mysql from 'mysql2/promise'
import pg from 'pg'
import type { Engine } from '../provisioning/managed-servers.js'
import type { ParsedStatement } from './blueprint-parser.js'
import type { ApplicationRecord, StatementResult } from './blueprint-store.js'

/** how long one statement may run */
const STATEMENT_TIMEOUT_MS = 300_000

export type RunOutcome = Pick<ApplicationRecord, 'status' | 'execution_log' | 'statements_succeeded' | 'statements_failed' | 'error_message' | 'total_duration_ms'>

interface Session {
  run(sql: string): Promise<number | null>
  begin(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
  close(): Promise<void>
}

export async function runStatements(engine: Engine, url: string, statements: ParsedStatement[], dryRun: boolean, signal: AbortSignal): Promise<RunOutcome> {
  const started = Date.now()
  const session = engine === 'postgres' ? await pgSession(url) : await mysqlSession(url)
  // a cancelled or expired job ends the session: the server rolls back the open transaction
  const abort = () => { void session.close() }
  signal.addEventListener('abort', abort, { once: true })
  const log: StatementResult[] = []
  try {
    await session.begin()
    let failure: { index: number; message: string } | undefined
    for (const s of statements) {
      if (failure) { log.push({ index: s.index, kind: s.kind, line: s.line, status: 'skipped' }); continue }
      const t0 = Date.now()
      try {
        const rows = await session.run(s.sql)
        log.push({ index: s.index, kind: s.kind, line: s.line, status: 'succeeded', rows_affected: rows, duration_ms: Date.now() - t0 })
      } catch (err) {
        failure = { index: s.index, message: (err as Error).message }
        log.push({ index: s.index, kind: s.kind, line: s.line, status: 'failed', duration_ms: Date.now() - t0, error: (err as Error).message })
      }
    }
    const succeeded = log.filter((l) => l.status === 'succeeded').length
    const base = { execution_log: log, statements_succeeded: succeeded, statements_failed: failure ? 1 : 0 }
    if (!failure && !dryRun) {
      await session.commit()
      return { ...base, status: 'completed', error_message: null, total_duration_ms: Date.now() - started }
    }
    await session.rollback()
    if (!failure) return { ...base, status: 'completed', error_message: null, total_duration_ms: Date.now() - started }
    // MySQL DDL that ran before the failure committed on its own and stays
    const kept = statements.filter((s) => s.autocommits && s.index < failure!.index).map((s) => s.index)
    const message = `statement ${failure.index} failed: ${failure.message}`
    if (kept.length) {
      return { ...base, status: 'failed', error_message: `${message}; statements ${kept.join(', ')} (DDL, committed implicitly by MySQL) could not be rolled back`, total_duration_ms: Date.now() - started }
    }
    return { ...base, status: 'rolled_back', error_message: `${message}; every statement was rolled back`, total_duration_ms: Date.now() - started }
  } finally {
    signal.removeEventListener('abort', abort)
    await session.close()
  }
}

async function pgSession(url: string): Promise<Session> {
  const client = new pg.Client({ connectionString: url, application_name: 'atrium-blueprint', connectionTimeoutMillis: 10_000 })
  client.on('error', () => {})
  await client.connect()
  let closed = false
  return {
    async begin() {
      await client.query('BEGIN')
      await client.query(`SET LOCAL statement_timeout = ${STATEMENT_TIMEOUT_MS}`)
    },
    async run(sql) { return (await client.query(sql)).rowCount ?? null },
    async commit() { await client.query('COMMIT') },
    async rollback() { await client.query('ROLLBACK') },
    async close() { if (!closed) { closed = true; await client.end().catch(() => {}) } },
  }
}

async function mysqlSession(url: string): Promise<Session> {
  const conn = await mysql.createConnection({ uri: url, connectTimeout: 10_000, multipleStatements: false })
  conn.on('error', () => {})
  let closed = false
  return {
    async begin() {
      await conn.query(`SET SESSION max_statement_time = ${STATEMENT_TIMEOUT_MS / 1000}`).catch(() => {})
      await conn.query('START TRANSACTION')
    },
    async run(sql) {
      const [result] = await conn.query(sql)
      return Array.isArray(result) ? result.length : ((result as { affectedRows?: number }).affectedRows ?? null)
    },
    async commit() { await conn.query('COMMIT') },
    async rollback() { await conn.query('ROLLBACK') },
    async close() { if (!closed) { closed = true; await conn.end().catch(() => {}) } },
  }
}
