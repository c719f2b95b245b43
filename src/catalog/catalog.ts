// Atrium's own database: a pool, versioned migrations (postgrator) and LISTEN/NOTIFY for cross-process changes.
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import Postgrator from 'postgrator'
import type { Logger } from 'pino'
import { AppError } from '../errors/app-error.js'
import type { Executor, QueryResult, Row, Statement, TransactionMode } from '../sources/driver.js'
import { PostgresDriver, type PostgresExecutor } from '../sources/drivers/postgres-driver.js'

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url))
// Any constant works; it only has to be the same in every Atrium process sharing a catalog.
const MIGRATION_LOCK = 727_274_001

export class Catalog implements Executor {
  private readonly driver: PostgresDriver
  private listener: pg.Client | undefined
  private readonly channels = new Map<string, Set<(payload: string) => void>>()
  private readonly reconnectHandlers = new Set<() => void>()
  private closed = false

  constructor(readonly url: string, private readonly logger: Logger) {
    this.driver = new PostgresDriver({
      name: 'catalog',
      url,
      pool: { max: 5, idleTimeoutMs: 30_000, connectionTimeoutMs: 5_000 },
      onError: (err) => logger.warn({ err: err.message }, 'catalog connection error'),
    })
  }

  async query(stmt: Statement): Promise<QueryResult> {
    try {
      return await this.driver.query(stmt)
    } catch (err) {
      throw asCatalogError(err)
    }
  }

  /** shorthand: rows of a parameterised catalog query */
  async rows<T = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.query({ sql, params })).rows as T[]
  }

  async transaction<T>(fn: (tx: PostgresExecutor) => Promise<T>, mode: TransactionMode = 'read write'): Promise<T> {
    try {
      return await this.driver.transaction(mode, fn)
    } catch (err) {
      throw asCatalogError(err)
    }
  }

  async ping(): Promise<void> {
    await this.query({ sql: 'SELECT 1', params: [] })
  }

  /** applies pending migrations under an advisory lock, so concurrent starts are safe; returns applied versions */
  async migrate(): Promise<number[]> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'atrium-migrate' })
    // the server ending this connection between two queries fails the next query, not the process
    client.on('error', () => {})
    await client.connect()
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
      await client.query('CREATE SCHEMA IF NOT EXISTS atrium')
      const postgrator = new Postgrator({
        migrationPattern: `${MIGRATIONS_DIR}/*.sql`,
        driver: 'pg',
        database: client.database ?? 'postgres',
        schemaTable: 'atrium.schemaversion',
        execQuery: (sql: string) => client.query(sql),
      })
      const applied = await postgrator.migrate()
      return applied.map((m) => m.version)
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
      await client.end().catch(() => {})
    }
  }

  /** subscribes to a NOTIFY channel on one dedicated connection that reconnects by itself */
  async listen(channel: string, handler: (payload: string) => void): Promise<void> {
    const handlers = this.channels.get(channel) ?? new Set()
    handlers.add(handler)
    this.channels.set(channel, handlers)
    if (this.listener) await this.listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
    else await this.connectListener()
  }

  /** runs fn each time the listener reconnects: notifications sent while it was away are lost, so callers resync */
  onListenerReconnect(fn: () => void): void {
    this.reconnectHandlers.add(fn)
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.query({ sql: 'SELECT pg_notify($1, $2)', params: [channel, payload] })
  }

  async close(): Promise<void> {
    this.closed = true
    await this.listener?.end().catch(() => {})
    this.listener = undefined
    await this.driver.close()
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'atrium-listen' })
    client.on('notification', (msg) => {
      for (const h of this.channels.get(msg.channel) ?? []) h(msg.payload ?? '')
    })
    client.on('error', () => {})
    client.on('end', () => {
      if (this.listener !== client) return
      this.listener = undefined
      if (!this.closed) setTimeout(() => this.reconnectListener(), 1_000).unref()
    })
    await client.connect()
    for (const channel of this.channels.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
    this.listener = client
  }

  private reconnectListener(): void {
    if (this.closed || this.listener) return
    this.connectListener().then(
      () => {
        this.logger.info('catalog listener reconnected')
        for (const fn of this.reconnectHandlers) fn()
      },
      () => setTimeout(() => this.reconnectListener(), 2_000).unref(),
    )
  }
}

function asCatalogError(err: unknown): unknown {
  if (err instanceof AppError && err.code === 'source_unavailable') {
    return new AppError('catalog_unavailable', 'the Atrium catalog database is unavailable', { retryAfter: 5, cause: err })
  }
  return err
}
