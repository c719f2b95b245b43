// MySQL/MariaDB driver on mysql2: a lazily connecting pool, transactions, streamed reads and to_json-like typing.
import { createRequire } from 'node:module'
import type mysql from 'mysql2/promise'
import type { Connection as CoreConnection } from 'mysql2'
import { translateMysqlError } from '../../errors/translate-mysql.js'
import type { CommitHook, Cursor, Driver, DriverOptions, Executor, PoolStats, QueryOptions, QueryResult, Row, ScriptOptions, Statement, TransactionMode } from '../driver.js'
import { statementCancelled, watchStatement, type StatementWatch } from './statement-watch.js'


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
  private rawPoolInstance: mysql.Pool | undefined
  private lastConnectOk = false

  constructor(private readonly opts: DriverOptions) {
    this.pool = this.createPool(opts.pool.max, true)
  }

  /**
   * Raw SQL gets its own smaller pool, created on first use: user SQL never runs on a connection that serves
   * planned queries, and each of its connections is reset (COM_RESET_CONNECTION) after every use.
   */
  private get rawPool(): mysql.Pool {
    this.rawPoolInstance ??= this.createPool(this.opts.rawPoolMax ?? Math.max(1, Math.floor(this.opts.pool.max / 2)), false)
    return this.rawPoolInstance
  }

  /** the settings every pool's connections are opened with */
  private get connectionOptions(): mysql.ConnectionOptions {
    const url = new URL(this.opts.url.replace(/^mariadb:/, 'mysql:'))
    return {
      host: url.hostname,
      port: url.port ? Number(url.port) : 3306,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined,
      connectTimeout: this.opts.pool.connectionTimeoutMs || 10_000,
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
    }
  }

  /** `sessionSetup`: the planned pool sets each connection up once; the raw pool does so before every script */
  private createPool(max: number, sessionSetup: boolean): mysql.Pool {
    const opts = this.opts
    // mysql2 loads with the first MySQL source, not at start-up
    const { createPool } = createRequire(import.meta.url)('mysql2/promise') as typeof mysql
    const pool = createPool({
      ...this.connectionOptions,
      connectionLimit: max,
      maxIdle: max,
      idleTimeout: opts.pool.idleTimeoutMs,
      waitForConnections: true,
    })
    const core = (pool as unknown as { pool: { on(event: string, fn: (c: CoreConnection) => void): void } }).pool
    core.on('connection', (conn) => {
      this.lastConnectOk = true
      conn.on('error', (err: Error) => { this.lastConnectOk = false; opts.onError?.(err) })
      conn.query('SELECT VERSION() AS v', (err: unknown, rows: any) => {
        if (err) return
        const v = String(rows?.[0]?.v ?? '')
        this.serverVersion = v.includes('MariaDB') ? `MariaDB ${v.split('-')[0]}` : `MySQL ${v}`
        if (sessionSetup && opts.statementTimeoutMs) {
          // MariaDB counts seconds for every statement; MySQL counts milliseconds for SELECTs only.
          const sql = v.includes('MariaDB') ? 'SET SESSION max_statement_time = ?' : 'SET SESSION max_execution_time = ?'
          conn.query(sql, [v.includes('MariaDB') ? opts.statementTimeoutMs / 1000 : opts.statementTimeoutMs], () => {})
        }
      })
      if (sessionSetup) conn.query("SET SESSION time_zone = '+00:00'", () => {})
    })
    return pool
  }

  get isMariaDb(): boolean {
    return this.serverVersion?.startsWith('MariaDB') ?? false
  }

  async query(stmt: Statement, opts?: QueryOptions): Promise<QueryResult> {
    return runQuery(this.pool, stmt, opts, this.opts.name, () => { this.lastConnectOk = false })
  }

  async transaction<T>(mode: TransactionMode, fn: (tx: Executor) => Promise<T>, hook?: CommitHook): Promise<T> {
    if (hook) return this.xaTransaction(fn, hook)
    const conn = await this.connect()
    const tx: Executor = { query: (stmt, opts) => runQuery(conn, stmt, opts, this.opts.name) }
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

  /**
   * A write as XA transaction hook.xaId: prepared before hook.beforeCommit, committed after it. When the hook
   * throws with `undecided` set (it could not tell whether the catalog recorded the decision), the prepared
   * transaction is left for recovery to commit or roll back by what the catalog says; the connection is
   * dropped, which detaches it (a prepared XA transaction survives its connection on MySQL 5.7.7+ and MariaDB
   * 10.5+). Any other failure rolls it back.
   */
  private async xaTransaction<T>(fn: (tx: Executor) => Promise<T>, hook: CommitHook): Promise<T> {
    const xaId = hook.xaId
    if (!xaId) throw new Error('an XA transaction needs hook.xaId')
    const conn = await this.connect()
    const tx: Executor = { query: (stmt, opts) => runQuery(conn, stmt, opts, this.opts.name) }
    let phase: 'idle' | 'active' | 'ended' | 'prepared' | 'decided' = 'idle'
    let drop = false
    try {
      // XA statements take their id as a string literal; mysql2 escapes the value into it (no prepared protocol)
      await conn.query('XA START ?', [xaId])
      phase = 'active'
      const result = await fn(tx)
      await conn.query('XA END ?', [xaId])
      phase = 'ended'
      await conn.query('XA PREPARE ?', [xaId])
      phase = 'prepared'
      await hook.beforeCommit(xaId)
      // decided: from here on only a commit is right (recovery commits it if this one does not arrive)
      phase = 'decided'
      await conn.query('XA COMMIT ?', [xaId])
      return result
    } catch (err) {
      if (phase === 'decided' || (phase === 'prepared' && (err as { undecided?: boolean }).undecided)) drop = true
      else if (phase !== 'idle') {
        if (phase === 'active') await conn.query('XA END ?', [xaId]).catch(() => {})
        await conn.query('XA ROLLBACK ?', [xaId]).catch(() => { drop = true })
      }
      throw translateMysqlError(err, this.opts.name)
    } finally {
      if (drop) conn.destroy()
      else conn.release()
    }
  }

  async script(mode: TransactionMode, texts: readonly string[], opts?: ScriptOptions): Promise<QueryResult[]> {
    const conn = await this.connect(this.rawPool)
    const core = (conn as unknown as { connection: CoreConnection & { threadId: number; _isMariaDB?: boolean } }).connection
    const timeoutMs = this.opts.statementTimeoutMs ?? 0
    let reusable = true
    let watch: StatementWatch | undefined
    try {
      // The session is fresh (new or reset), so it gets UTC and the statement limit here: MariaDB's
      // max_statement_time covers every statement, MySQL's max_execution_time only SELECTs. The texts may
      // change either, so Atrium also kills the query at the deadline (KILL QUERY from its own connection).
      const limit = timeoutMs > 0
        ? (core._isMariaDB ? `, max_statement_time = ${timeoutMs / 1000}` : `, max_execution_time = ${Math.trunc(timeoutMs)}`)
        : ''
      await conn.query(`SET SESSION time_zone = '+00:00'${limit}`)
      watch = watchStatement(timeoutMs, opts?.signal, () => this.killQuery(core.threadId))
      await conn.query(mode === 'read only' ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION')
      // one statement per round trip: multipleStatements stays off on MySQL connections
      const results: QueryResult[] = []
      const cap = opts?.cap
      for (const sql of texts) {
        // a killed SLEEP() returns 1 without an error: the deadline is checked between statements too
        if (watch.fired) break
        // with a cap, each result is streamed and only what fits is kept (see readCapped)
        results.push(cap ? await readCapped(conn, sql, cap) : await runQuery(conn, { sql, params: [] }, opts, this.opts.name))
      }
      if (watch.fired) throw new Error('statement cancelled by Atrium')
      await conn.query('COMMIT')
      return results
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => { reusable = false })
      if (watch?.fired) throw statementCancelled(timeoutMs, watch.reason)
      throw translateMysqlError(err, this.opts.name)
    } finally {
      watch?.stop()
      // a KILL QUERY still travelling could hit whatever this connection runs next: never reuse it
      if (watch?.fired) reusable = false
      // COM_RESET_CONNECTION drops what the texts left in the session: user variables, GET_LOCK locks,
      // temporary tables, prepared statements, session variables. A connection that cannot be reset is closed.
      if (reusable) reusable = await new Promise<boolean>((resolve) => (core as unknown as { reset(cb: (err: unknown) => void): void }).reset((err) => resolve(!err)))
      if (reusable) conn.release()
      else conn.destroy()
    }
  }

  /**
   * Stops what thread `threadId` is running, from a connection of its own (never a pooled one, which may all
   * be busy), closed right after.
   */
  private killQuery(threadId: number): void {
    const { createConnection } = createRequire(import.meta.url)('mysql2') as typeof import('mysql2')
    const killer = createConnection({ ...this.connectionOptions, database: undefined })
    killer.on('error', () => {})
    killer.query('KILL QUERY ?', [threadId], () => killer.end(() => {}))
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
    await Promise.all([this.pool.end().catch(() => {}), this.rawPoolInstance?.end().catch(() => {})])
  }

  private async connect(pool = this.pool): Promise<mysql.PoolConnection> {
    try {
      const conn = await pool.getConnection()
      this.lastConnectOk = true
      return conn
    } catch (err) {
      this.lastConnectOk = false
      throw translateMysqlError(err, this.opts.name)
    }
  }
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
      // mysql2 also emits 'fields' (undefined) before the OK header of a statement that returns no rows
      if (!fields) return
      // CALL answers several result sets: the first one is what callers want, as in runQuery
      if (sets++ === 0) columns = fields.filter(Boolean).map((f) => f.name)
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
