// Request log retention: an hourly job schedule that deletes log rows older than
// gateway.requestLogRetentionDays, in batches, run by whichever process has workers.
import type { Catalog } from '../catalog/catalog.js'
import type { Logger } from 'pino'
import type { Config } from '../config/schema.js'
import type { JobQueue } from '../jobs/job-queue.js'

/** what this module needs, passed in from boot.ts */
export interface RequestLogRetentionDeps {
  jobs: JobQueue
  config: Pick<Config, 'gateway'>
  logger: Logger
  catalog: Catalog
}

export const REQUEST_LOG_PRUNE_QUEUE = 'request-log-prune'
// hourly, so each run deletes about an hour of old rows rather than a day's at once
const SCHEDULE = '7 * * * *'
// rows per DELETE: each batch commits on its own, so no run holds locks or grows WAL for long
const BATCH = 10_000

/** schedules the pruning when a retention is set and works its jobs here; unschedules it when it is 0 */
export async function startRequestLogRetentionJob(deps: RequestLogRetentionDeps): Promise<void> {
  const { jobs, config, logger, catalog } = deps
  const days = config.gateway.requestLogRetentionDays
  if (!days) {
    // the schedule lives in the catalog, so turning retention off must remove what an earlier start created
    await jobs.unschedule(REQUEST_LOG_PRUNE_QUEUE)
    return
  }
  await jobs.define(REQUEST_LOG_PRUNE_QUEUE, async () => {
    const deleted = await pruneRequestLog(catalog, days)
    if (deleted) logger.info({ deleted, retentionDays: days }, 'old request log rows deleted')
  })
  await jobs.schedule(REQUEST_LOG_PRUNE_QUEUE, SCHEDULE)
}

/**
 * Deletes request log rows older than `days`, BATCH rows per statement, until none is left; returns how
 * many went. The client statistics keep their totals (they are added up as the log is written); only a
 * rebuild from the log, which reads the rows still there, sees fewer requests afterwards.
 */
export async function pruneRequestLog(catalog: Catalog, days: number): Promise<number> {
  let deleted = 0
  for (;;) {
    const res = await catalog.query({
      // the BRIN index on `at` finds the old rows; the primary key deletes them
      sql: `DELETE FROM atrium.request_log WHERE id IN (
              SELECT id FROM atrium.request_log WHERE at < now() - make_interval(days => $1) LIMIT $2)`,
      params: [days, BATCH],
    })
    deleted += res.affected
    if (res.affected < BATCH) return deleted
  }
}
