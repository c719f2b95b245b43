// The gateway request log: entries are written to atrium.request_log in batches, never on a request's
// critical path. Entries are turned into COPY lines a small group at a time and kept as bytes outside the
// JavaScript heap, with the batch's statistics totals added up alongside (client-statistics-store): holding
// thousands of entry objects for up to a flush interval cost more, in garbage collection, than the rest of
// the log. Each batch folds into the client statistics in the transaction that writes it.
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import { formatMs } from '../observability/format-ms.js'
import { FOLD_INTO_STATISTICS, StatisticsTotals, TOTALS_OF_BATCH } from './client-statistics-store.js'
import { SerialRuns } from './serial-runs.js'

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
  /** the columns a structured read filtered on (top-level AND conditions), a JSON array of names: the query's shape for index advice */
  filterColumns?: string | null
}

// Entries are turned into lines a few dozen at a time: one tight loop over a group costs less than the same
// work spread over every request, and a group is small enough to be gone before a young-generation GC.
const GROUP = 64
// Bounded so a catalog outage cannot grow memory without limit; the oldest batches go first.
const MAX_BUFFER = 50_000
// Lines per batch (one COPY and one statistics fold in one transaction), and the bytes a batch starts with.
const BATCH = 1_000
const BATCH_BYTES = 256 * 1024

/** up to BATCH log lines in COPY's text format, and what they add to the statistics */
class Batch {
  used = 0
  lines = 0
  readonly totals = new StatisticsTotals()
  constructor(readonly bytes: Buffer) {}
}

export class RequestLog {
  /** batches waiting to be written, oldest first; entries go into the last one */
  private batches: Batch[] = []
  /** entries not yet turned into lines (fewer than GROUP) */
  private waiting: RequestLogEntry[] = []
  /** buffers of written batches, reused by new batches */
  private spare: Buffer[] = []
  private timer: NodeJS.Timeout | undefined
  private readonly flushes = new SerialRuns()
  dropped = 0

  constructor(
    private readonly catalog: Catalog,
    private readonly flushMs: number,
    private readonly logger: Logger,
    private readonly onDrop: (reason: 'overflow' | 'unwritable', lines: number) => void = () => {},
  ) {}

  start(): void {
    if (this.flushMs <= 0 || this.timer) return
    // a tick while a write is still running is skipped: during a catalog outage, ticks must not pile up
    this.timer = setInterval(() => { if (!this.flushes.busy) void this.flush() }, this.flushMs)
    this.timer.unref()
  }

  record(entry: RequestLogEntry): void {
    if (this.waiting.push(entry) >= GROUP) this.lineUp()
  }

  /** turns the waiting entries into lines of the current batch, adding them to its statistics */
  private lineUp(): void {
    const entries = this.waiting
    this.waiting = []
    for (const entry of entries) {
      const line = copyLine(entry)
      const batch = this.batchWithRoomFor(line)
      batch.used += batch.bytes.write(line, batch.used)
      batch.lines++
      batch.totals.add(entry)
    }
  }

  /** writes everything logged so far (one transaction per batch) */
  flush(): Promise<void> {
    return this.flushes.run(() => this.write())
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  /** the newest batch, unless it is full or has too few bytes left for `line`; then a new one */
  private batchWithRoomFor(line: string): Batch {
    const last = this.batches[this.batches.length - 1]
    if (last && last.lines < BATCH) {
      const free = last.bytes.length - last.used
      // UTF-8 takes at most 3 bytes per UTF-16 unit: the exact length is only counted when that bound does not fit
      if (free >= line.length * 3 || free >= Buffer.byteLength(line)) return last
    }
    return this.startBatch(Buffer.byteLength(line))
  }

  private startBatch(minBytes: number): Batch {
    const spare = minBytes <= BATCH_BYTES ? this.spare.pop() : undefined
    const batch = new Batch(spare ?? Buffer.allocUnsafe(Math.max(BATCH_BYTES, minBytes)))
    this.batches.push(batch)
    this.dropOldest()
    return batch
  }

  private dropOldest(): void {
    let lines = 0
    for (const b of this.batches) lines += b.lines
    while (lines > MAX_BUFFER && this.batches.length > 1) {
      const gone = this.batches.shift()!
      lines -= gone.lines
      this.dropped += gone.lines
      this.onDrop('overflow', gone.lines)
    }
  }

  private async write(): Promise<void> {
    this.lineUp()
    // Only what was logged when the flush began: entries that arrive while a batch is being written wait for
    // the next flush. Looping until nothing is left would, under load, turn one flush per interval into a
    // stream of tiny batches, each paying a commit and the statistics upserts.
    const taken = this.batches
    this.batches = []
    for (let i = 0; i < taken.length; i++) {
      const batch = taken[i]
      if (batch.lines === 0) continue
      try {
        // COPY is the cheapest way into PostgreSQL (about a quarter of the server CPU per row of an INSERT fed
        // from a JSON parameter); the statistics get the batch's totals in the same transaction
        const totals = totalsParams(batch.totals)
        await this.catalog.transaction(async (tx) => {
          await tx.copyFrom(COPY_SQL, batch.bytes.subarray(0, batch.used))
          await tx.query({ sql: FOLD_SQL, params: totals })
        })
      } catch (err) {
        if (isDataError(err)) {
          // Retrying a line the catalog refuses would stop the log for good: the good lines are written and
          // the bad ones dropped, counted and reported.
          await this.writeLineByLine(batch)
          if (batch.bytes.length === BATCH_BYTES && this.spare.length < 4) this.spare.push(batch.bytes)
          continue
        }
        // put this batch and the ones after it back, ahead of newer ones, and try again on the next tick
        this.batches = [...taken.slice(i), ...this.batches]
        this.dropOldest()
        this.logger.warn({ err: (err as Error).message, pending: this.batches.reduce((n, b) => n + b.lines, 0) }, 'request log flush failed; will retry')
        return
      }
      if (batch.bytes.length === BATCH_BYTES && this.spare.length < 4) this.spare.push(batch.bytes)
    }
  }

  /**
   * A batch the catalog refused as data: written in halves until the refused lines are found, each half in
   * its own transaction, then its statistics folded on their own (they may count a dropped line).
   */
  private async writeLineByLine(batch: Batch): Promise<void> {
    const lines = splitLines(batch.bytes.subarray(0, batch.used))
    let dropped = 0
    const writePart = async (part: Buffer[]): Promise<void> => {
      try {
        await this.catalog.transaction((tx) => tx.copyFrom(COPY_SQL, Buffer.concat(part)))
      } catch (err) {
        if (!isDataError(err)) throw err
        if (part.length === 1) {
          dropped++
          return
        }
        const half = Math.ceil(part.length / 2)
        await writePart(part.slice(0, half))
        await writePart(part.slice(half))
      }
    }
    try {
      await writePart(lines)
      await this.catalog.transaction((tx) => tx.query({ sql: FOLD_SQL, params: totalsParams(batch.totals) })).catch((err) => {
        if (!isDataError(err)) throw err
        this.logger.warn({ err: (err as Error).message }, 'request log: the statistics of a batch could not be folded; they were dropped')
      })
    } catch (err) {
      // the catalog went away part way: what was not written yet is lost rather than written twice
      this.logger.warn({ err: (err as Error).message }, 'request log: the catalog failed while a refused batch was being split')
    }
    if (dropped) {
      this.dropped += dropped
      this.onDrop('unwritable', dropped)
      this.logger.warn({ dropped }, 'request log: lines the catalog refused were dropped')
    }
  }
}

const FOLD_SQL = `WITH ${TOTALS_OF_BATCH}, ${FOLD_INTO_STATISTICS} SELECT 1`

/** the statistics as the two JSON parameters of FOLD_SQL; a NUL (which no text column holds) becomes U+FFFD */
function totalsParams(totals: StatisticsTotals): [string, string] {
  const rows = totals.rows()
  const clean = (json: string) => (json.includes('\\u0000') ? json.replaceAll('\\u0000', '\\ufffd') : json)
  return [clean(JSON.stringify(rows.clients)), clean(JSON.stringify(rows.tables))]
}

/** SQLSTATE classes that say the data was refused (cardinality, data exception, integrity), not the catalog unreachable */
function isDataError(err: unknown): boolean {
  const sqlstate = (err as { extra?: { sqlstate?: string }; code?: string })?.extra?.sqlstate ?? (err as { code?: string })?.code
  return typeof sqlstate === 'string' && /^(21|22|23)/.test(sqlstate)
}

/** a batch's COPY text split into its lines (each ends with a raw newline; newlines in values are escaped) */
function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = []
  let start = 0
  for (let nl = bytes.indexOf(10, start); nl >= 0; nl = bytes.indexOf(10, start)) {
    lines.push(bytes.subarray(start, nl + 1))
    start = nl + 1
  }
  if (start < bytes.length) lines.push(bytes.subarray(start))
  return lines
}

// The columns that change from request to request come first; the rest of a line is the same for most requests
// of one route, client and key, and is reused from the previous line when it is (see lineTail).
const COPY_SQL = `COPY atrium.request_log (at, request_id, status, duration_ms, cached, client_name, table_name, operation,
  method, path, api_key_id, user_id, company_id, organization_id, sql_class, filter_columns) FROM STDIN`

// COPY's text format cannot carry a NUL at all (the column is text): it becomes U+FFFD, the replacement character
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\u0000': '\ufffd' }
const SPECIAL_ALL = /[\\\t\n\r\u0000]/g

/** true when the text has nothing COPY's text format escapes (a loop: a regular expression per value cost more) */
function plain(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c === 92 || c === 9 || c === 10 || c === 13 || c === 0) return false
  }
  return true
}

/** a value in COPY's text format: \N for NULL; backslash, tab and line breaks escaped (headers can carry tabs), NUL replaced */
function copyText(v: string | null): string {
  if (v === null) return '\\N'
  return plain(v) ? v : v.replace(SPECIAL_ALL, (c) => COPY_ESCAPES[c])
}

// Under load several requests end in the same millisecond: its ISO text is built once.
let isoMs = Number.NaN
let isoText = ''
function isoTime(at: Date): string {
  const ms = at.getTime()
  if (ms !== isoMs) {
    isoMs = ms
    isoText = at.toISOString()
  }
  return isoText
}

// The previous line's tail and the entry it was built from.
let tailEntry: RequestLogEntry | undefined
let tailText = ''

/** the columns from client_name on, in COPY's text format: the previous line's when every value is the same */
function lineTail(e: RequestLogEntry): string {
  const t = tailEntry
  if (t && t.client === e.client && t.table === e.table && t.operation === e.operation && t.method === e.method && t.path === e.path
    && t.apiKeyId === e.apiKeyId && t.userId === e.userId && t.companyId === e.companyId && t.organizationId === e.organizationId && t.sqlClass === e.sqlClass
    && t.filterColumns === e.filterColumns) {
    return tailText
  }
  tailEntry = e
  tailText = `${copyText(e.client)}\t${copyText(e.table)}\t${copyText(e.operation)}\t${copyText(e.method)}\t${copyText(e.path)}\t${copyText(e.apiKeyId)}\t${copyText(e.userId)}\t${copyText(e.companyId)}\t${copyText(e.organizationId)}\t${copyText(e.sqlClass)}\t${copyText(e.filterColumns ?? null)}\n`
  return tailText
}

/** one entry as a line of COPY's text format, in COPY_SQL's column order */
function copyLine(e: RequestLogEntry): string {
  return `${isoTime(e.at)}\t${copyText(e.requestId)}\t${e.status}\t${formatMs(e.durationMs, 3)}\t${e.cached ? 't' : 'f'}\t${lineTail(e)}`
}
