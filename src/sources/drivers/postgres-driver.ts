// PostgreSQL driver on node-postgres: a lazily connecting pool, transactions, cursors and error translation.
import { createHash } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { AppError } from '../../errors/app-error.js'
import { translatePgError } from '../../errors/translate-pg.js'
import type { CommitHook, Cursor, Driver, DriverOptions, Executor, PoolStats, QueryOptions, QueryResult, Row, ScriptOptions, Statement, TransactionMode } from '../driver.js'
import { statementCancelled, watchStatement } from './statement-watch.js'

/** between the texts of a raw SQL script: the newlines keep a trailing -- comment from swallowing the ; */
const SEPARATOR = '\n;\n'

/**
 * What DISCARD ALL does, written out so it can follow COMMIT in the script's own message (DISCARD ALL itself
 * refuses to run inside the implicit transaction block of a multi-statement message): PostgreSQL's manual gives
 * these statements as its equivalent. Cursors, session authorization and role, every setting, prepared
 * statements, LISTENs, advisory locks, cached plans, temporary tables and sequence state are dropped, with no
 * second round trip.
 */
// Authorization and settings go first, so a statement_timeout or role the texts set does not hold for the rest;
// the function is qualified so no search_path can put another in its place.
const SESSION_RESET = [
  'SET SESSION AUTHORIZATION DEFAULT',
  'RESET ALL',
  'CLOSE ALL',
  'DEALLOCATE ALL',
  'UNLISTEN *',
  'SELECT pg_catalog.pg_advisory_unlock_all()',
  'DISCARD PLANS',
  'DISCARD TEMP',
  'DISCARD SEQUENCES',
]

const { Pool, types } = pg

// Values that do not come back as JSON from the database (raw SQL results, RETURNING rows) still follow
// to_json's typing: integers and numerics as numbers when exact, timestamps as ISO-8601 text.
const exactNumber = (text: string): number | string => {
  const digits = text.replace(/[-.]/g, '').replace(/^0+/, '')
  // 15 significant digits always survive a double; longer values stay text rather than change.
  return digits.length <= 15 && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text
}
const isoTimestamp = (text: string): string => {
  if (text === 'infinity' || text === '-infinity') return text
  const t = text.replace(' ', 'T')
  return /[+-]\d\d$/.test(t) ? `${t}:00` : t
}
const typeParsers: Record<number, (text: string) => unknown> = {
  20: exactNumber, // int8
  1700: exactNumber, // numeric
  1114: isoTimestamp, // timestamp
  1184: isoTimestamp, // timestamptz
  1082: (text) => text, // date stays a date
}
const getTypeParser = ((oid: number, format?: string) =>
  typeParsers[oid] ?? types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser

/** a PostgreSQL transaction, which can also bulk-load text with COPY … FROM STDIN */
export interface PostgresExecutor extends Executor {
  /** streams `data` (COPY's text format: tab-separated, one line per row) into `COPY … FROM STDIN` */
  copyFrom(copySql: string, data: string | Buffer): Promise<void>
}


export class PostgresDriver implements Driver {
  readonly dialect = 'postgres' as const
  serverVersion: string | undefined
  private readonly pool: pg.Pool
  private rawPoolInstance: pg.Pool | undefined
  private versionAsked = false
  private lastConnectOk = false

  constructor(private readonly opts: DriverOptions) {
    this.pool = this.createPool(opts.pool.max, 'atrium')
  }

  /**
   * Raw SQL gets its own smaller pool, created on first use: user SQL never runs on a connection that serves
   * planned queries, so nothing it leaves in a session (not even a replaced prepared statement) can reach them.
   */
  private get rawPool(): pg.Pool {
    this.rawPoolInstance ??= this.createPool(this.opts.rawPoolMax ?? Math.max(1, Math.floor(this.opts.pool.max / 2)), 'atrium_sql')
    return this.rawPoolInstance
  }

  private createPool(max: number, applicationName: string): pg.Pool {
    const opts = this.opts
    const pool = new Pool({
      connectionString: opts.url,
      max,
      idleTimeoutMillis: opts.pool.idleTimeoutMs,
      connectionTimeoutMillis: opts.pool.connectionTimeoutMs,
      statement_timeout: opts.statementTimeoutMs || undefined,
      application_name: applicationName,
      types: { getTypeParser },
    })
    // An idle connection dying (database restart) must not crash the process; the pool drops it.
    pool.on('error', (err) => {
      this.lastConnectOk = false
      opts.onError?.(err)
    })
    pool.on('connect', (client) => {
      // pg-pool listens for errors only on idle connections: a checked-out one that the server ends between
      // two queries (a restart, pg_terminate_backend, a dropped database) while a cursor waits for its
      // reader or a transaction for its next statement would otherwise raise an uncaught 'error' and end
      // the process. Its next query fails instead, and the release drops it from the pool.
      client.on('error', (err) => {
        this.lastConnectOk = false
        opts.onError?.(err)
      })
      this.lastConnectOk = true
      if (!this.versionAsked) {
        this.versionAsked = true
        // asked through the pool, after this connection's own first query, never interleaved on it
        setImmediate(() => pool.query('SHOW server_version').then((r) => { this.serverVersion = `PostgreSQL ${r.rows[0].server_version}` }, () => { this.versionAsked = false }))
      }
    })
    return pool
  }

  query(stmt: Statement, opts?: QueryOptions): Promise<QueryResult> {
    return runQuery(this.pool, stmt, opts, this.opts.name, this.markUnreachable)
  }

  private readonly markUnreachable = () => { this.lastConnectOk = false }

  async transaction<T>(mode: TransactionMode, fn: (tx: PostgresExecutor) => Promise<T>, hook?: CommitHook): Promise<T> {
    const client = await this.connect()
    const tx: PostgresExecutor = {
      query: (stmt, opts) => runQuery(client, stmt, opts, this.opts.name),
      copyFrom: (copySql, data) => pipeline(Readable.from([data]), client.query(copyFrom(copySql))),
    }
    let broken: Error | undefined
    try {
      await client.query(mode === 'read only' ? 'BEGIN READ ONLY' : 'BEGIN')
      const result = await fn(tx)
      if (hook) {
        // the xid (assigned here if the statements did not) outlives the connection: pg_xact_status answers
        // committed or aborted for it after a crash, which is what recovery asks
        const res = await client.query('SELECT pg_current_xact_id()::text AS xid')
        await hook.beforeCommit(res.rows[0].xid as string)
      }
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => { broken = e })
      throw translatePgError(err, this.opts.name)
    } finally {
      client.release(broken)
    }
  }

  async script(mode: TransactionMode, texts: readonly string[], opts?: ScriptOptions): Promise<QueryResult[]> {
    const client = await this.connect(this.rawPool)
    const timeoutMs = this.opts.statementTimeoutMs ?? 0
    // One simple-protocol message: BEGIN, Atrium's statement timeout, the texts and COMMIT. The texts are single
    // statements the PostgreSQL parser has already split out; the newlines keep a trailing -- comment from
    // swallowing the separator. PostgreSQL stops at the first failing statement, leaving the transaction to
    // roll back. The SET LOCAL is only the first wall: the texts may change statement_timeout themselves, so
    // Atrium also cancels the backend at the deadline (watchStatement).
    const head = [mode === 'read only' ? 'BEGIN READ ONLY' : 'BEGIN']
    if (timeoutMs > 0) head.push(`SET LOCAL statement_timeout = ${Math.trunc(timeoutMs)}`)
    // The session reset rides in the same message, after COMMIT: it runs only once the texts have committed,
    // so it drops whatever they left in the session, as DISCARD ALL on a second round trip did.
    const script = [...head, ...texts, 'COMMIT', ...SESSION_RESET].join(SEPARATOR)
    const watch = watchStatement(timeoutMs, opts?.signal, () => cancelBackend(this.opts.url, client))
    let broken: Error | undefined
    let reset = false
    try {
      const results = (await client.query(script)) as unknown as pg.QueryResult[]
      reset = true
      return results.slice(head.length, head.length + texts.length).map((res) => ({ rows: res.rows, affected: res.rowCount ?? 0, columns: res.fields.map((f) => f.name) }))
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => { broken = e })
      if (watch.fired) throw statementCancelled(timeoutMs, watch.reason)
      throw positionInText(translatePgError(err, this.opts.name), head, texts)
    } finally {
      watch.stop()
      // a cancel request still travelling could hit whatever this connection runs next: never reuse it
      if (watch.fired) broken ??= new Error('statement cancelled by Atrium')
      // A failed script stopped before its reset: DISCARD ALL (outside any transaction) drops what the texts
      // left in the session. A connection that cannot be reset is closed instead of going back to the pool.
      if (!broken && !reset) await client.query('DISCARD ALL').catch((e: Error) => { broken = e })
      client.release(broken ?? false)
    }
  }

  async openCursor(stmt: Statement, opts: { chunkSize: number; arrayRows?: boolean }): Promise<Cursor> {
    const client = await this.connect()
    const name = this.opts.name
    let declared = false
    let closed = false
    try {
      // One snapshot for the count and the rows, so Content-Range and the body agree.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    } catch (err) {
      client.release(err as Error)
      throw translatePgError(err, name)
    }
    const close = async (failure?: unknown) => {
      if (closed) return
      closed = true
      let broken: Error | undefined
      await client.query(failure ? 'ROLLBACK' : 'COMMIT').catch((e: Error) => { broken = e })
      client.release(broken)
    }
    return {
      query: (s, o) => runQuery(client, s, o, name),
      async next(): Promise<Row[]> {
        if (closed) return []
        try {
          if (!declared) {
            await client.query({ text: `DECLARE atrium_cursor NO SCROLL CURSOR FOR ${stmt.sql}`, values: stmt.params as unknown[] })
            declared = true
          }
          const res = await send(client, `FETCH ${opts.chunkSize} FROM atrium_cursor`, [], opts.arrayRows)
          return res.rows
        } catch (err) {
          await close(err)
          throw translatePgError(err, name)
        }
      },
      close: () => close(),
    }
  }

  async ping(): Promise<void> {
    await this.query({ sql: 'SELECT 1', params: [] })
  }

  stats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount, connected: this.lastConnectOk && this.pool.totalCount > 0 }
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end().catch(() => {}), this.rawPoolInstance?.end().catch(() => {})])
  }

  private async connect(pool = this.pool): Promise<pg.PoolClient> {
    try {
      return await pool.connect()
    } catch (err) {
      this.lastConnectOk = false
      throw translatePgError(err, this.opts.name)
    }
  }
}

/**
 * Asks the server to cancel whatever `client` is running, with the protocol's CancelRequest on a connection of
 * its own: it needs no pooled connection and no backend slot, so it works even when every pool is busy.
 */
function cancelBackend(url: string, client: pg.PoolClient): void {
  const { processID, secretKey } = client as unknown as { processID: number; secretKey: number }
  // pg's Client knows how to reach the server (host, port or socket directory) from the URL
  const { host, port } = new pg.Client({ connectionString: url }) as unknown as { host: string; port: number }
  const connection = new pg.Connection() as unknown as {
    connect(portOrPath: number | string, host?: string): void
    cancel(processID: number, secretKey: number): void
    on(event: string, fn: (...args: unknown[]) => void): void
    end(): void
  }
  // the server closes a cancel connection itself; a refused one only means there is nothing left to cancel
  connection.on('error', () => {})
  connection.on('connect', () => connection.cancel(processID, secretKey))
  if (host.startsWith('/')) connection.connect(`${host}/.s.PGSQL.${port}`)
  else connection.connect(port, host)
}

/**
 * PostgreSQL's error position counts from the start of the whole script; made relative to the text that failed
 * (data.position, 1-based) with that text's index (data.statement_index), so callers can point into what they sent.
 */
function positionInText(err: AppError, head: string[], texts: readonly string[]): AppError {
  const position = (err.extra.data as { position?: unknown } | undefined)?.position
  if (typeof position !== 'number') return err
  let start = head.reduce((n, part) => n + part.length + SEPARATOR.length, 0)
  const data: Record<string, unknown> = { ...err.extra.data }
  delete data.position
  for (const [i, text] of texts.entries()) {
    if (position - 1 >= start && position - 1 <= start + text.length) {
      data.position = position - start
      data.statement_index = i
      break
    }
    start += text.length + SEPARATOR.length
  }
  return new AppError(err.code, err.message, { ...err.extra, data })
}

function runQuery(target: pg.Pool | pg.PoolClient, stmt: Statement, opts: QueryOptions | undefined, source: string, onFail?: () => void): Promise<QueryResult> {
  return send(target, stmt.sql, stmt.params, opts?.arrayRows, opts?.prepare).then(queryResult, (err: unknown) => {
    const translated = translatePgError(err, source)
    if (translated.code === 'source_unavailable') onFail?.()
    throw translated
  })
}

const queryResult = (res: pg.QueryResult): QueryResult => ({ rows: res.rows, affected: res.rowCount ?? 0, columns: res.fields.map((f) => f.name) })

/**
 * Sends one statement. pg copies a query config object, property descriptors and all, on every call (a
 * measurable cost per request on the hot path), but not text and values: so plain statements go as text and
 * values, and a named (prepared) statement as a Query built from text and values with its name set on it
 * (pg reads the name when it sends the query). Array rows (raw SQL, RPC, cursors: off the hottest path)
 * keep the config object.
 */
function send(target: pg.Pool | pg.PoolClient, text: string, values: readonly unknown[], arrayRows?: boolean, prepare?: boolean): Promise<pg.QueryResult> {
  const name = prepare ? statementNames.nameFor(text) : undefined
  if (arrayRows) return target.query({ text, values: values as unknown[], rowMode: 'array', ...(name ? { name } : {}) } as pg.QueryConfig)
  if (!name) return target.query(text, values as unknown[])
  const query = new pg.Query(text, values as unknown[]) as pg.Query & { name: string }
  query.name = name
  return new Promise((resolve, reject) => {
    // pg-pool and the client both take a Query with a callback; pg's types only know the callback-less form
    const callbackQuery = target as unknown as { query(q: pg.Query, cb: (err: Error | undefined, res: pg.QueryResult) => void): void }
    callbackQuery.query(query, (err, res) => (err ? reject(err) : resolve(res)))
  })
}

/**
 * Statements that come back again and again (the same request shape with other values) are sent as named
 * prepared statements, so PostgreSQL parses and plans them once per connection instead of per request.
 * Only shapes seen HOT_AFTER times get a name, and at most MAX_NAMED are remembered, which bounds what
 * each connection keeps prepared.
 */
class StatementNames {
  private static readonly HOT_AFTER = 3
  private static readonly MAX_NAMED = 1_000
  private readonly seen = new Map<string, number>()
  private readonly named = new Map<string, string>()

  nameFor(text: string): string | undefined {
    const name = this.named.get(text)
    if (name) return name
    const count = (this.seen.get(text) ?? 0) + 1
    if (count < StatementNames.HOT_AFTER) {
      if (this.seen.size >= StatementNames.MAX_NAMED * 4) this.seen.clear()
      this.seen.set(text, count)
      return undefined
    }
    this.seen.delete(text)
    if (this.named.size >= StatementNames.MAX_NAMED) return undefined
    const fresh = `atrium_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
    this.named.set(text, fresh)
    return fresh
  }
}
const statementNames = new StatementNames()
