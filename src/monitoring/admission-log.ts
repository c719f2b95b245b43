// Admission events: every refused request (the codes in ADMISSION_KINDS) is buffered in memory and written to
// atrium.admission_events in batches, never on the request's critical path, each batch together with its
// `admission.refused` outbox events in one catalog transaction. The buffer is bounded: refusals past it are
// dropped and counted.
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import type { ErrorCode } from '../errors/codes.js'
import type { Outbox } from '../outbox/outbox.js'
import type { NewEvent } from '../outbox/events.js'
import { insertAdmissionEvents, type AdmissionEventRow } from './admission-event-store.js'
import { SerialRuns } from './serial-runs.js'

/** the refusals that are admission decisions: who may call, how often, how long, how many at once */
export const ADMISSION_KINDS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'missing_api_key', 'invalid_api_key', 'expired_api_key', 'inactive_api_key', 'admin_key_required',
  'client_not_allowed', 'key_locked_in', 'missing_right', 'ip_not_allowed', 'rate_limited', 'client_frozen',
  'invalid_session_token', 'expired_session_token', 'request_timeout', 'too_many_concurrent_queries',
  // platform keys (the Databases API): a missing scope, a key expired by inactivity, the monthly quota
  'missing_scope', 'inactive_key_expired', 'monthly_quota_exceeded',
])

/** one refusal, as recorded (field names as the listing and the event show them) */
export type AdmissionEntry = {
  at: Date
  /** the error code the caller got */
  kind: string
  client: string | null
  /** the public id of the presented API key, never its secret */
  key_id: string | null
  /** a verified session's subject */
  user: string | null
  ip: string | null
  method: string
  route: string | null
  operation: string | null
  status: number
  request_id: string | null
  detail: string | null
}

/** version 1 of a refused request, published with the batch that records it */
export type AdmissionRefusedV1 = { type: 'admission.refused'; version: 1 } & AdmissionEventRow

// rows (and events) per transaction
const BATCH = 500

export interface AdmissionLogOptions {
  catalog: Catalog
  outbox: Pick<Outbox, 'writeMany' | 'committed'>
  settings: { flushMs: number; bufferSize: number }
  logger: Logger
  /** counts refusals not recorded because the buffer was full */
  onDrop?: (n: number) => void
}

export class AdmissionLog {
  private buffer: AdmissionEntry[] = []
  private timer: NodeJS.Timeout | undefined
  private readonly flushes = new SerialRuns()
  dropped = 0

  constructor(private readonly opts: AdmissionLogOptions) {}

  start(): void {
    const every = this.opts.settings.flushMs
    if (every <= 0 || this.timer) return
    // a tick while a write is still running is skipped: during a catalog outage, ticks must not pile up
    this.timer = setInterval(() => { if (!this.flushes.busy) void this.flush() }, every)
    this.timer.unref()
  }

  /** keeps a refusal for the next flush; drops it (counted) when the buffer is full */
  record(entry: AdmissionEntry): void {
    if (this.buffer.length >= this.opts.settings.bufferSize) {
      this.dropped++
      this.opts.onDrop?.(1)
      return
    }
    this.buffer.push(entry)
  }

  /** writes everything recorded so far (one transaction per batch) */
  flush(): Promise<void> {
    return this.flushes.run(() => this.write())
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  private async write(): Promise<void> {
    // only what was recorded when the flush began; later refusals wait for the next tick
    const taken = this.buffer
    this.buffer = []
    const { catalog, outbox, logger } = this.opts
    for (let i = 0; i < taken.length; i += BATCH) {
      const batch = taken.slice(i, i + BATCH)
      try {
        await catalog.transaction(async (tx) => {
          const rows = await insertAdmissionEvents(tx, batch)
          // the events last: from here to the commit the transaction holds the outbox's id-order lock
          await outbox.writeMany(tx, rows.map((row): NewEvent<AdmissionRefusedV1> => ({
            payload: { type: 'admission.refused', version: 1, ...row },
            source: row.client,
            requestId: row.request_id,
          })))
        })
        outbox.committed()
      } catch (err) {
        // put what is left back ahead of newer refusals, within the bound, and try again on the next tick
        const left = taken.slice(i)
        const room = Math.max(this.opts.settings.bufferSize - this.buffer.length, 0)
        const kept = left.slice(0, room)
        if (left.length > kept.length) {
          this.dropped += left.length - kept.length
          this.opts.onDrop?.(left.length - kept.length)
        }
        this.buffer = [...kept, ...this.buffer]
        logger.warn({ err: (err as Error).message, pending: this.buffer.length }, 'admission events flush failed; will retry')
        return
      }
    }
  }
}
