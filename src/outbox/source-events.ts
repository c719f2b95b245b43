// Events of writes to data sources (X-Publish-Event): published if and only if the source commits, though
// the write runs in the source's database and the outbox lives in the catalog.
//
// The catalog is the decision log. PostgreSQL source: inside the source transaction, after its statements,
// the event is recorded in atrium.pending_events with the transaction's xid8; then the source commits; then
// the pending row moves to atrium.events. A crash in between leaves the pending row, and the recovery sweep
// asks the source `pg_xact_status(xid)`: committed → published, aborted → dropped, in progress → later.
// MySQL/MariaDB source: the write runs as an XA transaction. A 'preparing' row is recorded before XA START;
// after XA PREPARE it becomes 'prepared' with the event (the decision to commit); then XA COMMIT, then the
// move to atrium.events. Recovery: a 'prepared' row is committed (XA COMMIT if XA RECOVER still lists it)
// and published; a 'preparing' row is rolled back (XA ROLLBACK if listed) and dropped.
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import type { AnnounceHook, MutationResult } from '../query/run/runner.js'
import type { SourceRegistry } from '../sources/registry.js'
import type { Source } from '../sources/source.js'
import { deletePending, insertPending, lockPending, markPrepared, publishPending, stalePending, type PendingRow } from './event-store.js'
import type { NewEvent } from './events.js'

/**
 * Test-only crash points (a process is killed there to prove recovery); set through StartOptions by a test
 * harness, never from configuration.
 */
export type Failpoint = 'before-source-commit' | 'after-source-commit'

export interface SourceEventsOptions {
  catalog: Catalog
  registry: SourceRegistry
  /** the outbox this belongs to: its process id, and the wake-up to call once an event is committed */
  outbox: { readonly instanceId: string; committed(): void }
  settings: Config['events']
  logger: Logger
  failpoint?: (point: Failpoint) => void
}

/** pending rows looked at per sweep */
const SWEEP_BATCH = 50

export class SourceEvents {
  private timer: NodeJS.Timeout | undefined
  private sweeping: Promise<unknown> | undefined

  constructor(private readonly opts: SourceEventsOptions) {}

  /** sweeps for events a crashed writer left pending: now, then every events.recoverAfterMs */
  start(): void {
    this.sweepSoon()
    this.timer = setInterval(() => this.sweepSoon(), this.opts.settings.recoverAfterMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.sweeping
  }

  /**
   * Runs `write` (a mutation on `source`) so that the event `draft` makes of its result is published if and
   * only if the write commits. `draft` returning null (nothing written) publishes nothing.
   */
  async write(source: Source, draft: (result: MutationResult) => NewEvent | null, write: (announce: AnnounceHook) => Promise<MutationResult>): Promise<MutationResult> {
    const { catalog, outbox } = this.opts
    const id = randomUUID()
    const dialect = source.dialect
    const xaId = dialect === 'mysql' ? `atrium-${id}` : undefined
    const base = { id, source: source.name, dialect, origin: outbox.instanceId }
    if (xaId) {
      await insertPending(catalog, { ...base, source_tx: xaId, state: 'preparing', type: null, version: null, payload: null, tenant: null, request_id: null })
    }
    let staged = false
    const announce: AnnounceHook = {
      xaId,
      beforeCommit: async (result, sourceTx) => {
        const event = draft(result)
        if (!event) return
        if (!xaId) {
          // a failure here rolls the source back; a row that was written all the same is dropped by recovery,
          // which finds the transaction aborted
          await insertPending(catalog, { ...base, source_tx: sourceTx, state: 'prepared', type: event.payload.type, version: event.payload.version, payload: event.payload, tenant: event.tenant ?? null, request_id: event.requestId ?? null })
        } else {
          let marked: boolean
          try {
            marked = await markPrepared(catalog, id, event)
          } catch (err) {
            // the catalog may or may not have recorded the decision: leave the prepared transaction to recovery
            throw Object.assign(err as Error, { undecided: true })
          }
          if (!marked) throw new AppError('catalog_unavailable', 'the write took too long to record its event and was rolled back', { retryAfter: 1 })
        }
        staged = true
        this.opts.failpoint?.('before-source-commit')
      },
    }
    let result: MutationResult
    try {
      result = await write(announce)
    } catch (err) {
      // nothing was decided: the preparing row has no use (recovery would drop it too)
      if (xaId && !staged) await deletePending(catalog, id).catch(() => {})
      throw err
    }
    this.opts.failpoint?.('after-source-commit')
    if (!staged) {
      if (xaId) await deletePending(catalog, id).catch(() => {})
      return result
    }
    // the source committed; if the catalog fails now, recovery publishes the event later
    await this.publish(id).catch((err: Error) => this.opts.logger.warn({ err: err.message, pending: id }, 'event left for recovery'))
    return result
  }

  private async publish(id: string): Promise<void> {
    const moved = await this.opts.catalog.transaction(async (tx) => {
      const row = await lockPending(tx, id)
      if (!row) return false
      await publishPending(tx, row)
      return true
    })
    if (moved) this.opts.outbox.committed()
  }

  private sweepSoon(): void {
    if (this.sweeping) return
    this.sweeping = this.sweep()
      .catch((err: Error) => this.opts.logger.debug({ err: err.message }, 'pending event sweep failed'))
      .finally(() => { this.sweeping = undefined })
  }

  /** resolves pending rows older than events.recoverAfterMs; returns how many were published */
  async sweep(): Promise<number> {
    const { catalog, settings } = this.opts
    let published = 0
    for (const id of await stalePending(catalog, settings.recoverAfterMs, SWEEP_BATCH)) {
      try {
        // one transaction per row: the row stays locked while its source is asked, so one process resolves it
        const moved = await catalog.transaction(async (tx) => {
          const row = await lockPending(tx, id)
          if (!row) return false
          const outcome = await this.outcome(row)
          if (outcome === 'committed') {
            await publishPending(tx, row)
            return true
          }
          if (outcome === 'aborted') await deletePending(tx, id)
          return false
        })
        if (moved) {
          published++
          this.opts.logger.info({ pending: id }, 'recovered the event of a committed write')
        }
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message, pending: id }, 'could not resolve a pending event yet')
      }
    }
    if (published) this.opts.outbox.committed()
    return published
  }

  /** what became of the source transaction of a pending row; XA transactions are finished here */
  private async outcome(row: PendingRow): Promise<'committed' | 'aborted' | 'open'> {
    const source = this.opts.registry.get(row.source)
    if (!source) throw new Error(`data source "${row.source}" is not registered in this process`)
    const driver = source.driver
    if (row.dialect === 'postgres') {
      const res = await driver.query({ sql: 'SELECT pg_xact_status($1::xid8) AS status', params: [row.source_tx] })
      const status = res.rows[0]?.status as string | null
      if (status === 'committed') return 'committed'
      if (status === 'aborted') return 'aborted'
      if (status === 'in progress') return 'open'
      // the xid is older than the source's transaction status horizon: nothing can tell any more
      this.opts.logger.error({ pending: row.id, source: row.source }, 'the outcome of a write is no longer known to its source; its event is dropped')
      return 'aborted'
    }
    const listed = (await driver.query({ sql: 'XA RECOVER', params: [] })).rows.some((r) => String(r.data) === row.source_tx)
    if (row.state === 'prepared') {
      if (listed) await driver.query({ sql: 'XA COMMIT ?', params: [row.source_tx] })
      return 'committed'
    }
    if (listed) await driver.query({ sql: 'XA ROLLBACK ?', params: [row.source_tx] })
    return 'aborted'
  }
}
