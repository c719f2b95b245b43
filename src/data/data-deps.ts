// What the data capability (reads, writes, calls, raw SQL, forwarding) needs from the process, passed in from
// boot.ts through the families that use it.
import type { RateLimits } from '../auth/rate-limits.js'
import type { Config } from '../config/schema.js'
import type { Metrics } from '../observability/metrics.js'
import type { Outbox } from '../outbox/outbox.js'
import type { ResultCache } from '../query/result-cache.js'
import type { ChangeWatch } from '../realtime/change-watch.js'
import type { RawSqlGate } from './raw-sql-gate.js'

export interface DataDeps {
  config: Pick<Config, 'gateway'>
  metrics: Metrics
  /** short-lived fetch results, invalidated by writes through Atrium */
  resultCache: ResultCache
  /** X-Publish-Event: row events written with the change */
  outbox: Outbox
  /** which tables have realtime subscribers or are captured by the database: writes to them publish change events */
  changeWatch: Pick<ChangeWatch, 'stateOf'>
  /** per-key and per-client caps on raw SQL running at once (this process) */
  rawSqlGate: RawSqlGate
  /** outbound request slots for custom_supabase upstreams */
  rateLimits: RateLimits
}
