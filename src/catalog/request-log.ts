// The gateway request log: entries are buffered in memory and written to atrium.request_log in batches,
// never on a request's critical path. Each batch also folds into the client statistics (client-statistics-store).
import type { Logger } from 'pino'
import type { Catalog } from './catalog.js'
import { FOLD_INTO_STATISTICS } from './client-statistics-store.js'

export interface RequestLogEntry {
  at: Date
  requestId: string
  client: string | null
  table: string | null
  operation: string
  method: string
  path: string
  status: number
  durationMs: number
  cached: boolean
  apiKeyId: string | null
  userId: string | null
  companyId: string | null
  organizationId: string | null
  sqlClass: string | null
}

// Bounded so a catalog outage cannot grow memory without limit; the oldest entries go first.
const MAX_BUFFER = 50_000
// A batch is serialised on the event loop; 1,000 rows (a few ms) keeps that from showing in request latency.
const BATCH = 1_000

export class RequestLog {
  private buffer: RequestLogEntry[] = []
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> | undefined
  dropped = 0

  constructor(private readonly catalog: Catalog, private readonly flushMs: number, private readonly logger: Logger) {}

  start(): void {
    if (this.flushMs <= 0 || this.timer) return
    // a tick while a write is still running is skipped: during a catalog outage, ticks must not pile up
    this.timer = setInterval(() => { if (!this.flushing) void this.flush() }, this.flushMs)
    this.timer.unref()
  }

  record(entry: RequestLogEntry): void {
    if (this.buffer.length >= MAX_BUFFER) {
      this.buffer.shift()
      this.dropped++
    }
    this.buffer.push(entry)
  }

  /** writes everything buffered so far (one statement per batch of up to 1,000 entries) */
  flush(): Promise<void> {
    // a write already running may have taken its snapshot before the caller's entries: queue one behind it
    const next: Promise<void> = (this.flushing ?? Promise.resolve())
      .then(() => this.write())
      .finally(() => { if (this.flushing === next) this.flushing = undefined })
    this.flushing = next
    return next
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  private async write(): Promise<void> {
    // Only what was buffered when the flush began: entries that arrive while a batch is being written wait
    // for the next flush. Looping until the buffer is empty would, under load, turn one flush per interval
    // into a stream of tiny batches, each paying a commit and the statistics upserts.
    let pending = this.buffer.length
    while (pending > 0) {
      const batch = this.buffer.splice(0, Math.min(BATCH, pending))
      pending -= batch.length
      // one JSON parameter per batch: JSON.stringify is far cheaper than array parameters escaped per element
      const rows = batch.map((e) => ({
        at: e.at.toISOString(), request_id: e.requestId, client_name: e.client, table_name: e.table, operation: e.operation,
        method: e.method, path: e.path, status: e.status, duration_ms: e.durationMs, cached: e.cached, api_key_id: e.apiKeyId,
        user_id: e.userId, company_id: e.companyId, organization_id: e.organizationId, sql_class: e.sqlClass,
      }))
      try {
        await this.catalog.query({
          // one statement: the log rows and the client statistics they feed commit together
          sql: `WITH input AS (SELECT * FROM json_populate_recordset(NULL::atrium.request_log, $1::json)),
                logged AS (
                  INSERT INTO atrium.request_log (at, request_id, client_name, table_name, operation, method, path, status, duration_ms, cached,
                    api_key_id, user_id, company_id, organization_id, sql_class)
                  SELECT at, request_id, client_name, table_name, operation, method, path, status, duration_ms, cached,
                    api_key_id, user_id, company_id, organization_id, sql_class
                  FROM input
                  RETURNING 1
                ),
                ${FOLD_INTO_STATISTICS}
                SELECT (SELECT count(*) FROM logged) AS logged`,
          params: [JSON.stringify(rows)],
        })
      } catch (err) {
        // put the batch back (bounded) and try again on the next tick
        this.buffer = [...batch, ...this.buffer].slice(-MAX_BUFFER)
        this.logger.warn({ err: (err as Error).message, pending: this.buffer.length }, 'request log flush failed; will retry')
        return
      }
    }
  }
}
