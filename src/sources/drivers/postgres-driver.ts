// PostgreSQL driver on node-postgres: a lazily connecting pool, transactions, cursors and error translation.
import { createHash } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { PoolConfig } from '../../config/schema.js'
import { translatePgError } from '../../errors/translate-pg.js'
import type { Cursor, Driver, Executor, PoolStats, QueryOptions, QueryResult, Row, Statement, TransactionMode } from '../driver.js'

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

export interface PostgresDriverOptions {
  name: string
  url: string
  pool: PoolConfig
  statementTimeoutMs?: number
  onError?: (err: Error) => void
}

export class PostgresDriver implements Driver {
  readonly dialect = 'postgres' as const
  serverVersion: string | undefined
  private readonly pool: pg.Pool
  private versionAsked = false
  private lastConnectOk = false

  constructor(private readonly opts: PostgresDriverOptions) {
    this.pool = new Pool({
      connectionString: opts.url,
      max: opts.pool.max,
      idleTimeoutMillis: opts.pool.idleTimeoutMs,
      connectionTimeoutMillis: opts.pool.connectionTimeoutMs,
      statement_timeout: opts.statementTimeoutMs || undefined,
      application_name: 'atrium',
      types: { getTypeParser },
    })
    // An idle connection dying (database restart) must not crash the process; the pool drops it.
    this.pool.on('error', (err) => {
      this.lastConnectOk = false
      opts.onError?.(err)
    })
    this.pool.on('connect', (client) => {
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
        setImmediate(() => this.pool.query('SHOW server_version').then((r) => { this.serverVersion = `PostgreSQL ${r.rows[0].server_version}` }, () => { this.versionAsked = false }))
      }
    })
  }

  query(stmt: Statement, opts?: QueryOptions): Promise<QueryResult> {
    return runQuery(this.pool, stmt, opts, this.opts.name, this.markUnreachable)
  }

  private readonly markUnreachable = () => { this.lastConnectOk = false }

  async transaction<T>(mode: TransactionMode, fn: (tx: PostgresExecutor) => Promise<T>): Promise<T> {
    const client = await this.connect()
    const tx: PostgresExecutor = {
      query: (stmt, opts) => runQuery(client, stmt, opts, this.opts.name),
      copyFrom: (copySql, data) => pipeline(Readable.from([data]), client.query(copyFrom(copySql))),
    }
    let broken: Error | undefined
    try {
      await client.query(mode === 'read only' ? 'BEGIN READ ONLY' : 'BEGIN')
      const result = await fn(tx)
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => { broken = e })
      throw translatePgError(err, this.opts.name)
    } finally {
      client.release(broken)
    }
  }

  async script(mode: TransactionMode, texts: readonly string[]): Promise<QueryResult[]> {
    const client = await this.connect()
    let broken: Error | undefined
    // One simple-protocol message: BEGIN, the texts, RESET ALL (settings changed by SET or set_config must
    // not reach the next request on this connection) and COMMIT. The texts are single statements the
    // PostgreSQL parser has already split out; the newlines keep a trailing -- comment from swallowing the
    // separator. PostgreSQL stops at the first failing statement, leaving the transaction to roll back.
    const script = [mode === 'read only' ? 'BEGIN READ ONLY' : 'BEGIN', ...texts, 'RESET ALL', 'COMMIT'].join('\n;\n')
    try {
      const results = (await client.query(script)) as unknown as pg.QueryResult[]
      return results.slice(1, 1 + texts.length).map((res) => ({ rows: res.rows, affected: res.rowCount ?? 0, columns: res.fields.map((f) => f.name) }))
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => { broken = e })
      throw translatePgError(err, this.opts.name)
    } finally {
      client.release(broken)
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
    await this.pool.end().catch(() => {})
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect()
    } catch (err) {
      this.lastConnectOk = false
      throw translatePgError(err, this.opts.name)
    }
  }
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
