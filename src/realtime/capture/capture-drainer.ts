// Moves the changes a source's capture triggers recorded into the outbox, so that every node's subscribers get each
// once. Every node drains every capturing client (woken by the source's NOTIFY on PostgreSQL, and every
// realtime.capturePollMs); the client's cursor row in the catalog is locked for the drain (SKIP LOCKED: one node
// at a time) and advanced in the transaction that writes the events, so a change is published exactly once even
// when a node dies between the catalog commit and trimming the source.
import pg from 'pg'
import type { Logger } from 'pino'
import type { Catalog } from '../../catalog/catalog.js'
import type { ChangeEventType, ChangeEventV1, NewEvent } from '../../outbox/events.js'
import type { Outbox } from '../../outbox/outbox.js'
import type { SourceRegistry } from '../../sources/registry.js'
import type { Source } from '../../sources/source.js'
import type { ChangeWatch } from '../change-watch.js'
import type { CaptureDialect, CaptureOp, CapturedChange } from './captured-change.js'
import { mysqlCapture } from './mysql-capture.js'
import { CAPTURE_CHANNEL, postgresCapture } from './postgres-capture.js'

/** changes read from a source per drain transaction */
const BATCH = 500

const TYPES: Record<CaptureOp, ChangeEventType> = { INSERT: 'change.inserted', UPDATE: 'change.updated', DELETE: 'change.deleted' }

export function captureDialectOf(source: Source): CaptureDialect | undefined {
  return source.dialect === 'postgres' ? postgresCapture : source.dialect === 'mysql' ? mysqlCapture : undefined
}

/**
 * Consecutive changes of one writer to one table with one operation become one event (a statement that wrote
 * 1,000 rows is one event of 1,000 rows). DELETE carries the rows as they were, like a delete through Atrium.
 */
export function changeEvents(source: string, changes: readonly CapturedChange[]): Array<NewEvent<ChangeEventV1>> {
  const events: Array<NewEvent<ChangeEventV1>> = []
  let last: CapturedChange | undefined
  for (const c of changes) {
    const row = c.op === 'DELETE' ? c.oldRow : c.newRow
    const current = events[events.length - 1]?.payload
    if (current && last && last.writer === c.writer && last.table === c.table && last.op === c.op) {
      current.rows.push(row)
      current.old_rows?.push(c.oldRow)
    } else {
      events.push({
        payload: { type: TYPES[c.op], version: 1, origin: 'database', source, table: c.table, rows: [row], old_rows: c.op === 'INSERT' ? null : [c.oldRow], request_id: null },
        source,
        requestId: null,
      })
    }
    last = c
  }
  return events
}

export interface CaptureDrainerOptions {
  catalog: Catalog
  registry: SourceRegistry
  outbox: Outbox
  watch: ChangeWatch
  pollMs: number
  logger: Logger
}

export class CaptureDrainer {
  private readonly running = new Map<string, Promise<void>>()
  private readonly again = new Set<string>()
  /** PostgreSQL sources: a connection listening for the capture trigger's NOTIFY */
  private readonly listeners = new Map<string, pg.Client>()
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(private readonly opts: CaptureDrainerOptions) {}

  start(): void {
    this.opts.watch.onChange(() => this.follow())
    this.follow()
    this.timer = setInterval(() => { for (const client of this.opts.watch.capturedClients()) this.drain(client) }, this.opts.pollMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    for (const client of this.listeners.values()) await client.end().catch(() => {})
    this.listeners.clear()
    await Promise.all(this.running.values())
  }

  /** listens on the PostgreSQL sources that capture, stops listening on those that no longer do */
  private follow(): void {
    if (this.stopped) return
    const clients = this.opts.watch.capturedClients()
    for (const [name, listener] of this.listeners) {
      if (!clients.has(name)) {
        this.listeners.delete(name)
        void listener.end().catch(() => {})
      }
    }
    for (const name of clients) {
      const source = this.opts.registry.get(name)
      if (source?.dialect === 'postgres' && !this.listeners.has(name)) this.listen(name, source)
      this.drain(name)
    }
  }

  private listen(name: string, source: Source): void {
    const client = new pg.Client({ connectionString: source.url, application_name: 'atrium-realtime-capture' })
    this.listeners.set(name, client)
    // a lost listener is replaced at the next refresh of the watched tables; polling covers the gap
    const drop = () => {
      if (this.listeners.get(name) === client) this.listeners.delete(name)
      void client.end().catch(() => {})
    }
    client.on('error', (err) => {
      this.opts.logger.debug({ err: err.message, client: name }, 'capture listener lost')
      drop()
    })
    client.on('notification', () => this.drain(name))
    client.connect()
      .then(() => client.query(`LISTEN ${CAPTURE_CHANNEL}`))
      .then(() => this.drain(name))
      .catch((err: Error) => {
        this.opts.logger.debug({ err: err.message, client: name }, 'could not listen for captured changes (polling)')
        drop()
      })
  }

  /** drains one client; a call while it runs makes it run once more after */
  drain(client: string): void {
    if (this.stopped) return
    if (this.running.has(client)) {
      this.again.add(client)
      return
    }
    const run = this.drainAll(client)
      .catch((err: Error) => this.opts.logger.debug({ err: err.message, client }, 'could not drain captured changes yet'))
      .finally(() => {
        this.running.delete(client)
        if (this.again.delete(client)) this.drain(client)
      })
    this.running.set(client, run)
  }

  private async drainAll(client: string): Promise<void> {
    const source = this.opts.registry.get(client)
    const dialect = source && captureDialectOf(source)
    if (!source || !dialect) return
    for (;;) {
      const moved = await this.drainBatch(source, dialect)
      if (moved === null) return
      this.opts.outbox.committed()
      // delivered: the source's rows can go (a failure here leaves them for the next trim; the cursor skips them)
      await dialect.trim(source.driver, moved.upto).catch((err: Error) => this.opts.logger.debug({ err: err.message, client }, 'could not trim captured changes'))
      if (moved.count < BATCH) return
    }
  }

  /** one batch in one catalog transaction; null when there was nothing (or another node is draining) */
  private drainBatch(source: Source, dialect: CaptureDialect): Promise<{ count: number; upto: number } | null> {
    return this.opts.catalog.transaction(async (tx) => {
      await tx.query({ sql: 'INSERT INTO atrium.realtime_capture_cursors (client_name) VALUES ($1) ON CONFLICT (client_name) DO NOTHING', params: [source.name] })
      const cur = await tx.query({ sql: 'SELECT last_id FROM atrium.realtime_capture_cursors WHERE client_name = $1 FOR UPDATE SKIP LOCKED', params: [source.name] })
      if (!cur.rows.length) return null
      const read = await dialect.read(source.driver, Number(cur.rows[0].last_id), BATCH)
      if (!read) return null
      const { changes, restarted } = read
      if (restarted) {
        this.opts.logger.warn({ client: source.name, cursor: Number(cur.rows[0].last_id) }, 'the capture table was recreated on the source: reading it from its first change')
        if (!changes.length) await tx.query({ sql: 'UPDATE atrium.realtime_capture_cursors SET last_id = 0, updated_at = now() WHERE client_name = $1', params: [source.name] })
      }
      if (!changes.length) return null
      const upto = changes[changes.length - 1].id
      await tx.query({ sql: 'UPDATE atrium.realtime_capture_cursors SET last_id = $2, updated_at = now() WHERE client_name = $1', params: [source.name, upto] })
      // events last: writing them takes the lock that keeps event ids in commit order
      await this.opts.outbox.writeMany(tx, changeEvents(source.name, changes))
      return { count: changes.length, upto }
    })
  }
}
