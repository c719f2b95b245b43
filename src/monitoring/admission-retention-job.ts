// Admission events retention (admission.retentionDays): an hourly pruning job (jobs/retention-job.ts).
import type { Config } from '../config/schema.js'
import { startRetentionJob, type RetainedTable, type RetentionDeps } from '../jobs/retention-job.js'

export const ADMISSION_PRUNE_QUEUE = 'admission-events-prune'

const ADMISSION_EVENTS: RetainedTable = { queue: ADMISSION_PRUNE_QUEUE, schedule: '17 * * * *', table: 'atrium.admission_events', timeColumn: 'at', rows: 'admission events' }

export function startAdmissionRetentionJob(deps: RetentionDeps & { config: Pick<Config, 'admission'> }): Promise<void> {
  return startRetentionJob(deps, ADMISSION_EVENTS, deps.config.admission.retentionDays)
}
