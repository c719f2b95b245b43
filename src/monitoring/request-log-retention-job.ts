// Request log retention (gateway.requestLogRetentionDays): an hourly pruning job (jobs/retention-job.ts). The
// client statistics keep their totals (they are added up as the log is written); only a rebuild from the log,
// which reads the rows still there, sees fewer requests afterwards.
import type { Config } from '../config/schema.js'
import { startRetentionJob, type RetainedTable, type RetentionDeps } from '../jobs/retention-job.js'

export const REQUEST_LOG_PRUNE_QUEUE = 'request-log-prune'

const REQUEST_LOG: RetainedTable = { queue: REQUEST_LOG_PRUNE_QUEUE, schedule: '7 * * * *', table: 'atrium.request_log', timeColumn: 'at', rows: 'request log rows' }

export function startRequestLogRetentionJob(deps: RetentionDeps & { config: Pick<Config, 'gateway'> }): Promise<void> {
  return startRetentionJob(deps, REQUEST_LOG, deps.config.gateway.requestLogRetentionDays)
}
