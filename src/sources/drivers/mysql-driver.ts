// MySQL/MariaDB driver on mysql2: a lazily connecting pool, transactions, streamed reads and to_json-like typing.
import { createRequire } from 'node:module'
import type mysql from 'mysql2/promise'
import type { Connection as CoreConnection } from 'mysql2'
import type { PoolConfig } from '../../config/schema.js'
import { translateMysqlError } from '../../errors/translate-mysql.js'
import type { Cursor, Driver, Executor, PoolStats, QueryOptions, QueryResult, Row, Statement, TransactionMode } from '../driver.js'

export interface MysqlDriverOptions {
  name: string
  url: string
  pool: PoolConfig
  statementTimeoutMs?: number
  onError?: (err: Error) => void
}

type Field = { type: string; length: number; string(): string | null; buffer(): Buffer | null }

// For results no plan describes (raw SQL): values get the JSON types PostgreSQL's to_json would give —
// BOOLEAN (TINYINT(1)) as true/false, DATE as 'YYYY-MM-DD', DATETIME/TIMESTAMP as ISO-8601, BIT(1) as a boolean.
function typeCast(field: Field, next: () => unknown): unknown {
  if (field.type === 'TINY' && field.length === 1) {
    const v = field.string()
    return v === null ? null : v === '1'
  }
  if (field.type === 'DATE') return field.string()
  if (field.type === 'DATETIME' || field.type === 'TIMESTAMP') {
    const v = field.string()
    if (v === null) return null
    // sessions run in UTC (set on connect), so TIMESTAMP values carry that offset; DATETIME has none
    return field.type === 'TIMESTAMP' ? `${v.replace(' ', 'T')}+00:00` : v.replace(' ', 'T')
  }
  if (field.type === 'BIT' && field.length === 1) {
    const b = field.buffer()
    return b === null ? null : b[0] === 1
  }
  return next()
}

export class MysqlDriver implements Driver {
  readonly dialect = 'mysql' as const
  serverVersion: string | undefined
  private readonly pool: mysql.Pool
  private lastConnectOk = false

  constructor(private readonly opts: MysqlDriverOptions) {
    const url = new URL(opts.url.replace(/^mariadb:/, 'mysql:'))
    // mysql2 loads with the first MySQL source, not at start-up
    const { createPool } = createRequire(import.meta.url)('mysql2/promise') as typeof mysql
    this.pool = createPool({
      host: url.hostname,
      port: url.port ? Number(url.port) : 3306,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined,
      connectionLimit: opts.pool.max,
      maxIdle: opts.pool.max,
      idleTimeout: opts.pool.idleTimeoutMs,
      connectTimeout: opts.pool.connectionTimeoutMs || 10_000,
      waitForConnections: true,
      enableKeepAlive: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: true,
      timezone: 'Z',
      // dates stay text: planned reads turn them into ISO-8601 from the schema, raw SQL through typeCast
      dateStrings: true,
      charset: 'utf8mb4',
      multipleStatements: false,
      // The promise API otherwise captures a stack trace on every query, to graft onto a failing query's error:
      // about 40% of the driver's CPU on a one-row read. Every driver error is turned into Atrium's own error
      // (translateMysqlError), with its own stack, before anything reads the driver's.
      trace: false,
    })
    const core = (this.pool as unknown as { pool: { on(event: string, fn: (c: CoreConnection) => void): void } }).pool
    core.on('connection', (conn) => {
      this.lastConnectOk = true
      conn.on('error', (err: Error) => { this.lastConnectOk = false; opts.onError?.(err) })
      conn.query('SELECT VERSION() AS v', (err: unknown, rows: any) => {
        if (err) return
        const v = String(rows?.[0]?.v ?? '')
        this.serverVersion = v.includes('MariaDB') ? `MariaDB ${v.split('-')[0]}` : `MySQL ${v}`
        if (opts.statementTimeoutMs) {
          // MariaDB counts seconds for every statement; MySQL counts milliseconds for SELECTs only.
          const sql = v.includes('MariaDB') ? 'SET SESSION max_statement_time = ?' : 'SET SESSION max_execution_time = ?'
          conn.query(sql, [v.includes('MariaDB') ? opts.statementTimeoutMs / 1000 : opts.statementTimeoutMs], () => {})
        }
      })
      conn.query("SET SESSION time_zone = '+00:00'", () => {})
    })
  }

  get isMariaDb(): boolean {
    return this.serverVersion?.startsWith('MariaDB') ?? false
  }

  async query(stmt: Statement, opts?: QueryOptions): Promise<QueryResult> {
    return runQuery(this.pool, stmt, opts, this.opts.name, () => { this.lastConnectOk = false })
  }

  async transaction<T>(mode: TransactionMode, fn: (tx: Executor) => Promise<T>): Promise<T> {
    const conn = await this.connect()
    const tx: CappedExecutor = {
      query: (stmt, opts) => runQuery(conn, stmt, opts, this.opts.name),
      capped: (sql, cap) => readCapped(conn, sql, cap).catch((err) => { throw translateMysqlError(err, this.opts.name) }),
    }
    let broken = false
    try {
      await conn.query(mode === 'read only' ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION')
      const result = await fn(tx)
      await conn.query('COMMIT')
      return result
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => { broken = true })
      throw translateMysqlError(err, this.opts.name)
    } finally {
      if (broken) conn.destroy()
      else conn.release()
    }
  }

  script(mode: TransactionMode, texts: readonly string[], opts?: QueryOptions): Promise<QueryResult[]> {
    // one statement per round trip: multipleStatements stays off on MySQL connections
    return this.transaction(mode, async (tx) => {
      const results: QueryResult[] = []
      const cap = opts?.cap
      for (const sql of texts) results.push(cap ? await (tx as CappedExecutor).capped(sql, cap) : await tx.query({ sql, params: [] }, opts))
      return results
    })
  }

  async openCursor(stmt: Statement, opts: { chunkSize: number; arrayRows?: boolean }): Promise<Cursor> {
    const conn = await this.connect()
    const name = this.opts.name
    try {
      await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
    } catch (err) {
      conn.destroy()
      throw translateMysqlError(err, name)
    }
    let closed = false
    let iterator: AsyncIterator<unknown> | undefined
    const close = async (failed = false) => {
      if (closed) return
      closed = true
      if (failed || iterator) {
        // A half-read streamed result cannot be abandoned on a MySQL connection; drop the connection.
        await iterator?.return?.().catch(() => {})
        conn.destroy()
        return
      }
      await conn.query('COMMIT').catch(() => {})
      conn.release()
    }
    return {
      query: (s, o) => runQuery(conn, s, o, name),
      async next(): Promise<Row[]> {
        if (closed) return []
        try {
          if (!iterator) {
            const core = (conn as unknown as { connection: CoreConnection }).connection
            const stream = core.query({ sql: stmt.sql, values: stmt.params as unknown[], rowsAsArray: opts.arrayRows }).stream({ highWaterMark: opts.chunkSize })
            iterator = stream[Symbol.asyncIterator]()
          }
          const rows: Row[] = []
          while (rows.length < opts.chunkSize) {
            const step = await iterator.next()
            if (step.done) {
              iterator = undefined
              await conn.query('COMMIT').catch(() => {})
              closed = true
              conn.release()
              break
            }
            rows.push(step.value as Row)
          }
          return rows
        } catch (err) {
          await close(true)
          throw translateMysqlError(err, name)
        }
      },
      close: () => close(),
    }
  }

  async ping(): Promise<void> {
    await this.query({ sql: 'SELECT 1', params: [] })
  }

  stats(): PoolStats {
    const core = (this.pool as unknown as { pool: { _allConnections?: { length: number }; _freeConnections?: { length: number }; _connectionQueue?: { length: number } } }).pool
    const total = core._allConnections?.length ?? 0
    return { total, idle: core._freeConnections?.length ?? 0, waiting: core._connectionQueue?.length ?? 0, connected: this.lastConnectOk && total > 0 }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {})
  }

  private async connect(): Promise<mysql.PoolConnection> {
    try {
      const conn = await this.pool.getConnection()
      this.lastConnectOk = true
      return conn
    } catch (err) {
      this.lastConnectOk = false
      throw translateMysqlError(err, this.opts.name)
    }
  }
}

/** a transaction that can also read raw SQL's rows one at a time, keeping only what fits a cap */
interface CappedExecutor extends Executor {
  capped(sql: string, cap: NonNullable<QueryOptions['cap']>): Promise<QueryResult>
}

/**
 * Runs one raw SQL text and reads its rows as they arrive, keeping rows while they fit the cap and dropping
 * the rest unread into memory. A MySQL result cannot be abandoned half-read without losing the connection
 * (and with it the transaction), so the remainder is drained; the statement timeout bounds how long that takes.
 */
function readCapped(conn: mysql.PoolConnection, sql: string, cap: NonNullable<QueryOptions['cap']>): Promise<QueryResult> {
  const core = (conn as unknown as { connection: CoreConnection }).connection
  return new Promise((resolve, reject) => {
    const rows: Row[] = []
    let columns: string[] = []
    let bytes = 0
    let truncated = false
    let header: mysql.ResultSetHeader | undefined
    let sets = 0
    const query = core.query({ sql, typeCast: typeCast as never })
    query.on('fields', (fields: Array<{ name: string }> | undefined) => {
      // CALL answers several result sets: the first one is what callers want, as in runQuery
      if (sets++ === 0) columns = (fields ?? []).filter(Boolean).map((f) => f.name)
    })
    query.on('result', (row: unknown, index: number) => {
      // only the first result: a CALL's later result sets and its closing status are not rows
      if (index > 0) return
      if (sets === 0) {
        header ??= row as mysql.ResultSetHeader
        return
      }
      if (truncated) return
      if (rows.length >= cap.maxRows) {
        truncated = true
        return
      }
      bytes += JSON.stringify(row).length + 1
      if (bytes > cap.maxBytes) truncated = true
      else rows.push(row as Row)
    })
    query.on('error', reject)
    query.on('end', () => {
      if (sets === 0) resolve({ rows: [], affected: header?.affectedRows ?? 0, columns: [], insertId: header?.insertId })
      else resolve({ rows, affected: rows.length, columns, truncated })
    })
  })
}

async function runQuery(target: mysql.Pool | mysql.PoolConnection, stmt: Statement, opts: QueryOptions | undefined, source: string, onFail?: () => void): Promise<QueryResult> {
  try {
    // query(), not execute(): prepared statements per connection would pile up for dynamic SQL.
    // mysql2 merges an options object into a fresh one with spreads on every call: plain statements (planned
    // reads and writes, the hot path) go as text and values
    const [result, fields] = opts?.arrayRows || opts?.typed
      ? await target.query({ sql: stmt.sql, values: stmt.params as unknown[], rowsAsArray: opts.arrayRows, ...(opts.typed ? { typeCast: typeCast as never } : {}) })
      : await target.query(stmt.sql, stmt.params as unknown[])
    if (Array.isArray(result)) {
      // CALL answers [rows, status header]: the procedure's first result set is what callers want
      if (Array.isArray(result[0])) {
        const first = result[0] as Row[]
        const firstFields = (Array.isArray(fields?.[0]) ? fields[0] : []) as Array<{ name: string }>
        return { rows: first, affected: first.length, columns: firstFields.map((f) => f.name) }
      }
      return { rows: result as Row[], affected: result.length, columns: ((fields ?? []) as Array<{ name: string }>).filter(Boolean).map((f) => f.name) }
    }
    const header = result as mysql.ResultSetHeader
    return { rows: [], affected: header.affectedRows, columns: [], insertId: header.insertId }
  } catch (err) {
    const translated = translateMysqlError(err, source)
    if (translated.code === 'source_unavailable') onFail?.()
    throw translated
  }
}
