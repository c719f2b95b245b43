// The gateway request log: entries are buffered in memory and written to atrium.request_log in batches,
// never on a request's critical path. Each batch also folds into the client statistics (client-statistics-store).
import type { Logger } from 'pino'
import type { Catalog } from './catalog.js'
import { FOLD_INTO_STATISTICS, TOTALS_OF_BATCH, totalsOf } from './client-statistics-store.js'

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
      const totals = totalsOf(batch)
      try {
        // COPY is the cheapest way into PostgreSQL (about a quarter of the server CPU per row of an INSERT fed
        // from a JSON parameter); the statistics get the batch's totals, added up here, in the same transaction
        await this.catalog.transaction(async (tx) => {
          await tx.copyFrom(COPY_SQL, batch.map(copyLine).join(''))
          await tx.query({
            sql: `WITH ${TOTALS_OF_BATCH}, ${FOLD_INTO_STATISTICS} SELECT 1`,
            params: [JSON.stringify(totals.clients), JSON.stringify(totals.tables)],
          })
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

const COPY_SQL = `COPY atrium.request_log (at, request_id, client_name, table_name, operation, method, path, status, duration_ms,
  cached, api_key_id, user_id, company_id, organization_id, sql_class) FROM STDIN`

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }
const SPECIAL = /[\\\t\n\r]/
const SPECIAL_ALL = /[\\\t\n\r]/g

/** a value in COPY's text format: \N for NULL; backslash, tab and line breaks escaped (headers can carry tabs) */
function copyText(v: string | null): string {
  if (v === null) return '\\N'
  return SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (c) => COPY_ESCAPES[c]) : v
}

/** one entry as a line of COPY's text format, in COPY_SQL's column order */
function copyLine(e: RequestLogEntry): string {
  return `${e.at.toISOString()}\t${copyText(e.requestId)}\t${copyText(e.client)}\t${copyText(e.table)}\t${copyText(e.operation)}\t${copyText(e.method)}\t${copyText(e.path)}\t${e.status}\t${e.durationMs}\t${e.cached ? 't' : 'f'}\t${copyText(e.apiKeyId)}\t${copyText(e.userId)}\t${copyText(e.companyId)}\t${copyText(e.organizationId)}\t${copyText(e.sqlClass)}\n`
}
