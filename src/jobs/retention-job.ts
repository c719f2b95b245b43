// Retention of a catalog table: an hourly job schedule that deletes rows older than a number of days, in
// batches, run by whichever process has workers. The request log, admission events, the outbox's events and
// deferred requests each name their table here; none keeps a pruning loop of its own.
import type { Logger } from 'pino'
import type { Executor } from '../sources/driver.js'
import type { JobQueue } from './job-queue.js'

// rows per DELETE: each batch commits on its own, so no run holds locks or grows WAL for long
const BATCH = 10_000

export interface RetainedTable {
  /** the job queue, which is also the schedule's name */
  queue: string
  /** cron, hourly: each run deletes about an hour of old rows; tables use different minutes so their deletes do not start together */
  schedule: string
  /** the table and its timestamp column: constants of the code, never input, so they may stand in the SQL */
  table: 'atrium.request_log' | 'atrium.admission_events' | 'atrium.events' | 'atrium.deferred_requests'
  timeColumn: 'at' | 'created_at' | 'expires_at'
  /** what the log line calls the rows */
  rows: string
}

export interface RetentionDeps {
  jobs: JobQueue
  catalog: Executor
  logger: Logger
}

/** schedules the pruning when `days` is set and works its jobs here; unschedules it when `days` is 0 */
export async function startRetentionJob(deps: RetentionDeps, table: RetainedTable, days: number): Promise<void> {
  const { jobs, catalog, logger } = deps
  if (!days) {
    // the schedule lives in the catalog, so turning retention off must remove what an earlier start created
    await jobs.unschedule(table.queue)
    return
  }
  await jobs.define(table.queue, async () => {
    const deleted = await deleteOlderThan(catalog, table, days)
    if (deleted) logger.info({ deleted, retentionDays: days }, `old ${table.rows} deleted`)
  })
  await jobs.schedule(table.queue, table.schedule)
}

/** deletes the table's rows older than `days`, `batch` rows per statement, until none is left; returns how many went */
export async function deleteOlderThan(db: Executor, table: Pick<RetainedTable, 'table' | 'timeColumn'>, days: number, batch = BATCH): Promise<number> {
  let deleted = 0
  for (;;) {
    const res = await db.query({
      // an index on the timestamp (a BRIN on the request log's) finds the old rows; the primary key deletes them
      sql: `DELETE FROM ${table.table} WHERE id IN (
              SELECT id FROM ${table.table} WHERE ${table.timeColumn} < now() - make_interval(days => $1) LIMIT $2)`,
      params: [days, batch],
    })
    deleted += res.affected
    if (res.affected < batch) return deleted
  }
}
